"""CKV_AEGIS_11: every IAM role carries a permission boundary.

The boundary (modules/boundary.py) caps every role of an environment: only the services the AI
platform uses, only the environment's regions, no long-lived credentials, no boundary escape.
A role without it is uncapped whatever its own policies say. Service-linked roles are a different
resource type and are not judged. A boundary given by a variable or another expression the check
cannot resolve (`var.permissions_boundary`) could not be evaluated; a reference to a policy resource's
ARN (`aws_iam_policy.boundary.arn`, `${...}`) passes. Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, is_reference, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, is_reference, value

POLICY_ARN_REFERENCE = re.compile(r"^aws_iam_policy\.[\w-]+(\[[^]]*\])?\.arn$")  # HCL, as checkov leaves it


class IamRolePermissionBoundary(AegisCheck):
    def __init__(self) -> None:
        super().__init__("CKV_AEGIS_11", "IAM role has a permission boundary",
                         ["aws_iam_role"], [CheckCategories.IAM])

    def evaluate(self, conf):
        self.evaluated_keys = ["permissions_boundary"]
        boundary = value(conf, "permissions_boundary")
        if not isinstance(boundary, str) or not boundary.strip():
            return self.fail("the role has no permissions_boundary")
        if POLICY_ARN_REFERENCE.match(boundary.strip()):
            return CheckResult.PASSED
        if "${" not in boundary and is_reference(boundary):
            return self.not_evaluated(f"permissions_boundary is {boundary}, which this check cannot resolve")
        if not (boundary.startswith("arn:aws") and ":policy/" in boundary) and "${" not in boundary:
            return self.fail(f"permissions_boundary {boundary!r} is not a policy ARN")
        return CheckResult.PASSED


check = IamRolePermissionBoundary()
