"""CKV_AEGIS_4: a launch template encrypts every EBS volume with the model-data CMK.

GPU fleet volumes hold model weights and cached inference inputs. checkov has no check for EBS
encryption inside launch-template block device mappings, and account-level default encryption can
be switched off by anyone with ec2:DisableEbsEncryptionByDefault, so the template itself must say
`encrypted = true` with the model class's CMK on every EBS mapping. A template with no EBS mapping
fails: its root volume would depend on the AMI and account defaults (not judged).
Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, block, blocks, is_true, key_problem, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, block, blocks, is_true, key_problem, value


class LaunchTemplateEbsCmk(AegisCheck):
    # Aegis's naming conventions decide it (the data classes of its keys): run on Aegis's own output only.
    aegis_output_only = True

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_4", "Launch template encrypts every EBS volume with the model-data CMK",
            ["aws_launch_template"], [CheckCategories.ENCRYPTION, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        self.evaluated_keys = ["block_device_mappings"]
        mappings = [m for m in blocks(conf, "block_device_mappings") if block(m, "ebs") is not None]
        if not mappings:
            return self.fail("no EBS block device mapping: volume encryption is left to AMI and account defaults")
        for mapping in mappings:
            device = value(mapping, "device_name", "?")
            ebs = block(mapping, "ebs")
            if not is_true(value(ebs, "encrypted")):
                return self.fail(f"EBS volume {device} is not encrypted (encrypted must be true)")
            problem = key_problem(value(ebs, "kms_key_id"), "model", f"EBS volume {device}")
            if problem:
                return self.fail(problem)
        return CheckResult.PASSED


check = LaunchTemplateEbsCmk()
