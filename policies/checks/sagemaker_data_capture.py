"""CKV_AEGIS_2: real-time SageMaker endpoints capture request and response data, encrypted.

Captured inference data is the evidence for model monitoring (drift, abuse, incident review), and it
is inference data, so it is written to S3 encrypted with the inference-data key.
Required: a `data_capture_config` that is enabled, samples > 0 %, captures both Input and Output,
writes to the project's inference bucket and names the inference key.
Not applicable (UNKNOWN) when every production variant is serverless: AWS does not support data
capture there. Not environment-dependent. An unresolvable key reference fails.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, as_int, block, blocks, is_false, key_problem, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, as_int, block, blocks, is_false, key_problem, value


# Captured data is inference data: it belongs in the inference bucket (modules/naming.py bucket names).
INFERENCE_BUCKET = re.compile(r"^s3://[a-z0-9-]+-inference-\d{12}-[a-z0-9-]+(/|$)")


class SageMakerDataCapture(AegisCheck):
    # Aegis's naming conventions decide it (the data classes of its keys): run on Aegis's own output only.
    aegis_output_only = True

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_2", "SageMaker endpoint captures inference data, encrypted with the inference-data key",
            ["aws_sagemaker_endpoint_configuration"],
                         [CheckCategories.LOGGING, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        variants = blocks(conf, "production_variants")
        if variants and all(block(v, "serverless_config") is not None for v in variants):
            return self.not_applicable()
        self.evaluated_keys = ["data_capture_config"]
        capture = block(conf, "data_capture_config")
        if capture is None:
            return self.fail("no data_capture_config: inference requests and responses are not captured")
        if is_false(value(capture, "enable_capture")):
            return self.fail("data capture is disabled (enable_capture = false)")
        sampling = as_int(value(capture, "initial_sampling_percentage"))
        if sampling is None or sampling <= 0:
            return self.fail("initial_sampling_percentage must be a literal percentage above 0")
        modes = {str(value(o, "capture_mode")) for o in blocks(capture, "capture_options")}
        if not {"Input", "Output"} <= modes:
            return self.fail(f"capture_options must capture Input and Output (have: {sorted(modes)})")
        destination = value(capture, "destination_s3_uri")
        if not isinstance(destination, str) or not INFERENCE_BUCKET.match(destination):
            return self.fail(f"destination_s3_uri {destination!r} is not in the project's inference bucket "
                             "(s3://<project>-<env>-inference-<account>-<region>/...)")
        problem = key_problem(value(capture, "kms_key_id"), "inference", "data capture kms_key_id")
        if problem:
            return self.fail(problem)
        return CheckResult.PASSED


check = SageMakerDataCapture()
