"""Separation of duties: persona × action × resource → allowed or denied, evaluated by
policies/iam_eval.py on the synthesized documents (the role's inline policies AND the permission
boundary from the data stack), in every environment."""
from __future__ import annotations

import json
from functools import lru_cache

import pytest

from modules.access.persona_policies import persona_policy
from modules.access.personas import uses_iam_mfa
from modules.access.settings import PERSONAS, WORKLOAD_PERSONAS, AccessSettings
from modules.boundary import hand_deploys
from modules.config import load_env
from modules.naming import Naming
from policies.iam_eval import Request, as_principal, is_allowed, kms_is_allowed
from tests.access.conftest import EnvIam
from tests.synthesized import ENVS

ML, DS, INV, AUD, ADM = "ml-engineer", "data-scientist", "app-invoker", "security-auditor", "platform-admin"
APR = "model-approver"
VPC = {"sagemaker:VpcSubnets": ["subnet-0123456789abcdef0"]}


def guarded_job(n: Naming, **changes) -> dict:
    """A training job request as the provided template makes it: VPC, this account's keys, traffic
    encryption and network isolation; `changes` overrides keys (None drops one)."""
    key = f"arn:aws:kms:{n.region}:{n.account_id}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    context = {**VPC, "sagemaker:VpcSecurityGroupIds": ["sg-0123456789abcdef0"], "sagemaker:VolumeKmsKey": key,
               "sagemaker:OutputKmsKey": key, "sagemaker:InterContainerTrafficEncryption": True,
               "sagemaker:NetworkIsolation": True, "sagemaker:InstanceTypes": ["ml.m5.xlarge"]}
    context.update(changes)
    return {k: v for k, v in context.items() if v is not None}


def package(n: Naming) -> str:
    return f"arn:aws:sagemaker:{n.region}:{n.account_id}:model-package/{n.prefix}-chat/3"


@lru_cache(maxsize=None)
def other_env(env: str) -> Naming:
    return Naming.of(load_env(ENVS[(ENVS.index(env) + 1) % len(ENVS)]))


def kms(n: Naming, key_class: str, via: str = "s3") -> dict:
    return {"kms:ResourceAliases": [n.kms_alias(key_class)], "kms:ViaService": f"{via}.{n.region}.amazonaws.com"}


def sm(n: Naming, kind: str, name: str = "chat") -> str:
    return f"arn:aws:sagemaker:{n.region}:{n.account_id}:{kind}/{n.prefix}-{name}"


@lru_cache(maxsize=None)
def exec_role(n: Naming, kind: str) -> str:
    """The execution role of the environment's first model of this serving kind."""
    model = next(m for m in load_env(n.env).platform.models if m.serving == kind)
    return n.role_arn(f"{model.name}-exec")


HAND = "deploys by hand"  # allowed: {ML} where the ml-engineer deploys by hand (dev), nobody elsewhere
# allowed: {DS} where processing jobs reach a training data store (an isolated container cannot), nobody elsewhere
STORE = "processing reaches the data store"


@lru_cache(maxsize=None)
def by_hand(env: str) -> bool:
    return hand_deploys(load_env(env).tier)


def has_data_store(env: str) -> bool:
    training = load_env(env).platform.training
    return training.enabled and training.data_store.enabled


def serverless_model(n: Naming) -> str:
    return sm(n, "model", "serverless-chat-1-0-0")


def decide(iam: EnvIam, persona: str, action: str, resource: str, extra: dict | None = None,
           *, mfa: bool | None = True, region: str | None = None) -> bool:
    """`mfa`: the session's aws:MultiFactorAuthPresent (None: absent, as in Identity Center sessions)."""
    role = iam.persona(persona)
    context = {"aws:RequestedRegion": region or iam.naming.region, "aws:PrincipalArn": iam.naming.role_arn(persona),
               "aws:PrincipalAccount": iam.naming.account_id}
    if persona not in WORKLOAD_PERSONAS and mfa is not None:
        context["aws:MultiFactorAuthPresent"] = "true" if mfa else "false"
    context.update(extra or {})
    return is_allowed(role.inline, Request(action, resource, context), boundary=iam.boundary)


