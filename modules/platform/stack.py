"""`<env>-platform`: the Scalable Infrastructure pillar.

Network and endpoints, shared storage, then one serving construct per model of config, of the
class its serving kind names (modules/serving.py). The data stack's keys are looked up by
alias and its buckets named by convention; later stacks find these resources by the names in
modules/naming.py (`model_resource`, `load_balancer`, `LAMBDA_ALIAS`).
"""
from __future__ import annotations

import functools

from cdktf import AssetType, TerraformAsset, TerraformOutput
from constructs import Construct

from modules.config import EnvConfig
from modules.lookups import data_key_arn
from modules.monitoring import monitored_models
from modules.pillar_stack import PillarStack
from modules.platform import lambda_package
from modules.platform.code_signing import CodeSigning
from modules.platform.context import Keys, PlatformContext
from modules.platform.data_store import DataStoreProps, TrainingDataStore
from modules.platform.edge_key import EdgeAuditKey
from modules.platform.endpoints import Endpoints, agent_buckets, runs_instances
from modules.platform.lambda_inference import bucket_notification
from modules.platform.model_monitor import ModelMonitoring
from modules.platform.model_pipelines import ModelPipelines
from modules.platform.network import Network
from modules.platform.security_groups import workload_security_group
from modules.platform.storage import SharedStorage
from modules.platform.studio import StudioDomain, StudioProps
from modules.platform.training_role import TrainingExecution
from modules.platform.training_template import TrainingTemplate
from modules.serving import KINDS
from modules.training import pipeline_models, studio_personas


