"""App-level checks of keys and roles: service-linked key principals, key use restricted by the key
policy, PassRole by data class, the ML engineer's deployments, human trust modes.

Each check fires on a copy of the broken shape trimmed from the synthesized stacks before the fix
(tests/policies/fixtures/broken/), passes the fixed form, and is tried both ways on small variants."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from modules.access.settings import AccessSettings
from modules.data.key_policy import key_policy
from modules.data.key_users import key_users
from modules.naming import Naming
from tests.policies.app_checks.helpers import app, config, doc, failures, resources, run, verdict

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken"
CHECKS = ("AEGIS_LINKED_ROLE_KEY_PRINCIPALS", "AEGIS_KEY_USE_RESTRICTED", "AEGIS_PASSROLE_DATA_CLASS",
          "AEGIS_ML_ENGINEER_DEPLOYS", "AEGIS_HUMAN_TRUST_MODE")
N = Naming.of(config("dev"))
ACCOUNT = N.account_id


def broken(name: str) -> dict[str, dict]:
    """Every dev stack, with the trimmed pre-fix stacks of the fixture in place."""
    stacks = json.loads((BROKEN / f"{name}.json").read_text())["stacks"]
    return app("dev", **{stack.split("-", 1)[1]: content for stack, content in stacks.items()})


def failed(results) -> set[str]:
    return {r.address for r in results if not r.passed}


def passed(results) -> set[str]:
    return {r.address for r in results if r.passed}


@pytest.fixture(scope="module")
def default_app(synthesized) -> dict[str, dict]:
    return {name: synthesized.stack(name) for name in synthesized.stack_names}


@pytest.mark.parametrize("check_id", CHECKS)
def test_the_default_app_passes(default_app, check_id):
    results = run(check_id, default_app)
    assert results and failures(results) == []


# --- AEGIS_LINKED_ROLE_KEY_PRINCIPALS ------------------------------------------------------------

SLR = "AEGIS_LINKED_ROLE_KEY_PRINCIPALS"
MODEL, TRAINING, INFERENCE = ("aws_kms_key.kms-model_key_E2CF654C", "aws_kms_key.kms-training_key_E42B8914",
                              "aws_kms_key.kms-inference_key_271AAE88")


def fixed_keys(stacks: dict, depends: bool = True) -> dict:
    """The broken fixture with the key policies the data stack writes now (and their dependencies)."""
    out = copy.deepcopy(stacks)
    data = out["dev-data"]["resource"]
    data["aws_iam_service_linked_role"] = {"asg": {"aws_service_name": "autoscaling.amazonaws.com"},
                                           "macie": {"aws_service_name": "macie.amazonaws.com"}}
    for name, key in data["aws_kms_key"].items():
        key_class = name.split("_")[0][4:]
        key["policy"] = key_policy(N, key_class, config("dev").deployer_role_arn, key_users(config("dev"), key_class))
        if depends:
            key["depends_on"] = ["aws_iam_service_linked_role.asg" if key_class == "model"
                                 else "aws_iam_service_linked_role.macie"]
    return out


def test_linked_role_key_principals_fires_on_todays_broken_shape():
    results = run(SLR, broken("linked_role_key_principals"))
    assert failed(results) == {MODEL, TRAINING, INFERENCE}
    assert all("must name the role as principal" in r.message for r in results)


def test_linked_role_key_principals_pass_the_fixed_form():
    assert passed(run(SLR, fixed_keys(broken("linked_role_key_principals")))) == {MODEL, TRAINING, INFERENCE}


def test_a_key_created_before_its_service_linked_role_fails():
    results = run(SLR, fixed_keys(broken("linked_role_key_principals"), depends=False))
    assert failed(results) == {MODEL, TRAINING, INFERENCE}
    assert all("does not exist yet" in r.message for r in results)


def test_an_existing_service_linked_role_is_looked_up_first():
    stacks = fixed_keys(broken("linked_role_key_principals"))
    data = stacks["dev-data"]
    data["data"] = {"aws_iam_role": {"asg": {"name": "AWSServiceRoleForAutoScaling"}}}
    data["resource"]["aws_kms_key"][MODEL.split(".")[1]]["depends_on"] = ["data.aws_iam_role.asg"]
    assert verdict(run(SLR, stacks), MODEL)


def test_an_unresolvable_launch_template_key_fails():
    stacks = fixed_keys(broken("linked_role_key_principals"))
    ((name, template),) = stacks["dev-platform"]["resource"]["aws_launch_template"].items()
    template["block_device_mappings"][0]["ebs"]["kms_key_id"] = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234"
    assert not verdict(run(SLR, stacks), f"aws_launch_template.{name}")


# --- AEGIS_KEY_USE_RESTRICTED -------------------------------------------------------------------------

RESTRICTED = "AEGIS_KEY_USE_RESTRICTED"
ROOT = {"Sid": "AccountAdmin", "Effect": "Allow", "Principal": {"AWS": N.account_root}, "Action": "kms:*",
        "Resource": "*"}


def one_key(policy) -> dict:
    return app("dev", data=resources(aws_kms_key={"k": {"policy": policy if isinstance(policy, str) else doc(*policy)}}))


def test_key_use_restricted_fires_on_todays_broken_shape():
    results = run(RESTRICTED, broken("key_use_restricted"))
    assert failed(results) == {"aws_kms_key.kms-training_key_E42B8914", "aws_kms_key.kms-audit_key_B1995AD3"}
    assert all("with IAM '*' may kms:Decrypt" in r.message for r in results)


@pytest.mark.parametrize("key_class", ["training", "model", "inference", "audit"])
def test_the_fixed_key_policies_pass(key_class):
    policy = key_policy(N, key_class, config("dev").deployer_role_arn, key_users(config("dev"), key_class))
    assert verdict(run(RESTRICTED, one_key(policy)), "aws_kms_key.k")


def deny(condition: dict) -> dict:
    return {"Sid": "Deny", "Effect": "Deny", "Principal": "*", "Resource": "*", "Condition": condition,
            "Action": ["kms:CreateGrant", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]}


@pytest.mark.parametrize("statements, expected", [
    ([ROOT], False),  # delegation only
    ([ROOT, deny({"ArnNotLike": {"aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/*"]}})], False),  # exempts all
    ([ROOT, deny({"Null": {"kms:ViaService": "true"}})], False),  # only direct calls: S3 still decrypts
    ([ROOT, deny({"ArnNotLike": {"aws:PrincipalArn": [N.role_arn("data-scientist")]}})], True),
    ([ROOT, {**deny({}), "Condition": {"StringEquals": {"aws:PrincipalAccount": ACCOUNT},
                                       "ArnNotLike": {"aws:PrincipalArn": [N.role_arn("data-scientist")]}}}], True),
    ([{"Sid": "Logs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
       "Action": "kms:Decrypt", "Resource": "*"}], True),  # no delegation at all
])
def test_key_use_restricted_both_ways(statements, expected):
    assert verdict(run(RESTRICTED, one_key(statements)), "aws_kms_key.k") is expected


@pytest.mark.parametrize("policy", [None, "${data.aws_iam_policy_document.k.json}",
                                    doc(ROOT, {"Effect": "Deny", "NotPrincipal": {"AWS": "x"}, "Action": "kms:*",
                                               "Resource": "*"})])
def test_a_key_policy_that_cannot_be_judged_fails(policy):
    stacks = app("dev", data=resources(aws_kms_key={"k": {} if policy is None else {"policy": policy}}))
    assert not verdict(run(RESTRICTED, stacks), "aws_kms_key.k")


# --- AEGIS_PASSROLE_DATA_CLASS ---------------------------------------------------------------------

PASSROLE = "AEGIS_PASSROLE_DATA_CLASS"
DS_ROLE = "aws_iam_role.personas_data-scientist_8B637E70"


def test_passrole_data_class_fires_on_todays_broken_shape():
    results = run(PASSROLE, broken("passrole_data_class"))
    assert failed(results) == {DS_ROLE}
    assert "aegis-dev-fraud-scorer-exec" in results[0].message and "inference, model" in results[0].message


def _with_statements(stacks: dict, statements: list[dict]) -> dict:
    out = copy.deepcopy(stacks)
    (policy,) = out["dev-access"]["resource"]["aws_iam_role_policy"].values()
    policy["policy"] = doc(*statements)
    return out


USE_TRAINING = {"Sid": "UseTrainingKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": f"arn:aws:kms:"
                f"{N.region}:{ACCOUNT}:key/*", "Condition": {"ForAnyValue:StringEquals": {
                    "kms:ResourceAliases": [N.kms_alias("training")]}}}
PASS_EXEC = {"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": N.role_arn("fraud-scorer-exec"),
             "Condition": {"StringEquals": {"iam:PassedToService": ["sagemaker.amazonaws.com"]}}}


@pytest.mark.parametrize("statements, expected", [
    ([USE_TRAINING], True),  # passes nothing
    ([USE_TRAINING, PASS_EXEC], False),  # an execution role with the model and inference keys
    ([USE_TRAINING, {**PASS_EXEC, "Condition": {"StringEquals": {"iam:PassedToService": ["ec2.amazonaws.com"]}}}],
     True),  # the role trusts SageMaker only: passing it to EC2 starts nothing
    ([{**USE_TRAINING, "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": [
        N.kms_alias(c) for c in ("training", "model", "inference")]}}}, PASS_EXEC], True),  # holds every class
])
def test_passrole_data_class_both_ways(statements, expected):
    stacks = _with_statements(broken("passrole_data_class"), statements)
    assert verdict(run(PASSROLE, stacks), DS_ROLE) is expected


# --- AEGIS_ML_ENGINEER_DEPLOYS ---------------------------------------------------------------------

DEPLOYS = "AEGIS_ML_ENGINEER_DEPLOYS"
REALTIME, SERVERLESS = ("aws_sagemaker_model.model-fraud-scorer_model_9B9134B8",
                        "aws_sagemaker_model.model-churn-predictor_model_6AB00074")


def test_ml_engineer_deploys_fires_on_todays_broken_shape():
    results = run(DEPLOYS, broken("ml_engineer_deploys"))
    assert failed(results) == {REALTIME, SERVERLESS}
    messages = {r.address: r.message for r in results}
    assert "cannot create the model (serverless, no VPC)" in messages[SERVERLESS]
    assert "cannot kms:CreateGrant on the endpoint config's key" in messages[REALTIME]


def test_a_boundary_without_the_vpc_rule_lets_real_time_models_out_of_the_vpc(default_app):
    stacks = copy.deepcopy(default_app)
    for policy in stacks["dev-bootstrap"]["resource"]["aws_iam_policy"].values():
        document = json.loads(policy["policy"])
        document["Statement"] = [s for s in document["Statement"]
                                 if s["Sid"] not in ("DenyModelsWithoutVpcExceptServerless", "DenyServerlessModelsOnInstances")]
        policy["policy"] = json.dumps(document)
    results = run(DEPLOYS, {k: v for k, v in stacks.items() if k.startswith("dev-")}, "dev")
    messages = {r.address: r.message for r in results if not r.passed}
    assert "may create this real-time model without a VPC" in messages[REALTIME]
    assert "may put a model created without a VPC (serverless) on instances" in messages[SERVERLESS]


def _prod_with_hand_deploys(default_app) -> dict:
    """The prod stacks with the ML engineer's dev policy and the dev boundary rule: the shape before
    deployment in staging and prod was left to the deployer (a registrar who can also deploy)."""
    from modules.access.persona_policies import persona_policy
    from modules.boundary import boundary_document
    stacks = {k: copy.deepcopy(v) for k, v in default_app.items() if k.startswith("prod-")}
    prod = config("prod")
    as_dev = prod.model_copy(update={"tier": "dev"})
    for policy in stacks["prod-access"]["resource"]["aws_iam_role_policy"].values():
        if policy["name"].endswith("ml-engineer") or "ml-engineer" in str(policy["role"]):
            inline = json.loads(policy["policy"])
            guard = [st for st in inline["Statement"] if st.get("Sid") == "DenyWithoutMfa"]
            policy["policy"] = persona_policy("ml-engineer", as_dev, mfa_guard_statement=bool(guard))
    for policy in stacks["prod-bootstrap"]["resource"]["aws_iam_policy"].values():
        if policy["name"] == Naming.of(prod).resource("permission-boundary"):
            before = json.loads(policy["policy"])
            after = json.loads(boundary_document(Naming.of(prod), by_hand=True))
            # Keep everything else of the synthesized boundary (the edge region rules): swap the one statement.
            swapped = {st["Sid"]: st for st in after["Statement"]}
            before["Statement"] = [swapped["DenyDeploymentExceptMlEngineer"] if st["Sid"] == "DenyDeployment" else st
                                   for st in before["Statement"]]
            policy["policy"] = json.dumps(before)
    return stacks


def test_in_prod_an_ml_engineer_who_may_deploy_fails(default_app):
    results = [r for r in run(DEPLOYS, _prod_with_hand_deploys(default_app), "prod") if r.address.startswith("aws_sagemaker_model.")]
    assert results and not any(r.passed for r in results)
    assert all("may create the endpoint in prod, where only the deployer deploys" in r.message for r in results)
    assert any("may pass its execution role to SageMaker in prod" in r.message for r in results)


def test_in_prod_an_ml_engineer_who_deploys_nothing_passes(default_app):
    stacks = {k: v for k, v in default_app.items() if k.startswith("prod-")}
    results = [r for r in run(DEPLOYS, stacks, "prod") if r.address.startswith("aws_sagemaker_model.")]
    assert results and all(r.passed for r in results)
    assert all("cannot deploy it in prod (only the deployer does)" in r.message for r in results)


def test_a_missing_ml_engineer_role_fails(default_app):
    stacks = {k: copy.deepcopy(v) for k, v in default_app.items() if k.startswith("dev-")}
    roles = stacks["dev-access"]["resource"]["aws_iam_role"]
    for name in [n for n, r in roles.items() if r["name"] == N.role("ml-engineer")]:
        del roles[name]
    assert [r.address for r in run(DEPLOYS, stacks, "dev") if not r.passed] == [""]


# --- AEGIS_HUMAN_TRUST_MODE ------------------------------------------------------------------------

TRUST = "AEGIS_HUMAN_TRUST_MODE"


def with_access(access: dict):
    cfg = config("dev")
    merged = cfg.access.model_dump(exclude_unset=True) | access
    return cfg.model_copy(update={"access": AccessSettings.model_validate(merged)})


IAM_MFA = {"trust": {"mode": "iam-mfa", "identity_account_id": "999900001111"}}
# The fixture's stacks predate the model-approver persona: judge them with the personas they had.
FIXTURE_PERSONAS = {"personas": {**config("dev").access.model_dump(exclude_unset=True).get("personas", {}),
                                 "model-approver": {"enabled": False}}}


def test_human_trust_mode_fires_on_todays_broken_shape():
    results = run(TRUST, broken("human_trust_mode"), configs={"dev": with_access(FIXTURE_PERSONAS)})
    assert len(results) == 4 and not any(r.passed for r in results)
    assert all("never carry aws:MultiFactorAuthPresent" in r.message for r in results)
    assert all("denies on the MFA key" in r.message for r in results)


def test_the_same_trust_is_right_in_iam_mfa_mode():
    results = run(TRUST, broken("human_trust_mode"), configs={"dev": with_access({**IAM_MFA, **FIXTURE_PERSONAS})})
    assert len(results) == 4 and all(r.passed for r in results)


def test_an_identity_center_trust_in_iam_mfa_mode_fails(default_app):
    stacks = {k: v for k, v in default_app.items() if k.startswith("dev-")}
    results = run(TRUST, stacks, configs={"dev": with_access(IAM_MFA)})
    assert len(results) == 5 and all("cannot assume it even with MFA" in r.message for r in results)


def test_an_identity_center_trust_of_every_permission_set_fails(default_app):
    stacks = copy.deepcopy({k: v for k, v in default_app.items() if k.startswith("dev-")})
    for role in stacks["dev-access"]["resource"]["aws_iam_role"].values():
        role["assume_role_policy"] = re.sub(r"AWSReservedSSO_AegisDev[A-Za-z]+_\*", "AWSReservedSSO_*",
                                            role["assume_role_policy"])
    results = run(TRUST, stacks, "dev")
    assert {r.passed for r in results} == {False}