# (case, action, resource(n, other), extra context, personas allowed). Every persona is checked on every row.
ROWS = [
    # Only the ML engineer deploys, and only in dev (HAND); in staging and prod nobody inside the boundary.
    ("create-model", "sagemaker:CreateModel", lambda n, o: sm(n, "model"), VPC, HAND),
    ("create-endpoint-config", "sagemaker:CreateEndpointConfig", lambda n, o: sm(n, "endpoint-config"), None, HAND),
    ("create-endpoint", "sagemaker:CreateEndpoint", lambda n, o: sm(n, "endpoint"), None, HAND),
    ("update-endpoint", "sagemaker:UpdateEndpoint", lambda n, o: sm(n, "endpoint"), None, HAND),
    ("update-endpoint-weights", "sagemaker:UpdateEndpointWeightsAndCapacities", lambda n, o: sm(n, "endpoint"), None, HAND),
    ("publish-version", "lambda:PublishVersion", lambda n, o: n.function_arn("fraud"), None, HAND),
    ("create-alias", "lambda:CreateAlias", lambda n, o: n.function_arn("fraud"), None, HAND),
    ("update-alias", "lambda:UpdateAlias", lambda n, o: f"{n.function_arn('fraud')}:live", None, HAND),
    ("update-function-code", "lambda:UpdateFunctionCode", lambda n, o: n.function_arn("fraud"), None, HAND),
    # ... only in this environment, only with a VPC.
    ("create-endpoint-other-env", "sagemaker:CreateEndpoint", lambda n, o: sm(o, "endpoint"), None, set()),
    ("publish-version-other-env", "lambda:PublishVersion", lambda n, o: o.function_arn("fraud"), None, set()),
    ("create-model-without-vpc", "sagemaker:CreateModel", lambda n, o: sm(n, "model"), None, set()),
    ("training-job-without-vpc", "sagemaker:CreateTrainingJob", lambda n, o: sm(n, "training-job", "t1"), None, set()),
    # Jobs: only the data scientist, with the guards; never the ML engineer, who may pass the models'
    # execution roles (a job would run with one).
    ("training-job-vpc-only", "sagemaker:CreateTrainingJob", lambda n, o: sm(n, "training-job", "t1"), VPC, set()),
    ("training-job-guarded", "sagemaker:CreateTrainingJob", lambda n, o: sm(n, "training-job", "t1"), "job", {DS}),
    ("processing-job-guarded", "sagemaker:CreateProcessingJob", lambda n, o: sm(n, "processing-job", "p1"), "job",
     {DS}),
    ("training-job-without-volume-key", "sagemaker:CreateTrainingJob", lambda n, o: sm(n, "training-job", "t1"),
     "job-no-volume-key", set()),
    # Local NVMe storage takes no volume key (SageMaker refuses one there): such jobs run without it.
    ("training-job-on-local-storage-without-volume-key", "sagemaker:CreateTrainingJob",
     lambda n, o: sm(n, "training-job", "t1"), "job-local-storage-no-volume-key", {DS}),
    ("processing-job-on-local-storage-without-volume-key", "sagemaker:CreateProcessingJob",
     lambda n, o: sm(n, "processing-job", "p1"), "job-d-family-no-volume-key", {DS}),
    ("training-job-mixing-local-storage-and-ebs-without-volume-key", "sagemaker:CreateTrainingJob",
     lambda n, o: sm(n, "training-job", "t1"), "job-mixed-no-volume-key", {DS}),
    ("training-job-on-ebs-without-volume-key", "sagemaker:CreateTrainingJob",
     lambda n, o: sm(n, "training-job", "t1"), "job-ebs-no-volume-key", set()),
    ("training-job-with-foreign-output-key", "sagemaker:CreateTrainingJob",
     lambda n, o: sm(n, "training-job", "t1"), "job-foreign-output-key", set()),
    ("training-job-without-traffic-encryption", "sagemaker:CreateTrainingJob",
     lambda n, o: sm(n, "training-job", "t1"), "job-no-traffic-encryption", set()),
    ("training-job-traffic-encryption-off", "sagemaker:CreateTrainingJob",
     lambda n, o: sm(n, "training-job", "t1"), "job-traffic-encryption-off", set()),
    ("training-job-without-isolation", "sagemaker:CreateTrainingJob", lambda n, o: sm(n, "training-job", "t1"),
     "job-no-isolation", set()),
    # Processing jobs are isolated too, except where they connect to the training data store.
    ("processing-job-without-isolation", "sagemaker:CreateProcessingJob", lambda n, o: sm(n, "processing-job", "p1"),
     "job-no-isolation", STORE),
    # The registry: trainers register pending versions, only the approver approves, and it deploys nothing.
    ("register-pending", "sagemaker:CreateModelPackage", lambda n, o: package(n), "pending", {ML}),
    ("register-approved", "sagemaker:CreateModelPackage", lambda n, o: package(n), "approved", set()),
    ("approve-version", "sagemaker:UpdateModelPackage", lambda n, o: package(n), "approved", {APR}),
    ("reject-version", "sagemaker:UpdateModelPackage", lambda n, o: package(n), "rejected", {APR}),
    # An update that names no status may still swap an Approved version's inference specification.
    ("update-version-keeping-its-status", "sagemaker:UpdateModelPackage", lambda n, o: package(n), None, {APR}),
    ("approve-other-env-version", "sagemaker:UpdateModelPackage", lambda n, o: package(o), "approved", set()),
    ("describe-version", "sagemaker:DescribeModelPackage", lambda n, o: package(n), None, {ML, APR}),
    ("pass-training-role", "iam:PassRole", lambda n, o: n.role_arn("sagemaker-training"),
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, {DS}),
    ("read-job-template", "ssm:GetParameter",
     lambda n, o: f"arn:aws:ssm:{n.region}:{n.account_id}:parameter/{n.project}/{n.env}/training/job-template", None,
     {ML, DS}),
    ("open-own-studio-profile", "sagemaker:CreatePresignedDomainUrl",
     lambda n, o: f"arn:aws:sagemaker:{n.region}:{n.account_id}:user-profile/d-abc123/data-scientist", None, {DS}),
    ("open-ml-engineer-studio-profile", "sagemaker:CreatePresignedDomainUrl",
     lambda n, o: f"arn:aws:sagemaker:{n.region}:{n.account_id}:user-profile/d-abc123/ml-engineer", None, {ML}),
    ("find-studio-domains", "sagemaker:ListDomains", lambda n, o: "*", None, {ML, DS}),
    ("describe-studio-domain", "sagemaker:DescribeDomain",
     lambda n, o: f"arn:aws:sagemaker:{n.region}:{n.account_id}:domain/d-abc123", None, {ML, DS}),
    ("describe-studio-domain-other-env", "sagemaker:DescribeDomain",
     lambda n, o: f"arn:aws:sagemaker:{o.region}:{o.account_id}:domain/d-abc123", None, set()),
    ("describe-own-studio-profile", "sagemaker:DescribeUserProfile",
     lambda n, o: f"arn:aws:sagemaker:{n.region}:{n.account_id}:user-profile/d-abc123/data-scientist", None, {DS}),
    ("describe-ml-engineer-studio-profile", "sagemaker:DescribeUserProfile",
     lambda n, o: f"arn:aws:sagemaker:{n.region}:{n.account_id}:user-profile/d-abc123/ml-engineer", None, {ML}),
    ("connect-to-data-store-as-another-user", "rds-db:connect",
     lambda n, o: f"arn:aws:rds-db:{n.region}:{n.account_id}:dbuser:cluster-ABC/aegis_admin", None, set()),
    ("pass-training-role-to-lambda", "iam:PassRole", lambda n, o: n.role_arn("sagemaker-training"),
     {"iam:PassedToService": "lambda.amazonaws.com"}, set()),
    # Nobody: long-lived credentials, boundary escape, audit tampering, persona role edits, org exit.
    ("create-user", "iam:CreateUser", lambda n, o: f"arn:aws:iam::{n.account_id}:user/x", None, set()),
    ("create-access-key", "iam:CreateAccessKey", lambda n, o: f"arn:aws:iam::{n.account_id}:user/x", None, set()),
    ("drop-boundary", "iam:DeleteRolePermissionsBoundary", lambda n, o: n.role_arn(ML), None, set()),
    ("edit-persona-role", "iam:PutRolePolicy", lambda n, o: n.role_arn(ML), None, set()),
    ("retrust-persona-role", "iam:UpdateAssumeRolePolicy", lambda n, o: n.role_arn(ADM), None, set()),
    ("stop-trail", "cloudtrail:StopLogging", lambda n, o: n.trail_arn(), None, set()),
    ("delete-trail", "cloudtrail:DeleteTrail", lambda n, o: n.trail_arn(), None, set()),
    ("delete-detector", "guardduty:DeleteDetector", lambda n, o: "*", None, set()),
    ("stop-config", "config:StopConfigurationRecorder", lambda n, o: "*", None, set()),
    ("disable-security-hub", "securityhub:DisableSecurityHub", lambda n, o: "*", None, set()),
    ("schedule-key-deletion", "kms:ScheduleKeyDeletion", lambda n, o: f"arn:aws:kms:{n.region}:{n.account_id}:key/k", None, set()),
    ("disable-key", "kms:DisableKey", lambda n, o: f"arn:aws:kms:{n.region}:{n.account_id}:key/k", None, set()),
    ("leave-org", "organizations:LeaveOrganization", lambda n, o: "*", None, set()),
    ("bucket-policy", "s3:PutBucketPolicy", lambda n, o: n.bucket_arn("audit"), None, set()),
    # Serverless models (named by the convention) may be created without a VPC, never put on instances.
    ("create-serverless-model-without-vpc", "sagemaker:CreateModel", lambda n, o: serverless_model(n), None, HAND),
    ("serverless-endpoint-config", "sagemaker:CreateEndpointConfig", lambda n, o: sm(n, "endpoint-config"),
     "serverless-config", HAND),
    ("serverless-model-on-instances", "sagemaker:CreateEndpointConfig", lambda n, o: sm(n, "endpoint-config"),
     "serverless-on-instances", set()),
    # iam:PassRole: the SageMaker models' execution roles, by the ML engineer, to SageMaker only.
    ("pass-role-sagemaker", "iam:PassRole", lambda n, o: exec_role(n, "sagemaker"),
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, HAND),
    ("pass-serverless-exec-role", "iam:PassRole", lambda n, o: exec_role(n, "sagemaker-serverless"),
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, HAND),
    ("pass-lambda-exec-role", "iam:PassRole", lambda n, o: exec_role(n, "lambda"),
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, set()),
    ("pass-role-ec2", "iam:PassRole", lambda n, o: exec_role(n, "ec2"), {"iam:PassedToService": "ec2.amazonaws.com"},
     set()),
    ("pass-role-no-service", "iam:PassRole", lambda n, o: exec_role(n, "sagemaker"), None, set()),
    ("pass-other-env-role", "iam:PassRole", lambda n, o: exec_role(o, "sagemaker"),
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, set()),
    ("pass-unlisted-env-role", "iam:PassRole", lambda n, o: n.role_arn("sagemaker-execution"),
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, set()),
    ("pass-persona-role", "iam:PassRole", lambda n, o: n.role_arn(ADM),
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, set()),
    ("pass-foreign-role", "iam:PassRole", lambda n, o: f"arn:aws:iam::{n.account_id}:role/admin",
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, set()),
    # Data classes.
    ("read-datasets", "s3:GetObject", lambda n, o: f"{n.bucket_arn('datasets')}/raw/part-0.parquet", None, {ML, DS}),
    ("write-experiments", "s3:PutObject", lambda n, o: f"{n.bucket_arn('datasets')}/experiments/run-1/m.pkl", None, {DS}),
    ("write-raw-datasets", "s3:PutObject", lambda n, o: f"{n.bucket_arn('datasets')}/raw/part-0.parquet", None, set()),
    ("write-model-artifacts", "s3:PutObject",
     lambda n, o: f"{n.bucket_arn('model-artifacts')}/models/chat/1.0.0/model.tar.gz", None, {ML}),
    ("write-model-artifacts-outside-models", "s3:PutObject",
     lambda n, o: f"{n.bucket_arn('model-artifacts')}/chat/1/model.tar.gz", None, set()),
    ("read-other-env-datasets", "s3:GetObject", lambda n, o: f"{o.bucket_arn('datasets')}/raw/x", None, set()),
    ("read-inference-data", "s3:GetObject", lambda n, o: f"{n.bucket_arn('inference')}/capture/x.jsonl", None, set()),
    ("write-audit-bucket", "s3:PutObject", lambda n, o: f"{n.bucket_arn('audit')}/cloudtrail/x.json.gz", None, set()),
    ("read-trail-logs", "s3:GetObject", lambda n, o: f"{n.bucket_arn('audit')}/cloudtrail/AWSLogs/x.json.gz", None,
     {AUD}),
    ("training-key-via-s3", "kms:Decrypt", lambda n, o: f"arn:aws:kms:{n.region}:{n.account_id}:key/k",
     "training-key", {ML, DS}),
    ("training-key-direct", "kms:Decrypt", lambda n, o: f"arn:aws:kms:{n.region}:{n.account_id}:key/k",
     "training-key-direct", set()),
    ("inference-key", "kms:Decrypt", lambda n, o: f"arn:aws:kms:{n.region}:{n.account_id}:key/k",
     "inference-key", set()),
    ("inference-key-grant-for-endpoints", "kms:CreateGrant", lambda n, o: f"arn:aws:kms:{n.region}:{n.account_id}:key/k",
     "inference-key-grant", HAND),
    ("audit-key-via-s3", "kms:Decrypt", lambda n, o: f"arn:aws:kms:{n.region}:{n.account_id}:key/k",
     "audit-key", {AUD}),
    ("inference-table", "dynamodb:GetItem", lambda n, o: f"arn:aws:dynamodb:{n.region}:{n.account_id}:table/{n.prefix}-x",
     None, set()),
    # Read-only auditing.
    ("lookup-events", "cloudtrail:LookupEvents", lambda n, o: "*", None, {AUD, ADM}),
    ("trail-status", "cloudtrail:GetTrailStatus", lambda n, o: n.trail_arn(), None, {AUD, ADM}),
    ("guardduty-findings", "guardduty:GetFindings", lambda n, o: "*", None, {AUD, ADM}),
    ("guardduty-detector", "guardduty:GetDetector",
     lambda n, o: f"arn:aws:guardduty:{n.region}:{n.account_id}:detector/abc", None, {AUD, ADM}),
    ("security-hub-findings", "securityhub:GetFindings",
     lambda n, o: f"arn:aws:securityhub:{n.region}:{n.account_id}:hub/default", None, {AUD, ADM}),
    ("config-rules", "config:DescribeConfigRules", lambda n, o: "*", None, {AUD, ADM}),
    ("config-compliance", "config:GetComplianceDetailsByConfigRule",
     lambda n, o: f"arn:aws:config:{n.region}:{n.account_id}:config-rule/config-rule-abc", None, {AUD, ADM}),
    ("key-policy", "kms:GetKeyPolicy", lambda n, o: f"arn:aws:kms:{n.region}:{n.account_id}:key/k", None, {AUD, ADM}),
    ("alarms", "cloudwatch:DescribeAlarms", lambda n, o: n.alarm_arn(f"{n.prefix}-x"), None, {AUD, ADM, ML, DS, APR}),
    # Break-glass containment, which deploys nothing.
    ("stop-instance", "ec2:StopInstances", lambda n, o: f"arn:aws:ec2:{n.region}:{n.account_id}:instance/i-0abc",
     None, {ADM}),
    ("scale-in-fleet", "autoscaling:SetDesiredCapacity",
     lambda n, o: f"arn:aws:autoscaling:{n.region}:{n.account_id}:autoScalingGroup:u-1:autoScalingGroupName/{n.prefix}-vision",
     None, {ADM}),
    ("throttle-function", "lambda:PutFunctionConcurrency", lambda n, o: n.function_arn("fraud"), None, {ADM}),
    ("announce-incident", "sns:Publish", lambda n, o: n.alert_topic_arn(), None, {ADM}),
    ("archive-findings", "guardduty:ArchiveFindings", lambda n, o: "*", None, {ADM}),
    # The boundary keeps everyone in the environment's regions.
    ("other-region", "sagemaker:DescribeEndpoint",
     lambda n, o: f"arn:aws:sagemaker:us-east-2:{n.account_id}:endpoint/{n.prefix}-chat", "us-east-2", set()),
]

