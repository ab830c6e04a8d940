"""CKV_AEGIS_1: a SageMaker endpoint configuration is encrypted with the inference-data key.

checkov's CKV_AWS_98 accepts any key. Inference traffic and the ML storage volumes hold inference
data, so the key must be the inference class's CMK, not the training or audit key. An asynchronous
inference output location, when configured, must use the same key.
Not environment-dependent. A key reference that cannot be mapped to a class fails (not judged).
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, block, key_problem, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, block, key_problem, value


class SageMakerEndpointConfigInferenceKey(AegisCheck):
    # Aegis's naming conventions decide it (the data classes of its keys): run on Aegis's own output only.
    aegis_output_only = True

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_1", "SageMaker endpoint configuration is encrypted with the inference-data KMS key",
            ["aws_sagemaker_endpoint_configuration"],
                         [CheckCategories.ENCRYPTION, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        self.evaluated_keys = ["kms_key_arn", "async_inference_config/[0]/output_config/[0]/kms_key_id"]
        problem = key_problem(value(conf, "kms_key_arn"), "inference", "kms_key_arn")
        if problem:
            return self.fail(problem)
        output = block(block(conf, "async_inference_config"), "output_config")
        if output is not None:
            problem = key_problem(value(output, "kms_key_id"), "inference", "async output kms_key_id")
            if problem:
                return self.fail(problem)
        return CheckResult.PASSED


check = SageMakerEndpointConfigInferenceKey()
