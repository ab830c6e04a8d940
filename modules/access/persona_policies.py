"""Identity policies of the persona roles: least privilege, scoped to this environment by ARN.

Pure functions (config in, deterministic JSON out), so tests evaluate exactly what is synthesized.

Rules kept here:
- no bare "*" action; actions are listed one by one, so the IAM linter can check each against
  the resources it is granted on;
- "*" resource only for actions that have no resource-level permissions; every such grant is a
  statement whose Sid ends in `NoResourceLevel` and is listed in the comment above it;
- separation of duties: only ml-engineer deploys (SageMaker models, endpoint configs, endpoints,
  Lambda versions and aliases), and only in dev; the permission boundary repeats that as a deny for
  everyone else (everyone, in staging and prod). There the deployer role alone changes serving, by
  gated Terraform from the environment file, so whoever publishes and registers a version can neither
  approve nor deploy it, and a published version cannot be overwritten (modules/data/write_once.py);
- whoever may pass the models' execution roles (ml-engineer) starts nothing else that runs with a
  role: iam:PassRole cannot tell CreateModel from CreateTrainingJob (it sees only the role and the
  service), and no SageMaker condition key names the role a job runs with, so a training job with an
  execution role (inference key, data capture) is stopped by denying the job APIs themselves.
- only model-approver approves a registered model version, and it neither trains, registers nor
  deploys (the boundary denies approval to everyone else, and deployment to everyone but ml-engineer);
- every persona that starts training, processing or tuning jobs carries the job guards
  (modules/training.py): inter-container traffic encryption and network isolation, or denied.
"""
from __future__ import annotations

from modules.access.approval_events import dlq_name as approvals_dlq_name
from modules.access.settings import PERSONAS
from modules.boundary import APPROVED, DEPLOY_ACTIONS, hand_deploys
from modules.config import EnvConfig
from modules.edge import managed_outside
from modules.iam_doc import Statement, document, statement
from modules.naming import BLOCKED_IP_SET_SUFFIX, Naming
from modules.serving import EXECUTION_ROLE_SUFFIX, KINDS, invoke_actions, invoke_grants
from modules.training import (
    JOB_ACTIONS,
    MODELS_PREFIX,
    connect_to_data_store,
    job_guards,
    pipeline_models,
    read_job_template,
    studio_personas,
    training_roles,
)

# SageMaker APIs that start compute (or define it) with a role the caller passes: a persona that may
# pass the models' execution roles may call none of them.
ROLE_TAKING_SAGEMAKER_ACTIONS = (
    "sagemaker:CreateAutoMLJob", "sagemaker:CreateAutoMLJobV2", "sagemaker:CreateCompilationJob",
    "sagemaker:CreateDataQualityJobDefinition", "sagemaker:CreateDomain", "sagemaker:CreateEdgePackagingJob",
    "sagemaker:CreateFlowDefinition", "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateInferenceRecommendationsJob", "sagemaker:CreateLabelingJob",
    "sagemaker:CreateModelBiasJobDefinition", "sagemaker:CreateModelExplainabilityJobDefinition",
    "sagemaker:CreateModelQualityJobDefinition", "sagemaker:CreateMonitoringSchedule",
    "sagemaker:CreateNotebookInstance", "sagemaker:CreateOptimizationJob", "sagemaker:CreatePipeline",
    "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob", "sagemaker:CreateUserProfile",
    "sagemaker:UpdateDomain", "sagemaker:UpdateMonitoringSchedule", "sagemaker:UpdateNotebookInstance",
    "sagemaker:UpdatePipeline", "sagemaker:UpdateUserProfile",
)
# Whatever invokes a model of any serving kind (modules/serving.py).
INVOKE_ACTIONS = invoke_actions()
KMS_USE = ("kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey")


