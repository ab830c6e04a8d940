"""Settings of the Scalable Infrastructure pillar (`platform:` in an environment file).

Other pillars read `config.platform.models` (name + serving kind) and derive resource names from
modules/naming.py. Each model carries exactly one serving section, named after its kind
(`sagemaker`, `serverless`, `lambda`, `ec2`), so an error points at the key that is wrong.
Single-field bounds live on the fields; rules that need several fields or the environment tier are
in `problems()` (the loader reports them with file, key path and line).
"""
from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Iterator, Literal, TypeVar

from pydantic import AfterValidator, Field, field_validator, model_validator

from modules.platform.aws_owned_buckets import GUARDDUTY_AGENT_BUCKET_OWNERS
from modules.platform.monitor_settings import ModelMonitorSettings
from modules.platform.release_settings import FleetRefresh, FunctionCanary, ReleaseSettings
from modules.platform.training_settings import TrainingSettings
from modules.schema_base import DnsName, Problem, Strict
from modules.serving import EXECUTION_ROLE_SUFFIX, KINDS, ServingKindName

# The model's serving section, by kind (see modules/serving.py).
SECTION = {name: kind.section for name, kind in KINDS.items()}
_Section = TypeVar("_Section")

PROD_MIN_CAPACITY = 2  # prod endpoints, aliases and fleets survive the loss of one instance or AZ
# Longest suffix a per-model resource name gets (the execution role `<project>-<env>-<model>-exec`
# is the tightest: IAM role names have at most 64 characters).
ROLE_SUFFIX = EXECUTION_ROLE_SUFFIX
MAX_ROLE_NAME = 64

# Instance families with local NVMe storage: SageMaker refuses an endpoint config KMS key for them
# (their volumes are encrypted by the instance hardware), so the inference key could not be applied.
_LOCAL_STORAGE_FAMILY = re.compile(
    r"^ml\.([a-z]+[0-9]+[a-z]*d[a-z]*|g4dn|g5|g6|g6e|p3dn|p4d|p4de|p5|p5e|p5en|trn1|trn1n)\.")


def _check_cidr(value: str) -> str:
    """A private (RFC 1918) IPv4 CIDR block, /16 to /22, host bits zero."""
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 CIDR block with host bits zero ({exc})") from None
    if not network.is_private:
        raise ValueError("must be a private (RFC 1918) range")
    if not 16 <= network.prefixlen <= 22:
        raise ValueError("prefix length must be between /16 and /22 (subnets are carved as /+4)")
    return value


def _check_any_cidr(value: str) -> str:
    """An IPv4 CIDR block, host bits zero."""
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 CIDR block with host bits zero ({exc})") from None
    return value


VpcCidr = Annotated[str, AfterValidator(_check_cidr)]
Cidr = Annotated[str, AfterValidator(_check_any_cidr)]
# Semantic version: the ECR image tag (immutable) and the artifact folder `models/<model>/<version>/`.
ModelVersion = Annotated[str, Field(pattern=r"^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}$")]
# What was published for a version: the image manifest's digest as ECR reports it, and the
# artifact's SHA-256 as `sha256sum` prints it (README "Publishing a model").
ImageDigest = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
AcmCertificateArn = Annotated[str, Field(
    pattern=r"^arn:aws:acm:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:certificate/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$")]