CONTEXTS = {
    "training-key": lambda n: kms(n, "training"),
    "training-key-direct": lambda n: {"kms:ResourceAliases": [n.kms_alias("training")]},
    "inference-key": lambda n: kms(n, "inference"),
    "inference-key-grant": lambda n: {**kms(n, "inference", "sagemaker"), "kms:GrantIsForAWSResource": True},
    "serverless-config": lambda n: {"sagemaker:ModelArn": serverless_model(n)},
    "serverless-on-instances": lambda n: {"sagemaker:ModelArn": serverless_model(n),
                                          "sagemaker:InstanceTypes": ["ml.m5.large"]},
    "audit-key": lambda n: kms(n, "audit"),
    "job": guarded_job,
    "job-no-volume-key": lambda n: guarded_job(n, **{"sagemaker:VolumeKmsKey": None}),
    "job-local-storage-no-volume-key": lambda n: guarded_job(
        n, **{"sagemaker:VolumeKmsKey": None, "sagemaker:InstanceTypes": ["ml.g5.12xlarge", "ml.p4d.24xlarge"]}),
    "job-d-family-no-volume-key": lambda n: guarded_job(
        n, **{"sagemaker:VolumeKmsKey": None, "sagemaker:InstanceTypes": ["ml.m5d.xlarge"]}),
    "job-mixed-no-volume-key": lambda n: guarded_job(
        n, **{"sagemaker:VolumeKmsKey": None, "sagemaker:InstanceTypes": ["ml.g4dn.xlarge", "ml.c5.xlarge"]}),
    "job-ebs-no-volume-key": lambda n: guarded_job(
        n, **{"sagemaker:VolumeKmsKey": None, "sagemaker:InstanceTypes": ["ml.c5.xlarge", "ml.m5.4xlarge"]}),
    "job-foreign-output-key": lambda n: guarded_job(
        n, **{"sagemaker:OutputKmsKey": "arn:aws:kms:eu-west-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"}),
    "job-no-traffic-encryption": lambda n: guarded_job(n, **{"sagemaker:InterContainerTrafficEncryption": None}),
    "job-traffic-encryption-off": lambda n: guarded_job(n, **{"sagemaker:InterContainerTrafficEncryption": False}),
    "job-no-isolation": lambda n: guarded_job(n, **{"sagemaker:NetworkIsolation": None}),
    "pending": lambda n: {"sagemaker:ModelApprovalStatus": "PendingManualApproval"},
    "approved": lambda n: {"sagemaker:ModelApprovalStatus": "Approved"},
    "rejected": lambda n: {"sagemaker:ModelApprovalStatus": "Rejected"},
}


