"""CKV_AEGIS_3: a SageMaker model loads its artifacts only from the project's model-artifacts bucket
and its container image only from private Amazon ECR.

Model supply chain: the model-artifacts bucket is versioned, object-locked and encrypted with the
model key, so weights served from anywhere else bypass that integrity control; images from outside
ECR (`repository_access_mode = Vpc`, another registry) bypass image scanning and immutable tags.
Model packages (`model_package_name`) cannot be traced to an artifact here and fail (not judged),
as do references that cannot be resolved to a bucket or an ECR repository of this stack.
Not environment-dependent.
"""
import re

from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, block, blocks, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, block, blocks, value

ECR_IMAGE = re.compile(r"^(\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[^\s]+"
                       r"|\$\{aws_ecr_repository\.[\w-]+\.repository_url\}[:@][^\s]+)$")
# modules/naming.py: `<project>-<env>-model-artifacts-<account>-<region>`
MODEL_BUCKET_URI = re.compile(r"^s3://[a-z0-9-]+-model-artifacts-\d{12}-[a-z0-9-]+/")


class SageMakerModelProvenance(AegisCheck):
    # Aegis's naming conventions decide it (the project's bucket and repository names): run on Aegis's own output only.
    aegis_output_only = True

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_3", "SageMaker model artifacts come from the project's model bucket and images from private ECR",
            ["aws_sagemaker_model"], [CheckCategories.SUPPLY_CHAIN, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        containers = blocks(conf, "primary_container") + blocks(conf, "container")
        self.evaluated_keys = ["primary_container", "container"]
        if not containers:
            return self.fail("the model defines no container")
        for container in containers:
            problem = self._container_problem(container)
            if problem:
                return self.fail(problem)
        return CheckResult.PASSED

    @staticmethod
    def _container_problem(container: dict) -> str | None:
        if value(container, "model_package_name"):
            return "model_package_name is used: the artifact's provenance cannot be verified"
        image = value(container, "image")
        if not isinstance(image, str) or not ECR_IMAGE.match(image):
            return f"image {image!r} is not a private Amazon ECR image"
        if value(block(container, "image_config"), "repository_access_mode") == "Vpc":
            return "image_config uses a private registry outside ECR (repository_access_mode = Vpc)"
        uris = [value(container, "model_data_url")]
        for source in blocks(container, "model_data_source") + blocks(container, "additional_model_data_source"):
            uris += [value(s3, "s3_uri") for s3 in blocks(source, "s3_data_source")]
        for uri in uris:
            if uri is None:
                continue
            if not isinstance(uri, str) or not MODEL_BUCKET_URI.match(uri):
                return f"model data {uri!r} is not in the project's model-artifacts bucket"
        return None


check = SageMakerModelProvenance()