class PlatformStack(PillarStack):
    def __init__(self, scope: Construct, config: EnvConfig):
        super().__init__(scope, config, "platform")
        settings = config.platform
        keys = Keys(model=data_key_arn(self, "model"), inference=data_key_arn(self, "inference"),
                    audit=data_key_arn(self, "audit"))
        self.ctx = ctx = PlatformContext.of(config, self.naming, keys)
        self.network = Network(self, "network", ctx, settings.network)
        self.endpoints = Endpoints(self, "endpoints", ctx, self.network, agent_buckets(config),
                                   ssm_agents=runs_instances(config), training=settings.training.enabled)
        self.storage = SharedStorage(self, "storage", ctx, self.network, settings.storage)
        self._asset: TerraformAsset | None = None
        self._code_signing: CodeSigning | None = None
        self._edge_key: EdgeAuditKey | None = None
        self._security_groups: dict[str, object] = {}
        self._security_group_ids: dict[str, str] = {}
        self.models: dict[str, Construct] = {}
        triggered = []  # models the inference bucket's events invoke
        for model in settings.models:
            kind = KINDS[model.serving]
            built = kind.construct_class().serve(self, f"model-{model.name}", model, self)
            if kind.inference_bucket_events:
                triggered.append(built)
            self.models[model.name] = built
        self.notification = bucket_notification(self, "inference-bucket-notification", ctx, triggered)
        self._training_lane()
        self._model_monitor()
        self._outputs()

    def _training_lane(self) -> None:
        """The training execution role and job template, for the personas that work in Studio the Studio
        domain, and the training data store when enabled."""
        training = self.config.platform.training
        self.training = TrainingExecution(self, "training", self.ctx, data_store=training.data_store.enabled) \
            if training.enabled else None
        self.pipelines = None
        if training.enabled:
            self.training_template = TrainingTemplate(
                self, "training-template", self.ctx, subnet_ids=self.network.private_subnet_ids,
                security_group=self.security_group("training"), spot=training.spot)
            models = pipeline_models(self.config)
            self.pipelines = ModelPipelines(
                self, "pipelines", self.ctx, models=models, settings=training.pipeline,
                job=self.training_template.job, training_key=self.training_template.training_key) if models else None
        personas = tuple(studio_personas(self.config))
        self.studio = StudioDomain(self, "studio", self.ctx, self.network, self.endpoints,
                                   StudioProps(training.studio, personas, training.data_store.enabled)) \
            if personas else None
        self.data_store = None
        if training.enabled and training.data_store.enabled:
            clients = [("training", self.security_group_id("training"))]
            clients += [("studio", self.studio.security_group.id)] if self.studio is not None else []
            if "sagemaker" in self._security_groups:  # built by the SageMaker models
                clients.append(("sagemaker", self.security_group_id("sagemaker")))
            self.data_store = TrainingDataStore(self, "training-store", self.ctx, self.network,
                                                DataStoreProps(training.data_store, tuple(clients),
                                                               bool(self.config.governance.adopt.rds_os_metrics_log_group)))

    def _model_monitor(self) -> None:
        """Model Monitor on every real-time endpoint that captures data and has its monitor enabled."""
        models = monitored_models(self.config)
        self.monitoring = ModelMonitoring(
            self, "model-monitor", self.ctx, models=models,
            endpoints={m.name: self.models[m.name].endpoint_resource for m in models},
            subnet_ids=self.network.private_subnet_ids, security_group_id=self.security_group_id("sagemaker"),
            own_log_group=self.training is None) if models else None

    # --- what serving constructs share (modules/platform/context.py: ServingDependencies) -------

    def security_group(self, kind: str):
        """One egress-only security group per workload kind (SageMaker models, Lambda functions)."""
        if kind not in self._security_groups:
            name = self.naming.resource(f"{kind}-workloads")
            between = kind == "training"  # multi-instance jobs, with inter-container traffic encryption
            self._security_groups[kind] = workload_security_group(
                self, f"{kind}-security-group", name=name, network=self.network, endpoints=self.endpoints,
                between_members=between,
                description=(f"{kind} workloads: traffic between members, HTTPS egress to VPC endpoints"
                             if between else f"{kind} workloads: no ingress, HTTPS egress to VPC endpoints only"))
        return self._security_groups[kind]

    def security_group_id(self, kind: str) -> str:
        """The ID of `security_group(kind)`, read once: every model of the kind names it, and each attribute
        read is a jsii round trip."""
        if kind not in self._security_group_ids:
            self._security_group_ids[kind] = self.security_group(kind).id
        return self._security_group_ids[kind]

    def function_asset(self) -> TerraformAsset:
        """The reference function's deterministic zip, copied into this stack's output as an asset."""
        if self._asset is None:
            self._asset = TerraformAsset(self, "inference-function-code", path=str(lambda_package.build_zip()),
                                         type=AssetType.FILE)
        return self._asset

    @functools.cached_property
    def function_asset_path(self) -> str:
        """Where the function's zip is in the output (read once: every function deploys it)."""
        return self.function_asset().path

    def code_signing(self) -> CodeSigning:
        if self._code_signing is None:
            self._code_signing = CodeSigning(self, "code-signing", self.ctx)
        return self._code_signing

    def edge_audit_key(self) -> EdgeAuditKey:
        if self._edge_key is None:
            self._edge_key = EdgeAuditKey(self, "kms-audit-edge", naming=self.naming,
                                          key_admin_arn=self.config.deployer_role_arn,
                                          deletion_window_days=self.config.data.kms_deletion_window_days,
                                          prevent_destroy=self.config.tier == "prod")
        return self._edge_key

    def _outputs(self) -> None:
        TerraformOutput(self, "vpc-id", value=self.network.vpc_id)
        TerraformOutput(self, "private-subnet-ids", value=self.network.private_subnet_ids)
        if self.storage.table is not None:
            TerraformOutput(self, "predictions-table", value=self.storage.table.name)
        if self.storage.has_model_cache:
            TerraformOutput(self, "model-cache-file-system", value=self.storage.file_system.id)
        if self.studio is not None:
            TerraformOutput(self, "studio-domain-id", value=self.studio.domain.id)
        if self.data_store is not None:
            TerraformOutput(self, "training-store-endpoint", value=self.data_store.cluster.endpoint)
        for name, built in self.models.items():
            for suffix, value in built.outputs().items():
                TerraformOutput(self, f"{name}-{suffix}", value=value)
