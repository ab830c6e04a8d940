"""`serving: lambda` — the reference inference function, event-driven (S3) and optionally synchronous.

The function runs in the private subnets with X-Ray tracing, its environment encrypted with the
inference key, reserved concurrency, a KMS-encrypted SQS dead-letter queue, and (in prod) code
signing. It is published; the `live` alias is what S3 notifications, the function URL and
provisioned-concurrency autoscaling point at. The S3 trigger itself is one bucket notification for
all functions, assembled by the stack (see `bucket_notification`). Its reference model
(`models/<model>/<version>/model.json`, with its digest as `sha256` metadata, which the function
checks) is verified when the stack is planned (published.py).
"""
from __future__ import annotations

from cdktf import Fn
from constructs import Construct

from modules import aws
from modules.grants import deny_insecure_transport, write_log_streams
from modules.iam_doc import document, statement
from modules.naming import LAMBDA_ALIAS
from modules.platform import lambda_package
from modules.platform.autoscaling import LAMBDA_PROVISIONED, TargetTracking
from modules.platform.code_signing import CodeSigning
from modules.platform.context import PlatformContext, ServingDependencies
from modules.platform.log_group import encrypted_log_group
from modules.platform.published import PublishedModel
from modules.platform.service_roles import ServiceRole
from modules.platform.settings import ROLE_SUFFIX, ModelSettings

RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
MAX_EVENT_AGE_SECONDS = 6 * 3600
RETRY_ATTEMPTS = 2


def function_log_group_name(function_name: str) -> str:
    return f"/aws/lambda/{function_name}"


def metrics_namespace(ctx: PlatformContext) -> str:
    return f"Aegis/{ctx.naming.env}/Inference"