@pytest.mark.parametrize("case, action, resource, extra, allowed", ROWS, ids=[r[0] for r in ROWS])
@pytest.mark.parametrize("persona", PERSONAS)
def test_separation_of_duties(env_iam, env, persona, case, action, resource, extra, allowed):
    n = env_iam.naming
    region = None
    if extra == "us-east-2":
        extra, region = None, "us-east-2"
    elif isinstance(extra, str):
        extra = CONTEXTS[extra](n)
    if allowed == HAND:
        allowed = {ML} if by_hand(env) else set()
    elif allowed == STORE:
        allowed = {DS} if has_data_store(env) else set()
    decision = decide(env_iam, persona, action, resource(n, other_env(env)), extra, region=region)
    assert decision is (persona in allowed), f"{persona} {action} on {case}: expected {'allow' if persona in allowed else 'deny'}"


def _allowed_action(n: Naming, persona: str) -> tuple[str, str]:
    return {ML: ("sagemaker:DescribeEndpoint", sm(n, "endpoint")),
            DS: ("s3:GetObject", f"{n.bucket_arn('datasets')}/raw/x"),
            AUD: ("cloudtrail:LookupEvents", "*"), ADM: ("cloudtrail:LookupEvents", "*"),
            APR: ("sagemaker:DescribeModelPackage", package(n))}[persona]