HostName = Annotated[str, Field(
    min_length=4, max_length=253, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")]
S3Prefix = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}(/[a-z0-9][a-z0-9._-]{0,62}){0,7}/$")]
Ec2InstanceType = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*\.[0-9]*[a-z0-9]+$", max_length=32)]
SageMakerInstanceType = Annotated[str, Field(pattern=r"^ml\.[a-z][a-z0-9-]*\.[0-9]*[a-z0-9]+$", max_length=32)]


def _account(arn: str) -> str:
    return arn.split(":")[4]


def _region(arn: str) -> str:
    return arn.split(":")[3]


# --- network -------------------------------------------------------------------------------------

class NetworkSettings(Strict):
    vpc_cidr: VpcCidr = "10.0.0.0/16"
    az_count: int = Field(default=2, ge=2, le=4)
    # The AZs, pinned by name (a new AZ never silently joins). Default: the region's first
    # `az_count` letters (a, b, c…); set them where the account's zones differ.
    availability_zones: list[Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$")]] | None = None
    # Internet egress through NAT gateways (and an internet gateway). Off: a fully private VPC that
    # reaches AWS only through VPC endpoints.
    egress: bool = False
    nat_gateway_per_az: bool = False
    flow_log_aggregation_seconds: Literal[60, 600] = 60

    def zone_names(self, region: str) -> list[str]:
        return list(self.availability_zones or [f"{region}{letter}" for letter in "abcd"[:self.az_count]])

    def problems(self, env) -> Iterator[Problem]:
        if self.availability_zones is not None:
            if len(self.availability_zones) != self.az_count:
                yield "availability_zones", f"names {len(self.availability_zones)} zones; az_count is {self.az_count}"
            if len(set(self.availability_zones)) != len(self.availability_zones):
                yield "availability_zones", "zones must not repeat"
            for i, zone in enumerate(self.availability_zones):
                if zone[:-1] != env.region:
                    yield f"availability_zones[{i}]", f"'{zone}' is not a zone of the environment's region ({env.region})"
        if env.tier == "prod" and self.az_count < 3:
            yield "az_count", "prod must spread over at least 3 availability zones"
        if self.nat_gateway_per_az and not self.egress:
            yield "nat_gateway_per_az", "NAT gateways exist only when egress is enabled"
        if env.tier == "prod" and self.egress and not self.nat_gateway_per_az:
            yield "nat_gateway_per_az", "prod with egress needs one NAT gateway per AZ (no single-AZ dependency)"


# --- scaling -------------------------------------------------------------------------------------

class _Scaling(Strict):
    """Application Auto Scaling bounds and target-tracking cooldowns."""

    min_capacity: int = Field(ge=1, le=1000)
    max_capacity: int = Field(ge=1, le=1000)
    scale_out_cooldown_seconds: int = Field(default=60, ge=0, le=3600)
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, le=3600)

    def problems(self, env) -> Iterator[Problem]:
        if self.min_capacity > self.max_capacity:
            yield "min_capacity", f"must not exceed max_capacity ({self.max_capacity})"
        if self.scale_in_cooldown_seconds <= self.scale_out_cooldown_seconds:
            yield "scale_in_cooldown_seconds", (
                f"must be longer than scale_out_cooldown_seconds ({self.scale_out_cooldown_seconds}): "
                "scale out fast, scale in slowly")
        if env.tier == "prod" and self.min_capacity < PROD_MIN_CAPACITY:
            yield "min_capacity", f"prod needs at least {PROD_MIN_CAPACITY}"


class ScheduledScaling(Strict):
    name: DnsName
    # Application Auto Scaling schedule expressions.
    schedule: str = Field(pattern=(r"^(cron\([0-9*?/,LW# A-Z-]{9,120}\)"
                                   r"|rate\([1-9][0-9]{0,3} (minute|minutes|hour|hours|day|days)\)"
                                   r"|at\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\))$"))
    timezone: str = Field(default="UTC", pattern=r"^(UTC|[A-Z][A-Za-z_]+(/[A-Z][A-Za-z_+-]+){1,2})$")
    min_capacity: int = Field(ge=1, le=1000)
    max_capacity: int = Field(ge=1, le=1000)

    def problems(self, env) -> Iterator[Problem]:
        if self.min_capacity > self.max_capacity:
            yield "min_capacity", f"must not exceed max_capacity ({self.max_capacity})"


class InstanceScaling(_Scaling):
    """SageMaker variant instances, tracked on SageMakerVariantInvocationsPerInstance."""

    target_invocations_per_instance: int = Field(ge=1, le=100_000)
    scheduled_actions: list[ScheduledScaling] = Field(default_factory=list, max_length=20)

    def problems(self, env) -> Iterator[Problem]:
        yield from super().problems(env)
        names = [a.name for a in self.scheduled_actions]
        for i, action in enumerate(self.scheduled_actions):
            if names.count(action.name) > 1:
                yield f"scheduled_actions[{i}].name", "scheduled action names must be unique"
            for path, message in action.problems(env):
                yield f"scheduled_actions[{i}].{path}", message


class ConcurrencyScaling(_Scaling):
    """Provisioned concurrency (Lambda alias or serverless endpoint), tracked on its utilization."""

    target_utilization: float = Field(default=0.7, ge=0.1, le=0.9)


# --- serving kinds -------------------------------------------------------------------------------

class RealtimeSettings(Strict):
    """`serving: sagemaker` — instance-backed real-time endpoint."""

    instance_type: SageMakerInstanceType
    initial_instance_count: int = Field(ge=1, le=1000)
    data_capture_percent: int = Field(ge=1, le=100)
    autoscaling: InstanceScaling
    deployment: ReleaseSettings = ReleaseSettings()  # how updates roll out (release_settings.py)
    monitor: ModelMonitorSettings = ModelMonitorSettings()  # Model Monitor on the captured data (monitor_settings.py)

    def problems(self, env) -> Iterator[Problem]:
        if _LOCAL_STORAGE_FAMILY.match(self.instance_type):
            yield "instance_type", ("instance types with local NVMe storage cannot take the endpoint KMS key "
                                    "(SageMaker refuses KmsKeyId for them); choose one without instance storage")
        if env.tier == "prod" and self.initial_instance_count < PROD_MIN_CAPACITY:
            yield "initial_instance_count", f"prod needs at least {PROD_MIN_CAPACITY} instances"
        scaling = self.autoscaling
        for path, message in scaling.problems(env):
            yield f"autoscaling.{path}", message
        if not scaling.min_capacity <= self.initial_instance_count <= scaling.max_capacity:
            yield "initial_instance_count", (
                f"must lie within autoscaling min_capacity..max_capacity ({scaling.min_capacity}..{scaling.max_capacity})")
        for path, message in self.deployment.variant_problems(env, instance_type=self.instance_type,
                                                          min_instances=scaling.min_capacity,
                                                          max_instances=scaling.max_capacity):
            yield f"deployment.{path}", message
        for path, message in self.monitor.monitor_problems(env, baking_seconds=self.deployment.baking_seconds):
            yield f"monitor.{path}", message
        if self.monitor.enabled and _LOCAL_STORAGE_FAMILY.match(self.monitor.instance_type):
            yield "monitor.instance_type", ("instance types with local NVMe storage cannot take the monitor's volume "
                                            "KMS key; choose one without instance storage")


class ServerlessSettings(Strict):
    """`serving: sagemaker-serverless` — no VPC, network isolation or data capture (AWS does not support them)."""

    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144]
    max_concurrency: int = Field(ge=1, le=200)
    provisioned_concurrency: ConcurrencyScaling | None = None

    def problems(self, env) -> Iterator[Problem]:
        pc = self.provisioned_concurrency
        if pc is None:
            if env.tier == "prod":
                yield "provisioned_concurrency", "prod needs provisioned concurrency (no cold starts, autoscaled)"
            return
        if pc.max_capacity > self.max_concurrency:
            yield "provisioned_concurrency.max_capacity", f"must not exceed max_concurrency ({self.max_concurrency})"
        for path, message in pc.problems(env):
            yield f"provisioned_concurrency.{path}", message


