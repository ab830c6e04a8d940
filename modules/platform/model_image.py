"""A model's container image repository: KMS (model key), scan on push, immutable tags, lifecycle."""
from __future__ import annotations

import json

from constructs import Construct

from modules import aws
from modules.platform.context import PlatformContext

UNTAGGED_EXPIRY_DAYS = 14
# Tagged images are never expired automatically: a running endpoint or fleet may still launch from one.
LIFECYCLE_POLICY = json.dumps({"rules": [{
    "rulePriority": 1,
    "description": f"Expire untagged images after {UNTAGGED_EXPIRY_DAYS} days",
    "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                  "countNumber": UNTAGGED_EXPIRY_DAYS},
    "action": {"type": "expire"},
}]}, sort_keys=True)


class ModelImageRepository(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, model_name: str):
        super().__init__(scope, construct_id)
        m = aws.ecr_repository
        self.repository = m.EcrRepository(
            self, "repository", name=ctx.naming.model_resource(model_name), image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=m.EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[m.EcrRepositoryEncryptionConfiguration(
                encryption_type="KMS", kms_key=ctx.keys.model)],
            force_delete=False, tags={"Model": model_name})
        aws.ecr_lifecycle_policy.EcrLifecyclePolicy(
            self, "lifecycle", repository=self.repository.name, policy=LIFECYCLE_POLICY)

    @property
    def arn(self) -> str:
        return self.repository.arn

    def image(self, tag: str) -> str:
        return f"{self.repository.repository_url}:{tag}"