@pytest.mark.parametrize("persona", sorted(set(PERSONAS) - WORKLOAD_PERSONAS))
def test_human_sessions_without_mfa_can_do_nothing(env, persona):
    """iam-mfa mode: even an action the persona may take is denied to a session without MFA
    (defence in depth)."""
    config = load_env(env)
    access = config.access.model_dump(exclude_unset=True) | {
        "trust": {"mode": "iam-mfa", "identity_account_id": "999900001111"}}
    config = config.model_copy(update={"access": AccessSettings.model_validate(access)})
    n = Naming.of(config)
    policy = json.loads(persona_policy(persona, config, mfa_guard_statement=uses_iam_mfa(persona, config)))
    action, resource = _allowed_action(n, persona)
    context = {"aws:RequestedRegion": n.region, "aws:PrincipalArn": n.role_arn(persona)}
    assert is_allowed([policy], Request(action, resource, {**context, "aws:MultiFactorAuthPresent": "true"}))
    assert not is_allowed([policy], Request(action, resource, {**context, "aws:MultiFactorAuthPresent": "false"}))
    assert not is_allowed([policy], Request(action, resource, context))


@pytest.mark.parametrize("persona", sorted(set(PERSONAS) - WORKLOAD_PERSONAS))
def test_identity_center_sessions_work_without_the_mfa_key(env_iam, persona):
    """identity-center mode (the default): its sessions never carry aws:MultiFactorAuthPresent, so a
    policy that denied sessions without it would leave the persona unusable; MFA is at sign-in."""
    assert decide(env_iam, persona, *_allowed_action(env_iam.naming, persona), mfa=None)
    assert all(s.get("Sid") != "DenyWithoutMfa" for s in env_iam.persona(persona).inline[0]["Statement"])


def test_boundary_alone_leaves_package_updates_to_the_approver(env_iam):
    """Any status or none: a role added later with UpdateModelPackage still cannot touch a version."""
    n = env_iam.naming
    anything = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sagemaker:UpdateModelPackage", "Resource": "*"}]}
    for principal, expected in ((n.role_arn(APR), True), (n.role_arn(ML), False),
                                (n.role_arn("platform-service"), False), (n.role_arn(ADM), False)):
        for status in ({}, {"sagemaker:ModelApprovalStatus": "Rejected"}):
            context = {"aws:RequestedRegion": n.region, "aws:PrincipalArn": principal, **status}
            request = Request("sagemaker:UpdateModelPackage", package(n), context)
            assert is_allowed([anything], request, boundary=env_iam.boundary) is expected, principal


def test_boundary_alone_denies_deployment_to_every_other_role(env_iam):
    """The boundary repeats the rule for roles the project adds later (service roles, new personas); in
    staging and prod it denies the ML engineer too (only the deployer, outside the boundary, deploys)."""
    n = env_iam.naming
    anything = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sagemaker:UpdateEndpoint", "lambda:PublishVersion"], "Resource": "*"}]}
    for principal, expected in ((n.role_arn(ML), hand_deploys(env_iam.config.tier)),
                                (n.role_arn("platform-service"), False), (n.role_arn(ADM), False)):
        context = {"aws:RequestedRegion": n.region, "aws:PrincipalArn": principal}
        for action, resource in (("sagemaker:UpdateEndpoint", sm(n, "endpoint")),
                                 ("lambda:PublishVersion", n.function_arn("fraud"))):
            assert is_allowed([anything], Request(action, resource, context), boundary=env_iam.boundary) is expected


