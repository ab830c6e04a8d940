"""CKV_AEGIS_11: every IAM role carries a permission boundary.

The boundary (modules/boundary.py) caps every role of an environment: only the services the AI
platform uses, only the environment's regions, no long-lived credentials, no boundary escape.
A role without it is uncapped whatever its own policies say. Service-linked roles are a different
resource type and are not judged. Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, value


class IamRolePermissionBoundary(AegisCheck):
    def __init__(self) -> None:
        super().__init__("CKV_AEGIS_11", "IAM role has a permission boundary",
                         ["aws_iam_role"], [CheckCategories.IAM])

    def evaluate(self, conf):
        self.evaluated_keys = ["permissions_boundary"]
        boundary = value(conf, "permissions_boundary")
        if not isinstance(boundary, str) or not boundary.strip():
            return self.fail("the role has no permissions_boundary")
        if not (boundary.startswith("arn:aws") and ":policy/" in boundary) and "${" not in boundary:
            return self.fail(f"permissions_boundary {boundary!r} is not a policy ARN")
        return CheckResult.PASSED


check = IamRolePermissionBoundary()
