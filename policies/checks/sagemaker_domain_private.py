"""CKV_AEGIS_43: a SageMaker Studio domain keeps its traffic in the VPC and encrypts with the training key.

`PublicInternetOnly` (the API's default) sends Studio's non-EFS traffic through a SageMaker-managed
VPC with direct internet access, around the environment's endpoints, flow logs and egress controls;
`VpcOnly` sends all of it through the domain's own subnets. Without `kms_key_id`, the home file
system and the apps' volumes are encrypted with an AWS managed key whose policy nobody controls; the
domain holds notebooks and training data, so the key is the training class's.
Not environment-dependent. A key reference that cannot be mapped to a class fails (not judged).
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, key_problem, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, key_problem, value


class SageMakerDomainPrivate(AegisCheck):
    def __init__(self) -> None:
        super().__init__("CKV_AEGIS_43", "SageMaker Studio domain is VPC-only and encrypted with the training key",
                         ["aws_sagemaker_domain"], [CheckCategories.NETWORKING, CheckCategories.ENCRYPTION,
                                                    CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        self.evaluated_keys = ["app_network_access_type", "kms_key_id"]
        access = value(conf, "app_network_access_type")
        if access != "VpcOnly":
            return self.fail(f"app_network_access_type is {access or 'unset (PublicInternetOnly)'}: Studio traffic "
                             "bypasses the VPC; set VpcOnly")
        problem = key_problem(value(conf, "kms_key_id"), "training", "kms_key_id")
        if problem:
            return self.fail(problem)
        return CheckResult.PASSED


check = SageMakerDomainPrivate()