class EnvArns:
    """ARNs and ARN patterns of this environment's resources."""

    def __init__(self, config: EnvConfig):
        self.config = config
        self.naming = n = Naming.of(config)
        self.region, self.account, self.prefix = n.region, n.account_id, n.prefix

    def sagemaker(self, kind: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{kind}/{self.prefix}-*"

    @property
    def edge_region(self) -> str | None:
        """The region outside the environment's where the platform manages CloudFront's WAF, log groups and
        key (modules/edge.py), or None when no model is behind CloudFront."""
        outside = managed_outside(self.config, sorted({self.region, self.config.dr_region}))
        return next(iter(outside), None)

    @property
    def blocked_ip_sets(self) -> list[str]:
        """The IP sets of addresses to block (modules/platform/waf.py): those of the GPU fleets' ALB web ACLs
        (REGIONAL), and of CloudFront's (CLOUDFRONT scope: `global/` ARNs in us-east-1); none without a fleet."""
        if not any(m.serving == "ec2" for m in self.config.platform.models):
            return []
        name = f"{self.prefix}-*{BLOCKED_IP_SET_SUFFIX}"
        return ([f"arn:aws:wafv2:{self.region}:{self.account}:regional/ipset/{name}/*"]
                + ([f"arn:aws:wafv2:{self.edge_region}:{self.account}:global/ipset/{name}/*"] if self.edge_region else []))

    @property
    def functions(self) -> list[str]:
        base = f"arn:aws:lambda:{self.region}:{self.account}:function:{self.prefix}-*"
        return [base, f"{base}:*"]  # unqualified and qualified (version / alias) ARNs

    @property
    def repositories(self) -> list[str]:
        base = f"arn:aws:ecr:{self.region}:{self.account}:repository/{self.prefix}"
        return [f"{base}-*", f"{base}/*"]

    def bucket(self, purpose: str) -> str:
        return self.naming.bucket_arn(purpose)

    def objects(self, purpose: str, prefix: str = "") -> str:
        return f"{self.bucket(purpose)}/{prefix}*"

    @property
    def all_buckets(self) -> list[str]:
        from modules.naming import BUCKETS
        regions = [self.region] + ([self.config.dr_region] if self.config.data.replication.enabled else [])
        return sorted(self.naming.bucket_arn(p, r) for p in BUCKETS for r in regions)

    @property
    def keys(self) -> str:
        return f"arn:aws:kms:{self.region}:{self.account}:key/*"

    @property
    def log_groups(self) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:*"

    @property
    def persona_roles(self) -> list[str]:
        return sorted(self.naming.role_arn(p) for p in PERSONAS)

    def execution_roles(self, service: str) -> list[str]:
        """The models' execution roles that are passed to `service` (modules/serving.py)."""
        return sorted(self.naming.role_arn(f"{m.name}{EXECUTION_ROLE_SUFFIX}") for m in self.config.platform.models
                      if KINDS[m.serving].execution_service == service)

    @property
    def data_store(self) -> bool:
        """The environment has a training data store (IAM-authenticated PostgreSQL)."""
        training = self.config.platform.training
        return training.enabled and training.data_store.enabled

    def open_studio(self, persona: str) -> list[Statement]:
        """Find the environment's Studio domain and open the persona's own user profile (a presigned
        URL), when it has one: the console's Studio launcher lists the domains and describes the domain
        and the profile. The domain's ARN carries only its generated ID, so DescribeDomain is scoped to
        the environment's account and region."""
        if persona not in studio_personas(self.config):
            return []
        sm = f"arn:aws:sagemaker:{self.region}:{self.account}"
        return [_allow("OpenOwnStudioProfile", ["sagemaker:CreatePresignedDomainUrl", "sagemaker:DescribeUserProfile"],
                       f"{sm}:user-profile/*/{persona}"),
                _allow("DescribeStudioDomain", ["sagemaker:DescribeDomain"], f"{sm}:domain/*"),
                # No resource-level permissions: sagemaker:ListDomains.
                _allow("FindStudioDomainNoResourceLevel", ["sagemaker:ListDomains"], "*")]

    def run_pipelines(self) -> list[Statement]:
        """Start, watch and stop the environment's model pipelines, when it has any."""
        if not pipeline_models(self.config):
            return []
        pipelines = self.sagemaker("pipeline")
        return [_allow("RunModelPipelines", [
            "sagemaker:DescribePipeline", "sagemaker:DescribePipelineDefinitionForExecution",
            "sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps",
            "sagemaker:ListPipelineExecutions", "sagemaker:ListPipelineParametersForExecution",
            "sagemaker:StartPipelineExecution", "sagemaker:StopPipelineExecution"],
            [pipelines, f"{pipelines}/execution/*"]),
            # No resource-level permissions: sagemaker:ListPipelines.
            _allow("FindModelPipelinesNoResourceLevel", ["sagemaker:ListPipelines"], "*")]

    def training_role(self) -> list[str]:
        """The training execution role, when the environment has a training lane (modules/training.py)."""
        return [self.naming.role_arn(r) for r in training_roles(self.config)[:1]]

    def key_condition(self, *key_classes: str, via: tuple[str, ...] = ("s3",)) -> dict:
        """Use of the data keys of these classes (identified by alias), only through these services."""
        return {
            "ForAnyValue:StringEquals": {"kms:ResourceAliases": sorted(self.naming.kms_alias(c) for c in key_classes)},
            "StringEquals": {"kms:ViaService": sorted(f"{s}.{self.region}.amazonaws.com" for s in via)},
        }

    def invocable(self) -> dict[str, list[str]]:
        """Invoke grant (by Sid) → the sorted ARNs it covers: what each model's serving kind lets callers
        invoke (SageMaker endpoints, Lambda `live` aliases, those of them with an IAM-auth function URL)."""
        resources: dict[str, list[str]] = {grant.sid: [] for grant in invoke_grants()}
        for model in self.config.platform.models:
            for grant in KINDS[model.serving].invoke:
                arn = grant.resource(self.naming, model)
                if arn is not None:
                    resources[grant.sid].append(arn)
        return {sid: sorted(arns) for sid, arns in resources.items()}


def _allow(sid: str, actions, resources, condition: dict | None = None) -> Statement:
    return statement(sid, "Allow", sorted(set(actions)), resources if isinstance(resources, str) else sorted(set(resources)),
                     condition=condition)


def _deny(sid: str, actions, resources, condition: dict | None = None, not_actions: bool = False) -> Statement:
    return statement(sid, "Deny", sorted(set(actions)), resources if isinstance(resources, str) else sorted(set(resources)),
                     condition=condition, not_actions=not_actions)


SAGEMAKER = "sagemaker.amazonaws.com"


def _pass_role(arns: EnvArns, sid: str, roles: list[str], service: str) -> list[Statement]:
    """iam:PassRole of exactly these roles, only to `service`. Whoever passes a role hands its data
    access to the job or model it starts, so each persona passes only roles whose keys it holds."""
    statements = [_allow(sid, ["iam:PassRole"], roles, {"StringEquals": {"iam:PassedToService": [service]}})] \
        if roles else []
    # Persona roles share the name prefix but are never service roles.
    return [*statements, _deny("DenyPassingPersonaRoles", ["iam:PassRole"], arns.persona_roles)]


# --- read-only building blocks (auditor, and the other personas' monitoring views) -------------

def _monitoring_read(arns: EnvArns) -> list[Statement]:
    return [
        # No resource-level permissions: cloudwatch:GetMetricData, cloudwatch:GetMetricStatistics,
        # cloudwatch:ListDashboards, cloudwatch:ListMetrics, logs:DescribeLogGroups,
        # logs:DescribeQueries, logs:StopQuery.
        _allow("MonitoringReadNoResourceLevel", [
            "cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListDashboards",
            "cloudwatch:ListMetrics", "logs:DescribeLogGroups", "logs:DescribeQueries", "logs:StopQuery"], "*"),
        _allow("AlarmRead", ["cloudwatch:DescribeAlarms"], f"arn:aws:cloudwatch:{arns.region}:{arns.account}:alarm:*"),
        _allow("DashboardRead", ["cloudwatch:GetDashboard"],
               f"arn:aws:cloudwatch::{arns.account}:dashboard/{arns.prefix}-*"),
        _allow("LogRead", ["logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents",
                           "logs:GetLogGroupFields", "logs:GetQueryResults", "logs:StartQuery"], arns.log_groups),
    ]


def _edge_read(arns: EnvArns) -> list[Statement]:
    """CloudFront's regional parts in us-east-1: its WAF web ACLs (CLOUDFRONT scope, `global/` ARNs), their
    log groups and CloudFront's, and the edge key's configuration. Nothing when no model is behind CloudFront."""
    edge, a = arns.edge_region, arns.account
    if edge is None:
        return []
    return [
        _allow("EdgeWebAclRead", ["wafv2:GetLoggingConfiguration", "wafv2:GetWebACL"],
               f"arn:aws:wafv2:{edge}:{a}:global/webacl/{arns.prefix}-*/*"),
        _allow("EdgeLogRead", ["logs:DescribeLogStreams", "logs:FilterLogEvents", "logs:GetLogEvents",
                               "logs:GetLogGroupFields", "logs:GetQueryResults", "logs:StartQuery"],
               f"arn:aws:logs:{edge}:{a}:log-group:*"),
        _allow("EdgeKeyRead", ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListGrants",
                               "kms:ListResourceTags"], f"arn:aws:kms:{edge}:{a}:key/*"),
    ]