class FunctionSettings(Strict):
    """`serving: lambda` — the reference inference function, triggered by S3 events."""

    memory_size_mb: int = Field(ge=128, le=10240)
    timeout_seconds: int = Field(ge=1, le=900)
    reserved_concurrency: int = Field(ge=1, le=1000)
    provisioned_concurrency: ConcurrencyScaling | None = None
    max_input_bytes: int = Field(default=1_048_576, ge=1024, le=67_108_864)
    # Under the inference bucket; default `batch/<model>/input/` and `batch/<model>/output/`.
    input_prefix: S3Prefix | None = None
    output_prefix: S3Prefix | None = None
    function_url: bool = False  # synchronous access, AWS_IAM auth only
    code_signing: bool = False
    dlq_retention_days: int = Field(default=14, ge=1, le=14)
    canary: FunctionCanary | None = None  # weighted live alias during a release (release_settings.py)

    def problems(self, env) -> Iterator[Problem]:
        pc = self.provisioned_concurrency
        if pc is None:
            if env.tier == "prod":
                yield "provisioned_concurrency", "prod needs provisioned concurrency on the live alias"
        else:
            if pc.max_capacity >= self.reserved_concurrency:
                yield "provisioned_concurrency.max_capacity", (
                    f"must be below reserved_concurrency ({self.reserved_concurrency})")
            for path, message in pc.problems(env):
                yield f"provisioned_concurrency.{path}", message
        if env.tier == "prod" and not self.code_signing:
            yield "code_signing", "prod functions must enforce code signing"


