"""Separation of duties: persona × action × resource → allowed or denied, evaluated by
policies/iam_eval.py on the synthesized documents (the role's inline policies AND the permission
boundary from the data stack), in every environment."""
from __future__ import annotations

from functools import lru_cache

import pytest

from modules.access.settings import PERSONAS, WORKLOAD_PERSONAS
from modules.config import load_env
from modules.naming import Naming
from policies.iam_eval import Request, is_allowed
from tests.access.conftest import EnvIam
from tests.synthesized import ENVS

ML, DS, INV, AUD, ADM = "ml-engineer", "data-scientist", "app-invoker", "security-auditor", "platform-admin"
VPC = {"sagemaker:VpcSubnets": ["subnet-0123456789abcdef0"]}


@lru_cache(maxsize=None)
def other_env(env: str) -> Naming:
    return Naming.of(load_env(ENVS[(ENVS.index(env) + 1) % len(ENVS)]))


def kms(n: Naming, key_class: str, via: str = "s3") -> dict:
    return {"kms:ResourceAliases": [n.kms_alias(key_class)], "kms:ViaService": f"{via}.{n.region}.amazonaws.com"}


def sm(n: Naming, kind: str, name: str = "chat") -> str:
    return f"arn:aws:sagemaker:{n.region}:{n.account_id}:{kind}/{n.prefix}-{name}"


def service_role(n: Naming) -> str:
    return n.role_arn("sagemaker-execution")


def decide(iam: EnvIam, persona: str, action: str, resource: str, extra: dict | None = None,
           *, mfa: bool = True, region: str | None = None) -> bool:
    role = iam.persona(persona)
    context = {"aws:RequestedRegion": region or iam.naming.region, "aws:PrincipalArn": iam.naming.role_arn(persona),
               "aws:PrincipalAccount": iam.naming.account_id}
    if persona not in WORKLOAD_PERSONAS and mfa:
        context["aws:MultiFactorAuthPresent"] = "true"
    elif persona not in WORKLOAD_PERSONAS:
        context["aws:MultiFactorAuthPresent"] = "false"
    context.update(extra or {})
    return is_allowed(role.inline, Request(action, resource, context), boundary=iam.boundary)


# (case, action, resource(n, other), extra context, personas allowed). Every persona is checked on every row.
ROWS = [
    # Only the ML engineer deploys.
    ("create-model", "sagemaker:CreateModel", lambda n, o: sm(n, "model"), VPC, {ML}),
    ("create-endpoint-config", "sagemaker:CreateEndpointConfig", lambda n, o: sm(n, "endpoint-config"), None, {ML}),
    ("create-endpoint", "sagemaker:CreateEndpoint", lambda n, o: sm(n, "endpoint"), None, {ML}),
    ("update-endpoint", "sagemaker:UpdateEndpoint", lambda n, o: sm(n, "endpoint"), None, {ML}),
    ("update-endpoint-weights", "sagemaker:UpdateEndpointWeightsAndCapacities", lambda n, o: sm(n, "endpoint"), None, {ML}),
    ("publish-version", "lambda:PublishVersion", lambda n, o: n.function_arn("fraud"), None, {ML}),
    ("create-alias", "lambda:CreateAlias", lambda n, o: n.function_arn("fraud"), None, {ML}),
    ("update-alias", "lambda:UpdateAlias", lambda n, o: f"{n.function_arn('fraud')}:live", None, {ML}),
    ("update-function-code", "lambda:UpdateFunctionCode", lambda n, o: n.function_arn("fraud"), None, {ML}),
    # ... only in this environment, only with a VPC.
    ("create-endpoint-other-env", "sagemaker:CreateEndpoint", lambda n, o: sm(o, "endpoint"), None, set()),
    ("publish-version-other-env", "lambda:PublishVersion", lambda n, o: o.function_arn("fraud"), None, set()),
    ("create-model-without-vpc", "sagemaker:CreateModel", lambda n, o: sm(n, "model"), None, set()),
    ("training-job-without-vpc", "sagemaker:CreateTrainingJob", lambda n, o: sm(n, "training-job", "t1"), None, set()),
    ("training-job-with-vpc", "sagemaker:CreateTrainingJob", lambda n, o: sm(n, "training-job", "t1"), VPC, {ML, DS}),
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
    # iam:PassRole: environment service roles, to the named service only.
    ("pass-role-sagemaker", "iam:PassRole", lambda n, o: service_role(n),
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, {ML, DS}),
    ("pass-role-ec2", "iam:PassRole", lambda n, o: service_role(n), {"iam:PassedToService": "ec2.amazonaws.com"}, set()),
    ("pass-role-no-service", "iam:PassRole", lambda n, o: service_role(n), None, set()),
    ("pass-persona-role", "iam:PassRole", lambda n, o: n.role_arn(ADM),
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, set()),
    ("pass-other-env-role", "iam:PassRole", lambda n, o: service_role(o),
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, set()),
    ("pass-foreign-role", "iam:PassRole", lambda n, o: f"arn:aws:iam::{n.account_id}:role/admin",
     {"iam:PassedToService": "sagemaker.amazonaws.com"}, set()),
    # Data classes.
    ("read-datasets", "s3:GetObject", lambda n, o: f"{n.bucket_arn('datasets')}/raw/part-0.parquet", None, {ML, DS}),
    ("write-experiments", "s3:PutObject", lambda n, o: f"{n.bucket_arn('datasets')}/experiments/run-1/m.pkl", None, {DS}),
    ("write-raw-datasets", "s3:PutObject", lambda n, o: f"{n.bucket_arn('datasets')}/raw/part-0.parquet", None, set()),
    ("write-model-artifacts", "s3:PutObject", lambda n, o: f"{n.bucket_arn('model-artifacts')}/chat/1/model.tar.gz",
     None, {ML}),
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
    ("alarms", "cloudwatch:DescribeAlarms", lambda n, o: n.alarm_arn(f"{n.prefix}-x"), None, {AUD, ADM, ML, DS}),
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
    "audit-key": lambda n: kms(n, "audit"),
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
    decision = decide(env_iam, persona, action, resource(n, other_env(env)), extra, region=region)
    assert decision is (persona in allowed), f"{persona} {action} on {case}: expected {'allow' if persona in allowed else 'deny'}"


@pytest.mark.parametrize("persona", sorted(set(PERSONAS) - WORKLOAD_PERSONAS))
def test_human_sessions_without_mfa_can_do_nothing(env_iam, persona):
    """Even an action the persona may take is denied to a session without MFA (defence in depth)."""
    n = env_iam.naming
    allowed_action = {ML: ("sagemaker:DescribeEndpoint", sm(n, "endpoint")),
                      DS: ("s3:GetObject", f"{n.bucket_arn('datasets')}/raw/x"),
                      AUD: ("cloudtrail:LookupEvents", "*"), ADM: ("cloudtrail:LookupEvents", "*")}[persona]
    assert decide(env_iam, persona, *allowed_action)
    assert not decide(env_iam, persona, *allowed_action, mfa=False)


def test_boundary_alone_denies_deployment_to_every_other_role(env_iam):
    """The boundary repeats the rule for roles the project adds later (service roles, new personas)."""
    n = env_iam.naming
    anything = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sagemaker:UpdateEndpoint", "lambda:PublishVersion"], "Resource": "*"}]}
    for principal, expected in ((n.role_arn(ML), True), (n.role_arn("platform-service"), False),
                                (n.role_arn(ADM), False)):
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