def _audit_read(arns: EnvArns) -> list[Statement]:
    r, a = arns.region, arns.account
    regions = sorted({r, arns.config.dr_region})
    return [
        # No resource-level permissions (each listed): cloudtrail:DescribeTrails, cloudtrail:ListTrails,
        # cloudtrail:LookupEvents; config:DescribeComplianceByConfigRule, config:DescribeComplianceByResource,
        # config:DescribeConfigRuleEvaluationStatus, config:DescribeConfigRules, config:DescribeConformancePacks,
        # config:DescribeDeliveryChannels, config:GetComplianceDetailsByResource,
        # config:GetComplianceSummaryByConfigRule, config:GetResourceConfigHistory, config:ListDiscoveredResources;
        # guardduty:GetFindings, guardduty:GetFindingsStatistics, guardduty:ListDetectors,
        # guardduty:ListFilters, guardduty:ListFindings; securityhub:ListFindingAggregators;
        # access-analyzer:ListAnalyzers; iam:GetAccountAuthorizationDetails, iam:GetAccountPasswordPolicy,
        # iam:GetAccountSummary, iam:GetCredentialReport, iam:ListPolicies, iam:ListRoles;
        # kms:ListAliases, kms:ListKeys; s3:ListAllMyBuckets; ec2:Describe* (EC2 describe calls never
        # support resource-level permissions: the eight listed); inspector2:ListCoverage,
        # inspector2:ListFindings; macie2:GetFindings, macie2:ListFindings; sns:ListTopics;
        # events:ListRules; lambda:ListFunctions; sagemaker:List* (the eight listed);
        # autoscaling:DescribeAutoScalingGroups; elasticloadbalancing:Describe* (the three listed).
        _allow("AuditReadNoResourceLevel", [
            "access-analyzer:ListAnalyzers",
            "autoscaling:DescribeAutoScalingGroups",
            "cloudtrail:DescribeTrails", "cloudtrail:ListTrails", "cloudtrail:LookupEvents",
            "config:DescribeComplianceByConfigRule", "config:DescribeComplianceByResource",
            "config:DescribeConfigRuleEvaluationStatus", "config:DescribeConfigRules",
            "config:DescribeConformancePacks", "config:DescribeDeliveryChannels",
            "config:GetComplianceDetailsByResource", "config:GetComplianceSummaryByConfigRule",
            "config:GetResourceConfigHistory", "config:ListDiscoveredResources",
            "ec2:DescribeFlowLogs", "ec2:DescribeInstances", "ec2:DescribeNetworkAcls", "ec2:DescribeRouteTables",
            "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcEndpoints", "ec2:DescribeVpcs",
            "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeTargetGroups",
            "elasticloadbalancing:DescribeTargetHealth",
            "events:ListRules",
            "guardduty:GetFindings", "guardduty:GetFindingsStatistics", "guardduty:ListDetectors",
            "guardduty:ListFilters", "guardduty:ListFindings",
            "iam:GetAccountAuthorizationDetails", "iam:GetAccountPasswordPolicy", "iam:GetAccountSummary",
            "iam:GetCredentialReport", "iam:ListPolicies", "iam:ListRoles",
            "inspector2:ListCoverage", "inspector2:ListFindings",
            "kms:ListAliases", "kms:ListKeys",
            "lambda:ListFunctions",
            "macie2:GetFindings", "macie2:ListFindings",
            "s3:ListAllMyBuckets",
            "sagemaker:ListEndpointConfigs", "sagemaker:ListEndpoints", "sagemaker:ListModelPackageGroups",
            "sagemaker:ListModels", "sagemaker:ListProcessingJobs", "sagemaker:ListTrainingJobs",
            "securityhub:ListFindingAggregators",
            "sns:ListTopics",
        ], "*"),
        _allow("TrailRead", ["cloudtrail:GetEventSelectors", "cloudtrail:GetInsightSelectors", "cloudtrail:GetTrail",
                             "cloudtrail:GetTrailStatus"],
               [f"arn:aws:cloudtrail:{reg}:{a}:trail/*" for reg in regions]),
        _allow("ConfigRead", ["config:DescribeConfigurationRecorderStatus", "config:DescribeConfigurationRecorders",
                              "config:DescribeConformancePackCompliance", "config:GetComplianceDetailsByConfigRule",
                              "config:GetConformancePackComplianceSummary"],
               [f"arn:aws:config:{r}:{a}:config-rule/*", f"arn:aws:config:{r}:{a}:configuration-recorder/*",
                f"arn:aws:config:{r}:{a}:conformance-pack/*"]),
        _allow("SecurityHubRead", ["securityhub:DescribeHub", "securityhub:DescribeStandards",
                                   "securityhub:DescribeStandardsControls", "securityhub:GetEnabledStandards",
                                   "securityhub:GetFindings", "securityhub:GetInsightResults", "securityhub:GetInsights"],
               f"arn:aws:securityhub:{r}:{a}:hub/default"),
        _allow("GuardDutyRead", ["guardduty:GetCoverageStatistics", "guardduty:GetDetector", "guardduty:ListCoverage"],
               f"arn:aws:guardduty:{r}:{a}:detector/*"),
        _allow("AccessAnalyzerRead", ["access-analyzer:GetAnalyzer", "access-analyzer:GetFinding",
                                      "access-analyzer:ListFindings"],
               f"arn:aws:access-analyzer:{r}:{a}:analyzer/*"),
        _allow("IamRead", ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:GetRole", "iam:GetRolePolicy",
                           "iam:ListAttachedRolePolicies", "iam:ListPolicyVersions", "iam:ListRolePolicies"],
               [f"arn:aws:iam::{a}:policy/*", f"arn:aws:iam::{a}:role/*"]),
        _allow("KeyRead", ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListGrants",
                           "kms:ListResourceTags"], [f"arn:aws:kms:{reg}:{a}:key/*" for reg in regions]),
        _allow("BucketConfigurationRead", [
            "s3:GetBucketAcl", "s3:GetBucketLocation", "s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration",
            "s3:GetBucketOwnershipControls", "s3:GetBucketPolicy", "s3:GetBucketPolicyStatus",
            "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging", "s3:GetBucketVersioning",
            "s3:GetEncryptionConfiguration", "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration"],
            arns.all_buckets),
        _allow("SageMakerRead", ["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig",
                                 "sagemaker:DescribeModel", "sagemaker:DescribeModelPackageGroup",
                                 "sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob"],
               [arns.sagemaker(k) for k in ("endpoint", "endpoint-config", "model", "model-package-group",
                                            "processing-job", "training-job")]),
        _allow("LambdaRead", ["lambda:GetFunctionConfiguration", "lambda:GetPolicy", "lambda:ListAliases",
                              "lambda:ListVersionsByFunction"], arns.functions),
        _allow("AlertingRead", ["events:DescribeRule", "events:ListTargetsByRule", "sns:GetTopicAttributes",
                                "sns:ListSubscriptionsByTopic"],
               [f"arn:aws:events:{r}:{a}:rule/{arns.prefix}-*", arns.naming.alert_topic_arn()]),
        *_edge_read(arns),
        *_monitoring_read(arns),
    ]