def _invoke_cases(iam: EnvIam, other: Naming):
    """(action, resource, expected) for app-invoker over the config's models."""
    n = iam.naming
    for model in iam.config.platform.models:
        if model.serving in ("sagemaker", "sagemaker-serverless"):
            yield "sagemaker:InvokeEndpoint", n.endpoint_arn(model.name), True
            yield "sagemaker:InvokeEndpointWithResponseStream", n.endpoint_arn(model.name), True
            yield "sagemaker:InvokeEndpoint", other.endpoint_arn(model.name), False
            yield "sagemaker:InvokeEndpointAsync", n.endpoint_arn(model.name), False
        elif model.serving == "lambda":
            alias = f"{n.function_arn(model.name)}:live"
            yield "lambda:InvokeFunction", alias, True
            yield "lambda:InvokeFunction", n.function_arn(model.name), False  # only through the live alias
            yield "lambda:InvokeFunction", f"{n.function_arn(model.name)}:1", False
            yield "lambda:InvokeFunction", f"{other.function_arn(model.name)}:live", False
            url = model.function.function_url
            yield "lambda:InvokeFunctionUrl", alias, url, {"lambda:FunctionUrlAuthType": "AWS_IAM"}
            yield "lambda:InvokeFunctionUrl", alias, False, {"lambda:FunctionUrlAuthType": "NONE"}
        yield "sagemaker:InvokeEndpoint", n.endpoint_arn(f"{model.name}-shadow"), False
        yield "s3:GetObject", f"{n.bucket_arn('inference')}/{model.name}/x", False


def _check_invoker(iam: EnvIam, other: Naming):
    cases = [case if len(case) == 4 else (*case, None) for case in _invoke_cases(iam, other)]
    for action, resource, expected, extra in cases:
        assert decide(iam, INV, action, resource, extra) is expected, (action, resource)
    return cases


def test_app_invoker_invokes_exactly_this_environments_models(env_iam, env):
    cases = _check_invoker(env_iam, other_env(env))
    models = env_iam.config.platform.models
    endpoints = sum(m.serving in ("sagemaker", "sagemaker-serverless") for m in models)
    urls = sum(m.serving == "lambda" and m.function.function_url for m in models)
    functions = sum(m.serving == "lambda" for m in models)
    assert sum(bool(expected) for _, _, expected, _ in cases) == 2 * endpoints + functions + urls
    # Nothing else, whatever the models are.
    n = env_iam.naming
    for action, resource in (("sagemaker:InvokeEndpoint", other_env(env).endpoint_arn("chat")),
                             ("sagemaker:DescribeEndpoint", sm(n, "endpoint")), ("s3:ListAllMyBuckets", "*")):
        assert not decide(env_iam, INV, action, resource)


# --- Deploying and passing roles: what each SageMaker model of the configuration needs ------------

SAGEMAKER = {"iam:PassedToService": "sagemaker.amazonaws.com"}


def _key_policy(synthesized, env: str, n: Naming, key_class: str) -> dict:
    data = synthesized.stack(f"{env}-data")["resource"]
    (alias,) = [a for a in data["aws_kms_alias"].values() if a["name"] == n.kms_alias(key_class)]
    return json.loads(data["aws_kms_key"][alias["target_key_id"].split(".")[1]]["policy"])


def _deploys(env_iam: EnvIam, synthesized, env: str, model) -> list[str]:
    """What the ML engineer cannot do of deploying `model` by hand (empty: it can deploy it)."""
    n = env_iam.naming
    serverless = model.serving == "sagemaker-serverless"
    model_arn = sm(n, "model", f"{'serverless-' if serverless else ''}{model.name}-{model.version.replace('.', '-')}")
    config_context = {"sagemaker:ModelArn": model_arn}
    if not serverless:
        config_context["sagemaker:InstanceTypes"] = [model.sagemaker.instance_type]
    steps = [
        ("pass its execution role", "iam:PassRole", n.role_arn(f"{model.name}-exec"), SAGEMAKER),
        ("create the model", "sagemaker:CreateModel", model_arn, None if serverless else VPC),
        ("create the endpoint config", "sagemaker:CreateEndpointConfig", sm(n, "endpoint-config", model.name),
         config_context),
        ("update the endpoint", "sagemaker:UpdateEndpoint", n.endpoint_arn(model.name), None),
    ]
    missing = [what for what, action, resource, extra in steps if not decide(env_iam, ML, action, resource, extra)]
    # The endpoint config's storage and captured data use the inference key: SageMaker creates grants
    # on it as the caller of CreateEndpoint, so the key policy must let the ML engineer too.
    grant = as_principal(n.role_arn(ML), "kms:CreateGrant", f"arn:aws:kms:{n.region}:{n.account_id}:key/inference", {
        **kms(n, "inference", "sagemaker"), "kms:GrantIsForAWSResource": True, "aws:RequestedRegion": n.region,
        "aws:MultiFactorAuthPresent": "true"})
    if not kms_is_allowed(_key_policy(synthesized, env, n, "inference"), env_iam.persona(ML).inline, grant,
                          boundary=env_iam.boundary):
        missing.append("create grants on the inference key")
    return missing


