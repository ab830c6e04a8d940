"""A container model's image repository: KMS (model key), scan on push, immutable tags, lifecycle.

It belongs to `<env>-data`, applied before `<env>-platform`: images are published into it between
the two (README "Publishing a model"), so it exists before anything is planned that pulls from it.
The platform stack names it by convention (`Naming.model_repository`) and verifies the image it
serves by digest when it is planned (modules/platform/published.py).
"""
from __future__ import annotations

import json

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from modules import aws

UNTAGGED_EXPIRY_DAYS = 14
# Tagged images are never expired automatically: a running endpoint or fleet may still launch from one.
LIFECYCLE_POLICY = json.dumps({"rules": [{
    "rulePriority": 1,
    "description": f"Expire untagged images after {UNTAGGED_EXPIRY_DAYS} days",
    "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                  "countNumber": UNTAGGED_EXPIRY_DAYS},
    "action": {"type": "expire"},
}]}, sort_keys=True)


class ModelRepository(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name: str, model_name: str, kms_key_arn: str,
                 prevent_destroy: bool):
        super().__init__(scope, construct_id)
        m = aws.ecr_repository
        self.repository = m.EcrRepository(
            self, "repository", name=name, image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=m.EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[m.EcrRepositoryEncryptionConfiguration(
                encryption_type="KMS", kms_key=kms_key_arn)],
            force_delete=False, tags={"Model": model_name},
            lifecycle=TerraformResourceLifecycle(prevent_destroy=True) if prevent_destroy else None)
        aws.ecr_lifecycle_policy.EcrLifecyclePolicy(
            self, "lifecycle", repository=self.repository.name, policy=LIFECYCLE_POLICY)