class AlbSettings(Strict):
    certificate_arn: AcmCertificateArn
    internal: bool = True
    ssl_policy: Literal["ELBSecurityPolicy-TLS13-1-2-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
                        "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
                        "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    idle_timeout_seconds: int = Field(default=60, ge=1, le=4000)
    # Only for an internet-facing ALB: who may connect.
    allowed_cidrs: list[Cidr] = Field(default_factory=list, max_length=50)


class WafSettings(Strict):
    rate_limit_per_5_minutes: int = Field(default=2000, ge=100, le=2_000_000_000)


class CloudFrontSettings(Strict):
    aliases: list[HostName] = Field(min_length=1, max_length=20)
    certificate_arn: AcmCertificateArn  # CloudFront takes certificates from us-east-1 only
    # A name on the ALB certificate that resolves to the ALB: CloudFront checks the origin's certificate.
    origin_domain_name: HostName
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"
    rate_limit_per_5_minutes: int = Field(default=2000, ge=100, le=2_000_000_000)
    # Viewer countries (ISO 3166-1 alpha-2) CloudFront serves; empty: no geo restriction.
    allowed_countries: list[Annotated[str, Field(pattern=r"^[A-Z]{2}$")]] = Field(default_factory=list, max_length=250)

    @field_validator("allowed_countries")
    @classmethod
    def _unique_countries(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("countries must not repeat")
        return value


class FleetSettings(Strict):
    """`serving: ec2` — a GPU Auto Scaling group behind an ALB (and optionally CloudFront)."""

    ami_ssm_parameter: str = Field(pattern=r"^/aws/service/[A-Za-z0-9/._-]{1,1000}$")
    instance_types: list[Ec2InstanceType] = Field(min_length=1, max_length=20)
    root_volume_gb: int = Field(default=100, ge=8, le=16384)
    container_port: int = Field(default=8443, ge=1024, le=65535)
    health_check_path: str = Field(default="/ping", pattern=r"^/[A-Za-z0-9/._-]{0,200}$")
    min_size: int = Field(ge=0, le=500)
    max_size: int = Field(ge=1, le=500)
    on_demand_base_capacity: int = Field(ge=0, le=500)
    on_demand_percentage_above_base: int = Field(ge=0, le=100)
    target_requests_per_instance: int = Field(ge=1, le=1_000_000)
    instance_warmup_seconds: int = Field(default=300, ge=0, le=3600)
    health_check_grace_seconds: int = Field(default=600, ge=0, le=7200)
    # Mount the shared EFS model cache (TLS, IAM) into the container. Needs amazon-efs-utils in the
    # AMI (the Deep Learning Base AMIs lack it; nothing can install it in a VPC without egress).
    model_cache: bool = False
    refresh: FleetRefresh = FleetRefresh()  # how instances are replaced on a change (release_settings.py)
    alb: AlbSettings
    waf: WafSettings = WafSettings()
    cloudfront: CloudFrontSettings | None = None

    @field_validator("instance_types")
    @classmethod
    def _unique_types(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("instance types must not repeat")
        return value

    def problems(self, env) -> Iterator[Problem]:
        yield from self._capacity_problems(env)
        yield from self._alb_problems(env)
        for path, message in self.refresh.problems(env):
            yield f"refresh.{path}", message
        if self.cloudfront is not None:
            yield from self._cloudfront_problems(self.cloudfront, env)

    def _capacity_problems(self, env) -> Iterator[Problem]:
        if self.min_size > self.max_size:
            yield "min_size", f"must not exceed max_size ({self.max_size})"
        if self.on_demand_base_capacity > self.max_size:
            yield "on_demand_base_capacity", f"must not exceed max_size ({self.max_size})"
        if env.tier == "prod":
            if self.on_demand_base_capacity < 1:
                yield "on_demand_base_capacity", "prod fleets keep at least 1 on-demand instance (spot can vanish)"
            if self.min_size < PROD_MIN_CAPACITY:
                yield "min_size", f"prod needs at least {PROD_MIN_CAPACITY}"

    def _alb_problems(self, env) -> Iterator[Problem]:
        if _region(self.alb.certificate_arn) != env.region:
            yield "alb.certificate_arn", f"the ALB certificate must be in the environment's region ({env.region})"
        if _account(self.alb.certificate_arn) != env.account_id:
            yield "alb.certificate_arn", f"the certificate must be in the environment's account ({env.account_id})"
        if self.alb.internal and self.alb.allowed_cidrs:
            yield "alb.allowed_cidrs", "an internal ALB admits the VPC only; allowed_cidrs is for internet-facing ALBs"
        if self.cloudfront is not None and not self.alb.internal:
            yield "alb.internal", ("behind CloudFront the ALB is a VPC origin: it stays internal and admits CloudFront "
                                   "only, so nothing reaches it around CloudFront's WAF and geo restriction")
        if not self.alb.internal:
            if not env.platform.network.egress:
                yield "alb.internal", "an internet-facing ALB needs public subnets: enable network.egress"
            if not self.alb.allowed_cidrs:
                yield "alb.allowed_cidrs", "an internet-facing ALB needs an explicit list of client CIDRs"
            if "0.0.0.0/0" in self.alb.allowed_cidrs and env.tier == "prod":
                yield "alb.allowed_cidrs", "prod: put CloudFront in front instead of opening the ALB to the internet"

    @staticmethod
    def _cloudfront_problems(cf: CloudFrontSettings, env) -> Iterator[Problem]:
        if _region(cf.certificate_arn) != "us-east-1":
            yield "cloudfront.certificate_arn", "CloudFront uses certificates from us-east-1 only"
        if _account(cf.certificate_arn) != env.account_id:
            yield "cloudfront.certificate_arn", f"the certificate must be in the environment's account ({env.account_id})"
        if not env.platform.network.egress:
            # CloudFront VPC origins reach the internal ALB through the VPC's internet gateway.
            yield "cloudfront", "CloudFront VPC origins need an internet gateway: enable network.egress"


# --- models --------------------------------------------------------------------------------------

class ModelSettings(Strict):
    """One model: its name (DNS-safe, unique), serving kind, version and that kind's section, and
    what was published for the version: `image_digest` (kinds that run the model's own image) and
    `artifact_sha256`. Both are required in prod; elsewhere the plan resolves the version's image
    tag and takes the artifact's checksum from S3 (modules/platform/published.py).
    Or, for SageMaker kinds, `model_package_version`: the version of the model's package group
    (`model publish --register`) to deploy by ARN; the plan refuses it unless it is Approved
    (modules/platform/registered.py), and the package pins its image digest and artifact itself."""

    name: DnsName
    serving: ServingKindName
    version: ModelVersion
    image_digest: ImageDigest | None = None
    artifact_sha256: Sha256Hex | None = None
    model_package_version: int | None = Field(default=None, ge=1)
    sagemaker: RealtimeSettings | None = None
    serverless: ServerlessSettings | None = None
    function: FunctionSettings | None = Field(default=None, alias="lambda")
    ec2: FleetSettings | None = None

    @model_validator(mode="after")
    def _one_section(self) -> "ModelSettings":
        wanted = SECTION[self.serving]
        present = [key for key in SECTION.values() if self._section(key) is not None]
        if wanted not in present:
            raise ValueError(f"serving '{self.serving}' needs a '{wanted}' section")
        others = [key for key in present if key != wanted]
        if others:
            raise ValueError(f"serving '{self.serving}' takes only the '{wanted}' section, not {', '.join(others)}")
        return self

    def _section(self, key: str):
        return self.function if key == "lambda" else getattr(self, key)

    @property
    def settings(self):
        """The serving section for this model's kind."""
        return self._section(SECTION[self.serving])

    @property
    def section(self) -> str:
        return SECTION[self.serving]

    # The section of the model's own kind, typed for the construct that serves it (`_one_section`
    # guarantees it is there; asking a model of another kind for it is a bug).
    @property
    def sagemaker_settings(self) -> RealtimeSettings:
        return _present(self.sagemaker, self, "sagemaker")

    @property
    def serverless_settings(self) -> ServerlessSettings:
        return _present(self.serverless, self, "serverless")

    @property
    def lambda_settings(self) -> FunctionSettings:
        return _present(self.function, self, "lambda")

    @property
    def ec2_settings(self) -> FleetSettings:
        return _present(self.ec2, self, "ec2")

    def input_prefix(self) -> str:
        return (self.function and self.function.input_prefix) or f"batch/{self.name}/input/"

    def output_prefix(self) -> str:
        return (self.function and self.function.output_prefix) or f"batch/{self.name}/output/"

    def artifact_prefix(self) -> str:
        """Folder of this model's artifacts in the model-artifacts bucket."""
        return f"models/{self.name}/"

    def artifact_key(self) -> str:
        """The artifact this version serves (the file name depends on the serving kind)."""
        return f"{self.artifact_prefix()}{self.version}/{KINDS[self.serving].artifact}"

    def problems(self, env) -> Iterator[Problem]:
        role = f"{env.project}-{env.name}-{self.name}{ROLE_SUFFIX}"
        if len(role) > MAX_ROLE_NAME:
            yield "name", f"too long for this project/environment: role name '{role}' exceeds {MAX_ROLE_NAME} characters"
        yield from self._publication_problems(env)
        if self.serving == "lambda":
            inp, out = self.input_prefix(), self.output_prefix()
            if inp.startswith(out) or out.startswith(inp):
                yield "lambda.output_prefix", "input and output prefixes must not overlap (results would re-trigger the function)"
        for path, message in self.settings.problems(env):
            yield f"{self.section}.{path}", message

    def _publication_problems(self, env) -> Iterator[Problem]:
        """Prod serves exactly what was reviewed: the image digest and artifact checksum are pinned here."""
        repository = f"{env.account_id}.dkr.ecr.{env.region}.amazonaws.com/{env.project}-{env.name}-{self.name}"
        bucket = f"{env.project}-{env.name}-model-artifacts-{env.account_id}-{env.region}"
        if not KINDS[self.serving].image and self.image_digest is not None:
            yield "image_digest", f"serving '{self.serving}' runs no image of its own; remove image_digest"
        if self.model_package_version is not None:
            yield from self._package_problems(env)
            return
        if env.tier != "prod":
            return
        if KINDS[self.serving].image and self.image_digest is None:
            yield "image_digest", (
                f"prod pins every image by digest: push {repository}:{self.version}, then set image_digest to "
                "the sha256:… digest ECR reports for it (README: Publishing a model)")
        if self.artifact_sha256 is None:
            yield "artifact_sha256", (
                f"prod pins every artifact by checksum: upload s3://{bucket}/{self.artifact_key()} with its "
                "SHA-256 checksum, then set artifact_sha256 to its sha256sum (README: Publishing a model)")


    def _package_problems(self, env) -> Iterator[Problem]:
        """A registered version replaces the published image and artifact; only SageMaker deploys packages."""
        if self.serving not in REGISTRY_KINDS:
            yield "model_package_version", (f"serving '{self.serving}' does not deploy SageMaker model packages (only "
                                            f"{', '.join(REGISTRY_KINDS)})")
        if not env.platform.training.enabled:
            yield "model_package_version", "the model registry is part of the training lane: enable platform.training"
        for key in ("image_digest", "artifact_sha256"):
            if getattr(self, key) is not None:
                yield key, "the model package pins the image and artifact: remove it, or model_package_version"


# Serving kinds whose SageMaker model can be created from a model package (by its ARN).
REGISTRY_KINDS = ("sagemaker", "sagemaker-serverless")


def _present(section: _Section | None, model: ModelSettings, key: str) -> _Section:
    if section is None:
        raise ValueError(f"model {model.name} (serving: {model.serving}) has no '{key}' section")
    return section


class StorageSettings(Strict):
    # Opt-in: no workload of the reference architecture reads or writes the table; the EFS model cache
    # also exists whenever a serving kind mounts it (GPU fleets do), whatever this says.
    predictions_table: bool = False
    model_cache: bool = False
    efs_transition_to_ia: Literal["AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS",
                                  "AFTER_60_DAYS", "AFTER_90_DAYS"] = "AFTER_30_DAYS"
    efs_throughput_mode: Literal["elastic", "bursting"] = "elastic"
    table_ttl_attribute: str = Field(default="expires_at", pattern=r"^[a-z][a-z0-9_]{0,63}$")


class PlatformSettings(Strict):
    network: NetworkSettings = NetworkSettings()
    # ALBs, the DynamoDB table and the EFS file system refuse deletion (prevent_destroy for EFS).
    deletion_protection: bool = True
    storage: StorageSettings = StorageSettings()
    models: list[ModelSettings] = Field(default_factory=list, max_length=50)
    training: TrainingSettings = TrainingSettings()  # modules/platform/training_settings.py

    @property
    def owns_inference_notifications(self) -> bool:
        """S3 keeps one notification configuration per bucket: the inference bucket's events invoke
        models of some kinds (Lambda), so the platform stack owns it then; otherwise the data stack does."""
        return any(KINDS[m.serving].inference_bucket_events for m in self.models)

    @field_validator("models")
    @classmethod
    def _unique_model_names(cls, models: list[ModelSettings]) -> list[ModelSettings]:
        names = [m.name for m in models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"model names must be unique (repeated: {', '.join(duplicates)})")
        return models

    def problems(self, env) -> Iterator[Problem]:
        for path, message in self.network.problems(env):
            yield f"network.{path}", message
        if env.tier == "prod" and not self.deletion_protection:
            yield "deletion_protection", "prod stateful resources must be protected from deletion"
        for i, model in enumerate(self.models):
            for path, message in model.problems(env):
                yield f"models[{i}].{path}", message
        yield from self._prefixes_disjoint()
        yield from self._agent_bucket_known(env)
        for path, message in self.training.problems(env):
            yield f"training.{path}", message

    def _agent_bucket_known(self, env) -> Iterator[Problem]:
        """The fleets' GuardDuty agent comes through the S3 gateway endpoint (NAT or not: its route is the more
        specific one), whose policy must name its bucket."""
        if not env.access.guardduty.runtime_monitoring or not any(KINDS[m.serving].instances for m in self.models):
            return
        if env.region not in GUARDDUTY_AGENT_BUCKET_OWNERS:
            yield "models", (
                f"the GPU fleets' GuardDuty agent downloads from an AWS-owned bucket in {env.region} through the S3 "
                "gateway endpoint, but Aegis does not know that bucket: add its owner to "
                "modules/platform/aws_owned_buckets.py (GuardDuty user guide: Installing the security agent manually)")

    def _prefixes_disjoint(self) -> Iterator[Problem]:
        """S3 refuses overlapping notification prefixes in one bucket; each function owns its prefixes."""
        seen: list[tuple[str, str]] = []
        for i, model in enumerate(self.models):
            if model.serving != "lambda":
                continue
            for key, prefix in (("input_prefix", model.input_prefix()), ("output_prefix", model.output_prefix())):
                for other_model, other in seen:
                    if prefix.startswith(other) or other.startswith(prefix):
                        yield f"models[{i}].lambda.{key}", f"overlaps a prefix of model '{other_model}' ({other})"
            seen += [(model.name, model.input_prefix()), (model.name, model.output_prefix())]