def test_ml_engineer_deploys_every_model_kind_by_hand_in_dev_and_none_elsewhere(env_iam, synthesized, env):
    """Dev: real-time models in the VPC, serverless models without one (AWS runs them without a VPC).
    Staging and prod: not one step of any deployment (whoever registers a version does not deploy it)."""
    models = [m for m in env_iam.config.platform.models if m.serving in ("sagemaker", "sagemaker-serverless")]
    assert {m.serving for m in models} == {"sagemaker", "sagemaker-serverless"}
    everything = ["pass its execution role", "create the model", "create the endpoint config", "update the endpoint",
                  "create grants on the inference key"]
    for model in models:
        assert _deploys(env_iam, synthesized, env, model) == ([] if by_hand(env) else everything), model.name


def test_ml_engineer_cannot_create_a_real_time_model_without_a_vpc(env_iam):
    n = env_iam.naming
    for name in ("fraud-scorer-1-4-0", "anything"):
        assert not decide(env_iam, ML, "sagemaker:CreateModel", sm(n, "model", name))
    # A model named as serverless is created without a VPC, but no endpoint config may put it on instances.
    serverless = serverless_model(n)
    assert decide(env_iam, ML, "sagemaker:CreateModel", serverless) is hand_deploys(env_iam.config.tier)
    assert not decide(env_iam, ML, "sagemaker:CreateEndpointConfig", sm(n, "endpoint-config"),
                      {"sagemaker:ModelArn": serverless, "sagemaker:InstanceTypes": ["ml.g5.xlarge"]})


def test_data_scientists_cannot_pass_model_execution_roles(env_iam):
    """An execution role holds the model and inference keys and writes captured data: whoever passes
    it to a training job or a model reads what it reads. Data scientists hold the training key only."""
    n = env_iam.naming
    for model in env_iam.config.platform.models:
        role = n.role_arn(f"{model.name}-exec")
        for service in ("sagemaker.amazonaws.com", "lambda.amazonaws.com", "ec2.amazonaws.com"):
            assert not decide(env_iam, DS, "iam:PassRole", role, {"iam:PassedToService": service}), (role, service)


def test_ml_engineer_passes_exactly_the_sagemaker_execution_roles(env_iam):
    n = env_iam.naming
    for model in env_iam.config.platform.models:
        sagemaker = model.serving in ("sagemaker", "sagemaker-serverless")
        role = n.role_arn(f"{model.name}-exec")
        assert decide(env_iam, ML, "iam:PassRole", role, SAGEMAKER) is (sagemaker and
                                                                   hand_deploys(env_iam.config.tier)), role
        assert not decide(env_iam, ML, "iam:PassRole", role, {"iam:PassedToService": "ec2.amazonaws.com"})
    for other in ("s3-replication", "backup", "cloudtrail-logs", "vpc-flow-logs", "guardduty-forwarder"):
        assert not decide(env_iam, ML, "iam:PassRole", n.role_arn(other), SAGEMAKER), other


# Every SageMaker API that runs compute with a role its caller passes (RoleArn / ExecutionRole), listed
# here from the SageMaker API reference, independently of the generator's own list.
JOBS_TAKING_A_ROLE = {
    "sagemaker:CreateTrainingJob": "training-job", "sagemaker:CreateProcessingJob": "processing-job",
    "sagemaker:CreateHyperParameterTuningJob": "hyper-parameter-tuning-job", "sagemaker:CreateAutoMLJob": "automl-job",
    "sagemaker:CreateAutoMLJobV2": "automl-job", "sagemaker:CreateCompilationJob": "compilation-job",
    "sagemaker:CreateLabelingJob": "labeling-job", "sagemaker:CreateNotebookInstance": "notebook-instance",
    "sagemaker:CreateOptimizationJob": "optimization-job", "sagemaker:CreatePipeline": "pipeline",
    "sagemaker:CreateMonitoringSchedule": "monitoring-schedule",
    "sagemaker:CreateDataQualityJobDefinition": "data-quality-job-definition",
    "sagemaker:CreateInferenceRecommendationsJob": "inference-recommendations-job",
}


@pytest.mark.parametrize("action", sorted(JOBS_TAKING_A_ROLE))
def test_whoever_passes_execution_roles_starts_no_job_with_one(env_iam, action):
    """The ML engineer passes the SageMaker models' execution roles (inference key, data capture) to
    SageMaker for CreateModel. PassRole cannot tell CreateModel from CreateTrainingJob, so the ML engineer
    may start no SageMaker job at all, even in the VPC, with network isolation and the training key
    (where it deploys by hand; elsewhere it passes no role and starts no job all the same)."""
    n = env_iam.naming
    exec_arn = exec_role(n, "sagemaker")
    assert decide(env_iam, ML, "iam:PassRole", exec_arn,
                  {"iam:PassedToService": "sagemaker.amazonaws.com"}) is hand_deploys(env_iam.config.tier)
    job = sm(n, JOBS_TAKING_A_ROLE[action], "job")
    context = {**VPC, "sagemaker:VpcSecurityGroupIds": ["sg-0123456789abcdef0"], "sagemaker:NetworkIsolation": True,
               "sagemaker:VolumeKmsKey": f"arn:aws:kms:{n.region}:{n.account_id}:key/k",
               "sagemaker:OutputKmsKey": f"arn:aws:kms:{n.region}:{n.account_id}:key/k"}
    assert not decide(env_iam, ML, action, job, context), f"ml-engineer may {action} with {exec_arn}"


def _edge(n: Naming, kind: str) -> str:
    return {"web-acl": f"arn:aws:wafv2:us-east-1:{n.account_id}:global/webacl/{n.prefix}-vision-edge/0a1b",
            "ip-set": f"arn:aws:wafv2:us-east-1:{n.account_id}:global/ipset/{n.prefix}-vision-detector-edge-ipv4-blocked/0a1b",
            "log-group": f"arn:aws:logs:us-east-1:{n.account_id}:log-group:aws-waf-logs-{n.prefix}-vision-edge",
            "endpoint": f"arn:aws:sagemaker:us-east-1:{n.account_id}:endpoint/{n.prefix}-chat"}[kind]