# --- personas ----------------------------------------------------------------------------------

def security_auditor(arns: EnvArns) -> list[Statement]:
    """Read-only, including CloudTrail, Config, Security Hub, GuardDuty and the CloudTrail log files."""
    return [
        *_audit_read(arns),
        _allow("AuditLogFilesList", ["s3:ListBucket"], arns.bucket("audit")),
        _allow("AuditLogFilesRead", ["s3:GetObject"],
               [arns.objects("audit", "cloudtrail/"), arns.objects("audit", "config/")]),
        _allow("AuditKeyDecryptViaS3", ["kms:Decrypt"], arns.keys, arns.key_condition("audit")),
        # The alert archive and the approval events EventBridge could not deliver: reads, never deletes
        # (messages become visible again; the retention ends them).
        _allow("AlertArchiveRead", ["sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
               [arns.naming.alert_archive_arn(), arns.naming.queue_arn(approvals_dlq_name(arns.naming))]),
        _allow("AlertArchiveDecryptViaSqs", ["kms:Decrypt"], arns.keys, arns.key_condition("audit", via=("sqs",))),
    ]


def platform_admin(arns: EnvArns) -> list[Statement]:
    """Break-glass: everything the auditor reads plus incident containment (isolate and stop
    instances, scale in fleets, throttle functions, block addresses, triage findings). It cannot
    deploy models, change IAM or weaken the audit trail; assuming it raises an alarm."""
    r, a, p = arns.region, arns.account, arns.prefix
    return [
        *_audit_read(arns),
        _allow("ContainInstances", ["ec2:CreateSnapshot", "ec2:ModifyInstanceAttribute", "ec2:RebootInstances",
                                    "ec2:StopInstances"],
               [f"arn:aws:ec2:{r}:{a}:instance/*", f"arn:aws:ec2:{r}:{a}:volume/*",
                f"arn:aws:ec2:{r}::snapshot/*", f"arn:aws:ec2:{r}:{a}:security-group/*"]),
        _allow("RestrictSecurityGroups", ["ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress"],
               f"arn:aws:ec2:{r}:{a}:security-group/*"),
        _allow("ContainFleets", ["autoscaling:EnterStandby", "autoscaling:ResumeProcesses",
                                 "autoscaling:SetDesiredCapacity", "autoscaling:SetInstanceHealth",
                                 "autoscaling:SuspendProcesses"],
               f"arn:aws:autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/{p}-*"),
        _allow("ThrottleFunctions", ["lambda:DeleteFunctionConcurrency", "lambda:PutFunctionConcurrency"],
               arns.functions[0]),
        # UpdateIPSet names the set by its ID (generated by WAF) and takes the lock token GetIPSet returns.
        # No resource-level permissions: wafv2:ListIPSets (it finds the ID).
        *([_allow("BlockAddresses", ["wafv2:GetIPSet", "wafv2:UpdateIPSet"], arns.blocked_ip_sets),
           _allow("FindIpSetsNoResourceLevel", ["wafv2:ListIPSets"], "*")] if arns.blocked_ip_sets else []),
        # No resource-level permissions: guardduty:ArchiveFindings, guardduty:UnarchiveFindings,
        # guardduty:UpdateFindingsFeedback.
        _allow("TriageFindingsNoResourceLevel", ["guardduty:ArchiveFindings", "guardduty:UnarchiveFindings",
                                                  "guardduty:UpdateFindingsFeedback"], "*"),
        _allow("TriageSecurityHubFindings", ["securityhub:BatchUpdateFindings"],
               f"arn:aws:securityhub:{r}:{a}:hub/default"),
        _allow("AnnounceIncident", ["sns:Publish"], arns.naming.alert_topic_arn()),
        # The alerts topic is encrypted with the audit key: SNS uses it on the publisher's behalf.
        _allow("AnnounceIncidentEncryptViaSns", ["kms:Decrypt", "kms:GenerateDataKey"], arns.keys,
               arns.key_condition("audit", via=("sns",))),
    ]


def ml_engineer(arns: EnvArns) -> list[Statement]:
    """Publishes and registers model versions and watches serving and training; in dev also deploys:
    there it is the only persona that creates or updates SageMaker models, endpoint configs and
    endpoints, and publishes Lambda code, versions and aliases. In staging and prod it deploys nothing
    (the deployer does, by gated Terraform) and passes no role. It starts no job: in dev it may pass
    the models' execution roles (see the module doc)."""
    by_hand = hand_deploys(arns.config.tier)
    serving = [arns.sagemaker(k) for k in ("endpoint", "endpoint-config", "model")]
    return [
        _allow("WatchServing", ["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig",
                                "sagemaker:DescribeModel", "sagemaker:InvokeEndpoint", "sagemaker:ListTags"], serving),
        *([_allow("DeployModels", [
            "sagemaker:AddTags", "sagemaker:CreateEndpoint", "sagemaker:CreateEndpointConfig", "sagemaker:CreateModel",
            "sagemaker:DeleteEndpoint", "sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel",
            "sagemaker:UpdateEndpoint", "sagemaker:UpdateEndpointWeightsAndCapacities"], serving)] if by_hand else []),
        _allow("RegisterModelsAndWatchTraining", [
            "sagemaker:AddTags", "sagemaker:CreateModelPackage", "sagemaker:CreateModelPackageGroup",
            "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeProcessingJob",
            "sagemaker:DescribeTrainingJob",
            "sagemaker:StopProcessingJob", "sagemaker:StopTrainingJob"],
            [arns.sagemaker(k) for k in ("model-package", "model-package-group", "processing-job", "training-job")]
            + [f"arn:aws:sagemaker:{arns.region}:{arns.account}:model-package/{arns.prefix}-*/*"]),
        # No resource-level permissions: sagemaker:ListEndpointConfigs, sagemaker:ListEndpoints,
        # sagemaker:ListModelPackageGroups, sagemaker:ListModels, sagemaker:ListProcessingJobs,
        # sagemaker:ListTrainingJobs, lambda:ListFunctions, ecr:GetAuthorizationToken.
        _allow("ListNoResourceLevel", [
            "ecr:GetAuthorizationToken", "lambda:ListFunctions", "sagemaker:ListEndpointConfigs",
            "sagemaker:ListEndpoints", "sagemaker:ListModelPackageGroups", "sagemaker:ListModels",
            "sagemaker:ListProcessingJobs", "sagemaker:ListTrainingJobs"], "*"),
        _allow("WatchFunctions", [
            "lambda:GetAlias", "lambda:GetFunction", "lambda:GetFunctionConfiguration", "lambda:InvokeFunction",
            "lambda:ListAliases", "lambda:ListVersionsByFunction"], arns.functions),
        *([_allow("PublishFunctions", ["lambda:CreateAlias", "lambda:PublishVersion", "lambda:UpdateAlias",
                                       "lambda:UpdateFunctionCode"], arns.functions)] if by_hand else []),
        _allow("PushImages", [
            "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:CompleteLayerUpload", "ecr:DescribeImages",
            "ecr:DescribeRepositories", "ecr:GetDownloadUrlForLayer", "ecr:InitiateLayerUpload", "ecr:ListImages",
            "ecr:PutImage", "ecr:UploadLayerPart"], arns.repositories),
        _allow("ListDataBuckets", ["s3:GetBucketLocation", "s3:ListBucket"],
               [arns.bucket("datasets"), arns.bucket("model-artifacts")]),
        _allow("ReadDatasets", ["s3:GetObject"], arns.objects("datasets")),
        # `model publish`: new versions under models/ (the bucket policy makes them write-once), the
        # environment's object lock on each, and aborting its own failed multipart uploads.
        _allow("ReadModelArtifacts", ["s3:GetObject"], arns.objects("model-artifacts")),
        _allow("PublishModelArtifacts", ["s3:AbortMultipartUpload", "s3:PutObject", "s3:PutObjectRetention"],
               arns.objects("model-artifacts", MODELS_PREFIX)),
        _allow("UseTrainingAndModelKeys", KMS_USE, arns.keys,
               arns.key_condition("training", "model", via=("s3", "sagemaker"))),
        *(_endpoint_key_grants(arns) if by_hand else []),
        # The execution roles of the SageMaker models it deploys, to SageMaker only; PassRole cannot tell
        # which API the role goes to, so no API that runs a job with a passed role.
        *_pass_role(arns, "PassModelExecutionRoles", arns.execution_roles(SAGEMAKER) if by_hand else [], SAGEMAKER),
        _deny("DenyJobsWithPassedRoles", ROLE_TAKING_SAGEMAKER_ACTIONS, "*"),
        *_monitoring_read(arns),
        *([read_job_template(arns.naming)] if arns.training_role() else []),
        *([connect_to_data_store(arns.naming, "ml-engineer")] if arns.data_store else []),
        *arns.open_studio("ml-engineer"),
        *job_guards(isolate_processing=not arns.data_store),
        _deny_approval(),
    ]


def _endpoint_key_grants(arns: EnvArns) -> list[Statement]:
    """Endpoint configs encrypt their storage and captured data with the inference key: SageMaker checks
    the key and creates grants on it as the caller of CreateEndpoint / UpdateEndpoint."""
    return [_allow("DescribeInferenceKeyForEndpoints", ["kms:DescribeKey"], arns.keys,
                   arns.key_condition("inference", via=("sagemaker",))),
            _allow("InferenceKeyGrantsForEndpoints", ["kms:CreateGrant"], arns.keys,
                   {**arns.key_condition("inference", via=("sagemaker",)),
                    "Bool": {"kms:GrantIsForAWSResource": "true"}})]


def data_scientist(arns: EnvArns) -> list[Statement]:
    """Reads datasets, writes experiment prefixes, runs training as the training role and reads what
    it wrote, tracks experiments; may not deploy or approve, and may not touch the inference or audit
    data classes."""
    experiments = [arns.sagemaker(k) for k in ("experiment", "experiment-trial", "experiment-trial-component")]
    return [
        _allow("ListDatasets", ["s3:GetBucketLocation", "s3:ListBucket"], arns.bucket("datasets")),
        _allow("ReadDatasets", ["s3:GetObject"], arns.objects("datasets")),
        _allow("WriteExperiments", ["s3:DeleteObject", "s3:PutObject"], arns.objects("datasets", "experiments/")),
        _allow("UseTrainingKey", KMS_USE, arns.keys, arns.key_condition("training", via=("s3", "sagemaker"))),
        # What training jobs wrote (models/ of the model-artifacts bucket, under the model key): it passes
        # the training role, which writes there, so it holds that role's data classes itself.
        _allow("ListTrainedModels", ["s3:ListBucket"], arns.bucket("model-artifacts"),
               {"StringLike": {"s3:prefix": [MODELS_PREFIX + "*"]}}),
        _allow("ReadTrainedModels", ["s3:GetObject"], arns.objects("model-artifacts", MODELS_PREFIX)),
        _allow("DecryptTrainedModelsViaS3", ["kms:Decrypt", "kms:DescribeKey"], arns.keys, arns.key_condition("model")),
        _allow("TrackExperiments", [
            "sagemaker:AddTags", "sagemaker:AssociateTrialComponent", "sagemaker:CreateExperiment",
            "sagemaker:CreateTrial", "sagemaker:CreateTrialComponent", "sagemaker:DescribeExperiment",
            "sagemaker:DescribeTrial", "sagemaker:DescribeTrialComponent", "sagemaker:UpdateTrialComponent"],
            experiments),
        _allow("RunTraining", [
            "sagemaker:AddTags", "sagemaker:CreateProcessingJob", "sagemaker:CreateTrainingJob",
            "sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob", "sagemaker:StopProcessingJob",
            "sagemaker:StopTrainingJob"], [arns.sagemaker("processing-job"), arns.sagemaker("training-job")]),
        # No resource-level permissions: sagemaker:ListExperiments, sagemaker:ListProcessingJobs,
        # sagemaker:ListTrainingJobs, sagemaker:ListTrialComponents, sagemaker:ListTrials, sagemaker:Search.
        _allow("ListNoResourceLevel", [
            "sagemaker:ListExperiments", "sagemaker:ListProcessingJobs", "sagemaker:ListTrainingJobs",
            "sagemaker:ListTrialComponents", "sagemaker:ListTrials", "sagemaker:Search"], "*"),
        # The model pipelines (modules/platform/model_pipelines.py): they run as their own role, so
        # starting one passes no role; what they register stays pending the model-approver.
        *arns.run_pipelines(),
        # The training role (datasets in, models/ out) is the only role a data scientist may pass: the
        # model execution roles hold the model and inference keys.
        *_pass_role(arns, "PassTrainingRoles", arns.training_role(), SAGEMAKER),
        *_monitoring_read(arns),
        *([read_job_template(arns.naming)] if arns.training_role() else []),
        *([connect_to_data_store(arns.naming, "data-scientist")] if arns.data_store else []),
        *arns.open_studio("data-scientist"),
        *job_guards(isolate_processing=not arns.data_store),
        _deny_approval(),
        _deny("DenyDeployment", DEPLOY_ACTIONS + (
            "ecr:PutImage", "lambda:DeleteFunction", "lambda:UpdateFunctionConfiguration",
            "sagemaker:DeleteEndpoint", "sagemaker:DeleteEndpointConfig", "sagemaker:DeleteModel"), "*"),
        _deny("DenyInferenceAndAuditData", ["s3:*"],
              [arns.bucket("inference"), arns.objects("inference"), arns.bucket("audit"), arns.objects("audit")]),
        _deny("DenyInferenceAndAuditKeys", ["kms:*"], "*",
              {"ForAnyValue:StringEquals": {"kms:ResourceAliases": sorted(
                  arns.naming.kms_alias(c) for c in ("inference", "audit"))}}),
        # Inference data also lives in DynamoDB, SQS, EFS and the endpoints' payloads.
        _deny("DenyInferenceStores", ["dynamodb:*", "elasticfilesystem:*", "sqs:*"] + list(INVOKE_ACTIONS), "*"),
    ]


def _deny_approval() -> Statement:
    """Whoever trains or registers never approves (the boundary says so for every role but the approver)."""
    return _deny("DenyModelApproval", ["sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"], "*",
                 {"StringEquals": {"sagemaker:ModelApprovalStatus": APPROVED}})


def model_approver(arns: EnvArns) -> list[Statement]:
    """Reviews registered model versions and approves or rejects them; reads what it judges on (the
    package, its training job, the dashboards). It trains, registers, deploys and passes nothing."""
    packages = f"arn:aws:sagemaker:{arns.region}:{arns.account}:model-package/{arns.prefix}-*/*"
    return [
        _allow("ReviewModelPackages", ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup",
                                       "sagemaker:ListModelPackages", "sagemaker:ListTags"],
               [packages, arns.sagemaker("model-package-group")]),
        _allow("ApproveModelPackages", ["sagemaker:UpdateModelPackage"], packages),
        _allow("ReviewTrainingJobs", ["sagemaker:DescribeProcessingJob", "sagemaker:DescribeTrainingJob"],
               [arns.sagemaker("processing-job"), arns.sagemaker("training-job")]),
        # No resource-level permissions: sagemaker:ListModelPackageGroups, sagemaker:ListTrainingJobs.
        _allow("ListNoResourceLevel", ["sagemaker:ListModelPackageGroups", "sagemaker:ListTrainingJobs"], "*"),
        *_pass_role(arns, "PassNoRole", [], SAGEMAKER),
        *_monitoring_read(arns),
        _deny("DenyTrainingRegistrationAndDeployment", list(JOB_ACTIONS) + list(DEPLOY_ACTIONS) + [
            "sagemaker:CreateModelPackage", "sagemaker:CreateModelPackageGroup", "sagemaker:DeleteModelPackage",
            "sagemaker:DeleteModelPackageGroup"], "*"),
    ]