class LambdaInference(Construct):
    @classmethod
    def serve(cls, scope: Construct, construct_id: str, model: ModelSettings,
              deps: ServingDependencies) -> "LambdaInference":
        return cls(scope, construct_id, deps.ctx, model, subnet_ids=deps.network.private_subnet_ids,
                   security_group_id=deps.security_group_id("lambda"), asset_path=deps.function_asset_path,
                   code_signing=deps.code_signing() if model.lambda_settings.code_signing else None)

    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, model: ModelSettings, *,
                 subnet_ids: list[str], security_group_id: str, asset_path: str,
                 code_signing: CodeSigning | None):
        super().__init__(scope, construct_id)
        s = model.lambda_settings
        n = ctx.naming
        self.model_settings = model
        self.function_name = n.model_resource(model.name)
        # The reference model (`model.json`), verified at plan time, with the digest metadata the function checks.
        self.published = PublishedModel(self, "published", ctx, model, metadata_digest=True)
        artifact = self.published.artifact
        inference_arn = ctx.bucket_arn("inference")
        artifacts_arn = ctx.bucket_arn("model-artifacts")

        self.log_group = encrypted_log_group(
            self, "log-group", name=function_log_group_name(self.function_name), kms_key_arn=ctx.keys.audit,
            retention_days=ctx.log_retention_days, protected=ctx.deletion_protection)
        self.dlq = aws.sqs_queue.SqsQueue(
            self, "dlq", name=n.resource(f"{model.name}-dlq"), kms_master_key_id=ctx.keys.inference,
            kms_data_key_reuse_period_seconds=300, message_retention_seconds=s.dlq_retention_days * 86400,
            tags={"Model": model.name})
        dlq_arn = self.dlq.arn  # read once: each attribute read is a jsii round trip
        aws.sqs_queue_policy.SqsQueuePolicy(
            self, "dlq-policy", queue_url=self.dlq.url, policy=document(deny_insecure_transport("sqs:*", dlq_arn)))

        self.role = ServiceRole(
            self, "execution-role", naming=n, purpose=f"{model.name}{ROLE_SUFFIX}", service="lambda.amazonaws.com",
            description=f"Execution role of inference function {model.name}",
            statements=[
                statement("ReadOwnModel", "Allow", "s3:GetObject", f"{artifacts_arn}/{model.artifact_prefix()}*"),
                statement("ReadInputs", "Allow", ["s3:GetObject", "s3:GetObjectVersion"],
                          f"{inference_arn}/{model.input_prefix()}*"),
                statement("WriteOutputs", "Allow", "s3:PutObject", f"{inference_arn}/{model.output_prefix()}*"),
                statement("DecryptModel", "Allow", "kms:Decrypt", ctx.keys.model),
                # S3 SSE-KMS objects, the encrypted environment and the encrypted DLQ.
                statement("UseInferenceKey", "Allow", ["kms:Decrypt", "kms:GenerateDataKey"], ctx.keys.inference),
                statement("DeadLetters", "Allow", "sqs:SendMessage", dlq_arn),
                write_log_streams("WriteOwnLogs", ctx.log_group_arn(function_log_group_name(self.function_name))),
                # X-Ray and the Describe* calls have no resource-level permissions: "*" is the only valid resource.
                statement("Tracing", "Allow", ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "*"),
                statement("DescribeNetwork", "Allow", ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"], "*"),
                statement("ManageFunctionNetworkInterfaces", "Allow",
                          ["ec2:AssignPrivateIpAddresses", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
                           "ec2:UnassignPrivateIpAddresses"], f"arn:aws:ec2:{n.region}:{n.account_id}:*"),
            ])

        m = aws.lambda_function
        code: dict = {}
        if code_signing is not None:
            bucket, key = code_signing.signed_code(
                self, "code", model_name=model.name, artifact_prefix=model.artifact_prefix(),
                asset_path=asset_path, digest=lambda_package.zip_sha256())
            code = {"s3_bucket": bucket, "s3_key": key, "code_signing_config_arn": code_signing.config_arn}
        else:
            code = {"filename": asset_path, "source_code_hash": Fn.filebase64sha256(asset_path)}
        self.function = m.LambdaFunction(
            self, "function", function_name=self.function_name, role=self.role.arn,
            description=f"Reference inference for model {model.name} {model.version}",
            runtime=RUNTIME, architectures=[ARCHITECTURE], handler=lambda_package.HANDLER,
            memory_size=s.memory_size_mb, timeout=s.timeout_seconds,
            reserved_concurrent_executions=s.reserved_concurrency, publish=True,
            kms_key_arn=ctx.keys.inference,
            environment=m.LambdaFunctionEnvironment(variables={
                "MODEL_NAME": model.name, "MODEL_VERSION": model.version,
                "MODEL_BUCKET": artifact.bucket, "MODEL_KEY": artifact.key,
                "INFERENCE_BUCKET": ctx.bucket("inference"),
                "INPUT_PREFIX": model.input_prefix(), "OUTPUT_PREFIX": model.output_prefix(),
                "OUTPUT_KMS_KEY_ARN": ctx.keys.inference, "MAX_INPUT_BYTES": str(s.max_input_bytes),
                "METRICS_NAMESPACE": metrics_namespace(ctx)}),
            vpc_config=m.LambdaFunctionVpcConfig(subnet_ids=subnet_ids, security_group_ids=[security_group_id]),
            tracing_config=m.LambdaFunctionTracingConfig(mode="Active"),
            dead_letter_config=m.LambdaFunctionDeadLetterConfig(target_arn=dlq_arn),
            logging_config=m.LambdaFunctionLoggingConfig(
                log_format="JSON", log_group=self.log_group.name, application_log_level="INFO",
                system_log_level="WARN"),
            tags={"Model": model.name, "ModelVersion": model.version},
            depends_on=[self.role.policy, self.log_group],
            **code)
        # During a release (`lambda.canary`) the alias stays on the stable version and sends the canary's
        # weight to the version this apply publishes; otherwise it points at the newest version.
        canary = s.canary
        # Read once: the alias, its invoke config, permission and URL name them (each read is a jsii round trip).
        function_name, version = self.function.function_name, self.function.version
        self.alias = aws.lambda_alias.LambdaAlias(
            self, "alias", name=LAMBDA_ALIAS, function_name=function_name,
            function_version=canary.stable_version if canary else version,
            routing_config=aws.lambda_alias.LambdaAliasRoutingConfig(
                additional_version_weights={version: canary.weight}) if canary else None,
            description="The version S3 events and callers invoke")
        alias_name = self.alias.name
        aws.lambda_function_event_invoke_config.LambdaFunctionEventInvokeConfig(
            self, "async-invoke", function_name=function_name, qualifier=alias_name,
            maximum_retry_attempts=RETRY_ATTEMPTS, maximum_event_age_in_seconds=MAX_EVENT_AGE_SECONDS)
        self.s3_permission = aws.lambda_permission.LambdaPermission(
            self, "allow-s3", statement_id="AllowInferenceBucketEvents", action="lambda:InvokeFunction",
            function_name=function_name, qualifier=alias_name, principal="s3.amazonaws.com",
            source_arn=inference_arn, source_account=n.account_id)
        self.url = None
        if s.function_url:
            self.url = aws.lambda_function_url.LambdaFunctionUrl(
                self, "url", function_name=function_name, qualifier=alias_name,
                authorization_type="AWS_IAM", invoke_mode="BUFFERED")
        self.scaling = None
        pc = s.provisioned_concurrency
        if pc is not None:
            self.scaling = TargetTracking(
                self, "autoscaling", dimension=LAMBDA_PROVISIONED,
                resource_id=f"function:{self.function_name}:{LAMBDA_ALIAS}",
                policy_name=f"{self.function_name}-provisioned-concurrency", scaling=pc,
                target_value=pc.target_utilization, depends_on=[self.alias])

    def outputs(self) -> dict[str, str]:
        """Stack outputs of this model, by name suffix."""
        return {"function-url": self.url.function_url} if self.url is not None else {}

    def notification(self):
        """This function's entry in the inference bucket's notification configuration."""
        return aws.s3_bucket_notification.S3BucketNotificationLambdaFunction(
            lambda_function_arn=self.alias.arn, events=["s3:ObjectCreated:*"],
            filter_prefix=self.model_settings.input_prefix())


def bucket_notification(scope: Construct, construct_id: str, ctx: PlatformContext, functions: list[LambdaInference]):
    """The inference bucket's single notification configuration (S3 keeps one per bucket).

    It also sends every object event to EventBridge, which the data stack does for its other buckets
    (see `PlatformSettings.owns_inference_notifications`)."""
    if not functions:
        return None
    return aws.s3_bucket_notification.S3BucketNotification(
        scope, construct_id, bucket=ctx.bucket("inference"), eventbridge=True,
        lambda_function=[f.notification() for f in functions],
        depends_on=[f.s3_permission for f in functions])