# (action, edge resource kind, personas allowed where a model is behind CloudFront)
EDGE_ROWS = [
    ("wafv2:GetWebACL", "web-acl", {ADM, AUD}),
    ("logs:FilterLogEvents", "log-group", {ADM, AUD}),
    ("wafv2:UpdateIPSet", "ip-set", {ADM}),
    ("sagemaker:DescribeEndpoint", "endpoint", set()),  # the boundary admits only the edge's services there
]


@pytest.mark.parametrize("action, kind, allowed", EDGE_ROWS, ids=[r[0] for r in EDGE_ROWS])
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_edge_in_us_east_1_is_operable_where_it_exists(env_iam, env, persona, action, kind, allowed):
    """Boundary and persona policy together: the break-glass admin and the auditor reach CloudFront's WAF and
    log groups in us-east-1 where a model is behind CloudFront (prod), nobody anything else there, and
    nobody anything there in an environment without an edge."""
    n = env_iam.naming
    has_edge = any(m.serving == "ec2" and m.ec2_settings.cloudfront is not None for m in load_env(env).platform.models)
    expected = persona in allowed and has_edge
    assert decide(env_iam, persona, action, _edge(n, kind), region="us-east-1") is expected, (env, persona, action)


def _blocked_ip_sets(synthesized, n: Naming) -> list[tuple[str, str]]:
    """(ARN with a made-up ID, region) of every IP set the environment's platform stack creates."""
    out = []
    for conf in synthesized.resources(n.stack("platform"), "aws_wafv2_ip_set").values():
        region = conf.get("region", n.region)
        scope = {"REGIONAL": "regional", "CLOUDFRONT": "global"}[conf["scope"]]
        out.append((f"arn:aws:wafv2:{region}:{n.account_id}:{scope}/ipset/{conf['name']}/0a1b2c3d", region))
    return out


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_platform_admin_blocks_addresses_in_the_sets_the_web_acls_use(synthesized, env_iam, persona):
    """Every blocked-address IP set (each web ACL's, CloudFront's in us-east-1 as global/ipset) can be read and
    updated by the break-glass admin, boundary included, and by no other persona; a set the app does not
    create cannot (the grant names the sets, not every set of the environment)."""
    n = env_iam.naming
    sets = _blocked_ip_sets(synthesized, n)
    fleets = [m for m in env_iam.config.platform.models if m.serving == "ec2"]
    assert len(sets) == 2 * (len(fleets) + sum(1 for m in fleets if m.ec2_settings.cloudfront))  # IPv4 and IPv6
    for arn, region in sets:
        for action in ("wafv2:GetIPSet", "wafv2:UpdateIPSet"):
            assert decide(env_iam, persona, action, arn, region=region) is (persona == ADM), (arn, action)
        other = arn.replace("-blocked/", "-allowed/")
        assert not decide(env_iam, persona, "wafv2:UpdateIPSet", other, region=region), other
        assert decide(env_iam, persona, "wafv2:ListIPSets", "*", region=region) is (persona == ADM)


def test_personas_connect_to_the_data_store_as_their_own_user_where_it_exists(env_iam):
    n = env_iam.naming
    enabled = env_iam.config.platform.training.data_store.enabled
    for persona, user in ((DS, "data_scientist"), (ML, "ml_engineer")):
        own = f"arn:aws:rds-db:{n.region}:{n.account_id}:dbuser:cluster-ABC/{user}"
        assert decide(env_iam, persona, "rds-db:connect", own) is enabled, persona
    assert not decide(env_iam, APR, "rds-db:connect", f"arn:aws:rds-db:{n.region}:{n.account_id}:dbuser:c/model_approver")


def test_the_synthesized_boundary_stays_within_the_managed_policy_size_limit(env_iam):
    """IAM refuses a managed policy over 6,144 characters (whitespace not counted), with the edge's
    regional statements included."""
    assert len("".join(json.dumps(env_iam.boundary).split())) <= 6144


def test_boundary_leaves_rds_to_aws_backup_and_database_tokens_to_every_role(env_iam):
    """Whatever a role's own policy says, only AWS Backup's role reaches RDS itself (snapshots, copies,
    restores); no other role may delete or modify the training data store or share its snapshots."""
    n = env_iam.naming
    anything = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["rds:*", "rds-db:connect"], "Resource": "*"}]}
    cluster = f"arn:aws:rds:{n.region}:{n.account_id}:cluster:{n.prefix}-training-store"
    snapshot = f"arn:aws:rds:{n.region}:{n.account_id}:cluster-snapshot:{n.prefix}-training-store-final"
    for principal in (n.role_arn("backup"), n.role_arn(DS), n.role_arn(ADM), n.role_arn("sagemaker-training"),
                      n.role_arn("rds-monitoring")):
        context = {"aws:RequestedRegion": n.region, "aws:PrincipalArn": principal}
        backup = principal == n.role_arn("backup")
        for action, resource in (("rds:DeleteDBCluster", cluster), ("rds:ModifyDBCluster", cluster),
                                 ("rds:ModifyDBClusterSnapshotAttribute", snapshot),
                                 ("rds:CreateDBClusterSnapshot", cluster)):
            assert is_allowed([anything], Request(action, resource, context), boundary=env_iam.boundary) is backup, \
                (principal, action)
        token = f"arn:aws:rds-db:{n.region}:{n.account_id}:dbuser:cluster-ABC/training_job"
        assert is_allowed([anything], Request("rds-db:connect", token, context), boundary=env_iam.boundary)
