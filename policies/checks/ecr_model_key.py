"""CKV_AEGIS_15: model image repositories are KMS-encrypted with the model-data key.

An inference image bakes in model code and often weights: it is model data. ECR encrypts with
AES256 by default (checkov's CKV_AWS_136 only asks for KMS); the repository must use KMS with the
model class's CMK so access follows the model key policy. An unresolvable key reference fails
(not judged). Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, block, key_problem, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, block, key_problem, value


class EcrModelKey(AegisCheck):
    # Aegis's naming conventions decide it (the data classes of its keys): run on Aegis's own output only.
    aegis_output_only = True

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_15", "ECR repository is encrypted with the model-data KMS key",
            ["aws_ecr_repository"], [CheckCategories.ENCRYPTION, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        self.evaluated_keys = ["encryption_configuration"]
        encryption = block(conf, "encryption_configuration")
        if encryption is None or value(encryption, "encryption_type") != "KMS":
            return self.fail("the repository is not KMS-encrypted (encryption_type must be KMS)")
        problem = key_problem(value(encryption, "kms_key"), "model", "encryption_configuration.kms_key")
        return self.fail(problem) if problem else CheckResult.PASSED


check = EcrModelKey()
