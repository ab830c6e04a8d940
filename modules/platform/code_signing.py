"""Lambda code signing: an AWS Signer profile, a code-signing config that enforces it, and the
signing of the deterministic function zip.

The zip is uploaded (content-addressed) under the model's prefix of the code bucket, Signer signs
that exact object version, and the function deploys the signed copy. The code bucket has no Object
Lock: a code change replaces the object, and Terraform cannot delete a locked version (Object Lock
default retention applies to a whole bucket, so the locked model-artifacts bucket cannot hold it). Lambda refuses any code not signed by this profile (`Enforce`).
"""
from __future__ import annotations

import functools

from constructs import Construct

from modules import aws
from modules.platform.context import PlatformContext

SIGNATURE_VALIDITY_MONTHS = 60
CODE_BUCKET = "code"


class CodeSigning(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext):
        super().__init__(scope, construct_id)
        self.ctx = ctx
        p = aws.signer_signing_profile
        # Signer profile names allow letters, digits and underscores only.
        self.profile = p.SignerSigningProfile(
            self, "profile", name=ctx.naming.prefix.replace("-", "_") + "_lambda",
            platform_id="AWSLambda-SHA384-ECDSA",
            signature_validity_period=p.SignerSigningProfileSignatureValidityPeriod(
                type="MONTHS", value=SIGNATURE_VALIDITY_MONTHS))
        c = aws.lambda_code_signing_config
        self.config = c.LambdaCodeSigningConfig(
            self, "config", description=f"{ctx.naming.prefix}: only code signed by the project's Signer profile",
            allowed_publishers=c.LambdaCodeSigningConfigAllowedPublishers(
                signing_profile_version_arns=[self.profile.version_arn]),
            policies=c.LambdaCodeSigningConfigPolicies(untrusted_artifact_on_deployment="Enforce"))

    # Read once: every signed function names them (each attribute read is a jsii round trip).
    @functools.cached_property
    def config_arn(self) -> str:
        return self.config.arn

    @functools.cached_property
    def profile_name(self) -> str:
        return self.profile.name

    def signed_code(self, scope: Construct, construct_id: str, *, model_name: str, artifact_prefix: str,
                    asset_path: str, digest: str) -> tuple[str, str]:
        """Upload the zip, sign it, and return (bucket, key) of the signed object."""
        bucket = self.ctx.bucket(CODE_BUCKET)
        upload = aws.s3_object.S3Object(
            scope, f"{construct_id}-unsigned", bucket=bucket, key=f"{artifact_prefix}code/{digest}.zip",
            source=asset_path, content_type="application/zip", server_side_encryption="aws:kms",
            kms_key_id=self.ctx.keys.model, bucket_key_enabled=True,
            checksum_algorithm="SHA256", tags={"Model": model_name})
        j = aws.signer_signing_job
        job = j.SignerSigningJob(
            scope, f"{construct_id}-signing", profile_name=self.profile_name,
            source=j.SignerSigningJobSource(s3=j.SignerSigningJobSourceS3(
                bucket=bucket, key=upload.key, version=upload.version_id)),
            destination=j.SignerSigningJobDestination(s3=j.SignerSigningJobDestinationS3(
                bucket=bucket, prefix=f"{artifact_prefix}code/signed/")),
            ignore_signing_job_failure=False)
        # The signed copy's location, as Terraform expressions on the job: one read of its address instead
        # of the six jsii round trips of `job.signed_object.get(0).s3.get(0).bucket` and `.key`.
        signed = f"{job.fqn}.signed_object[0].s3[0]"
        return f"${{{signed}.bucket}}", f"${{{signed}.key}}"