def app_invoker(arns: EnvArns) -> list[Statement]:
    """Only invokes this environment's endpoints and functions (through the `live` alias)."""
    invocable = arns.invocable()
    statements: list[Statement] = [_allow(grant.sid, grant.actions, invocable[grant.sid], grant.condition)
                                   for grant in invoke_grants() if invocable[grant.sid]]
    # Whatever is attached later, this role can do nothing but invoke.
    statements.append(_deny("DenyEverythingButInvoke", list(INVOKE_ACTIONS), "*", not_actions=True))
    return statements


def mfa_guard() -> Statement:
    """Defence in depth for human roles trusted through IAM: a session without MFA can do nothing."""
    return statement("DenyWithoutMfa", "Deny", ["sts:GetCallerIdentity"], "*", not_actions=True,
                     condition={"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}})


BUILDERS = {
    "platform-admin": platform_admin,
    "ml-engineer": ml_engineer,
    "data-scientist": data_scientist,
    "app-invoker": app_invoker,
    "security-auditor": security_auditor,
    "model-approver": model_approver,
}


def persona_policy(persona: str, config: EnvConfig, *, mfa_guard_statement: bool) -> str:
    statements = BUILDERS[persona](EnvArns(config))
    if mfa_guard_statement:
        statements = [*statements, mfa_guard()]
    return document(*statements)
