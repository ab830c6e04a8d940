"""AEGIS_TRAINING_JOB_GUARDS and AEGIS_MODEL_APPROVAL_SEPARATED: fixtures both ways, built from the
generator's own documents (boundary, persona policies) with one rule taken out."""
from __future__ import annotations

import json

from modules.access.persona_policies import persona_policy
from modules.boundary import boundary_arn, boundary_document, boundary_name
from modules.iam_doc import document, service_trust
from modules.naming import Naming
from tests.policies.app_checks.helpers import app, config, failures, resources, run

GUARDS, APPROVAL = "AEGIS_TRAINING_JOB_GUARDS", "AEGIS_MODEL_APPROVAL_SEPARATED"
N = Naming.of(config("dev"))
HUMAN_TRUST = document({"Sid": "T", "Effect": "Allow", "Action": "sts:AssumeRole",
                        "Principal": {"AWS": "arn:aws:iam::999900001111:root"}})


def without(doc: str, *sids: str) -> str:
    parsed = json.loads(doc)
    parsed["Statement"] = [s for s in parsed["Statement"] if s.get("Sid") not in sids]
    return json.dumps(parsed)


def role(name: str, policy: str, trust: str = HUMAN_TRUST) -> dict:
    return {"name": N.role(name), "assume_role_policy": trust, "permissions_boundary": boundary_arn(N),
            "inline_policy": [{"name": name, "policy": policy}]}


def stacks(boundary: str | None = None, **policies: str) -> dict:
    """dev with the boundary, one model package group and the named personas (their real policies
    unless given)."""
    roles = {p.replace("-", "_"): role(p, policies.get(p) or persona_policy(p, config("dev"), mfa_guard_statement=False))
             for p in ("ml-engineer", "data-scientist", "model-approver")}
    return app("dev",
               data=resources(aws_iam_policy={"boundary": {"name": boundary_name(N),
                                                           "policy": boundary or boundary_document(N, by_hand=True)}},
                              aws_sagemaker_model_package_group={"g": {"model_package_group_name": N.resource("m")}}),
               access=resources(aws_iam_role=roles))


def test_the_generated_boundary_and_personas_pass_both_checks():
    assert failures(run(GUARDS, stacks(), "dev")) == []
    assert failures(run(APPROVAL, stacks(), "dev")) == []


def test_a_boundary_without_the_key_rules_fails():
    broken = without(boundary_document(N, by_hand=True), "DenyJobsWithoutOwnVolumeKey")
    (failure,) = failures(run(GUARDS, stacks(boundary=broken), "dev"))
    assert "aws_iam_policy.boundary" in failure and "without a volume key" in failure


def test_a_boundary_without_the_vpc_rule_fails():
    broken = without(boundary_document(N, by_hand=True), "DenySageMakerComputeWithoutVpc")
    (failure,) = failures(run(GUARDS, stacks(boundary=broken), "dev"))
    assert "without VPC subnets" in failure


def test_a_persona_without_the_job_guards_fails():
    policy = without(persona_policy("data-scientist", config("dev"), mfa_guard_statement=False),
                     "DenyJobsWithoutTrafficEncryption", "DenyJobsWithoutNetworkIsolation")
    (failure,) = failures(run(GUARDS, stacks(**{"data-scientist": policy}), "dev"))
    assert "aegis-dev-data-scientist may CreateTrainingJob without inter-container traffic encryption" in failure
    assert "without network isolation" in failure


def narrowed_isolation(doc: str) -> str:
    """`doc` with its isolation deny left to training and tuning jobs (the shape before processing jobs
    were covered)."""
    parsed = json.loads(doc)
    for s in parsed["Statement"]:
        if s.get("Sid") == "DenyJobsWithoutNetworkIsolation":
            s["Action"] = [a for a in s["Action"] if a != "sagemaker:CreateProcessingJob"]
    return json.dumps(parsed)


def test_processing_jobs_must_be_isolated_where_no_data_store_needs_them():
    policy = narrowed_isolation(persona_policy("data-scientist", config("dev"), mfa_guard_statement=False))
    (failure,) = failures(run(GUARDS, stacks(**{"data-scientist": policy}), "dev"))
    assert "aegis-dev-data-scientist may CreateProcessingJob without network isolation" in failure
    assert "CreateTrainingJob" not in failure


def test_with_a_data_store_only_roles_passing_the_training_role_may_run_unisolated_processing():
    from modules.training import pipeline_statements

    prod = config("prod")
    assert prod.platform.training.data_store.enabled
    n = Naming.of(prod)
    scientist = json.loads(persona_policy("data-scientist", prod, mfa_guard_statement=False))
    (isolation,) = [s for s in scientist["Statement"] if s.get("Sid") == "DenyJobsWithoutNetworkIsolation"]
    assert "sagemaker:CreateProcessingJob" not in isolation["Action"]  # its jobs connect to the store
    pipeline = document(*pipeline_statements(n, f"arn:aws:kms:{n.region}:{n.account_id}:key/*"))
    service = service_trust("sagemaker.amazonaws.com", n.account_id)

    def judged(pipeline_policy: str) -> list[str]:
        roles = {"scientist": {**role("data-scientist", json.dumps(scientist)), "name": n.role("data-scientist"),
                               "permissions_boundary": boundary_arn(n)},
                 "pipeline": {**role("sagemaker-pipeline", pipeline_policy, trust=service),
                              "name": n.role("sagemaker-pipeline"), "permissions_boundary": boundary_arn(n)}}
        fixture = app("prod", data=resources(aws_iam_policy={"boundary": {
            "name": boundary_name(n), "policy": boundary_document(n)}}), access=resources(aws_iam_role=roles))
        return failures(run(GUARDS, fixture, "prod"))

    assert judged(pipeline) == []
    (failure,) = judged(narrowed_isolation(pipeline))
    assert "aws_iam_role.pipeline" in failure
    assert "aegis-prod-sagemaker-pipeline may CreateProcessingJob without network isolation" in failure


def test_a_service_role_that_sagemaker_runs_is_judged_and_an_unreadable_one_fails():
    fixture = stacks()
    runs_jobs = role("sagemaker-training", document({"Sid": "A", "Effect": "Allow",
                                                     "Action": "sagemaker:CreateTrainingJob", "Resource": "*"}),
                     trust=service_trust("sagemaker.amazonaws.com", N.account_id))
    fixture["dev-platform"] = resources(aws_iam_role={"t": runs_jobs, "managed": {
        **role("other", "{}", trust=service_trust("lambda.amazonaws.com", N.account_id)),
        "inline_policy": [], "managed_policy_arns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}})
    found = failures(run(GUARDS, fixture, "dev"))
    assert any("aws_iam_role.t" in f and "without inter-container traffic encryption" in f for f in found)
    assert any("aws_iam_role.managed" in f and "cannot be judged" in f for f in found)


def test_without_the_boundary_rule_a_trainer_who_can_approve_fails():
    boundary = without(boundary_document(N, by_hand=True), "DenyModelApprovalExceptApprover", "DenyPackageUpdatesExceptApprover")
    ml = without(persona_policy("ml-engineer", config("dev"), mfa_guard_statement=False), "DenyModelApproval")
    found = failures(run(APPROVAL, stacks(boundary=boundary, **{"ml-engineer": ml}), "dev"))
    assert any("aws_iam_policy.boundary" in f and "UpdateModelPackage with status Approved" in f for f in found)
    assert any("aegis-dev-ml-engineer may approve model versions and also register versions" in f
               and "create endpoints" in f for f in found)


def test_a_boundary_that_lets_any_role_update_packages_without_a_status_fails():
    boundary = without(boundary_document(N, by_hand=True), "DenyPackageUpdatesExceptApprover")
    found = failures(run(APPROVAL, stacks(boundary=boundary), "dev"))
    assert any("aws_iam_policy.boundary" in f and "UpdateModelPackage without a status" in f for f in found)
    assert not any("CreateModelPackage with status Approved" in f for f in found)  # registering stays denied


def test_an_approver_who_may_also_train_fails():
    approver = json.loads(persona_policy("model-approver", config("dev"), mfa_guard_statement=False))
    approver["Statement"] = [s for s in approver["Statement"] if s["Effect"] == "Allow"] + [
        {"Sid": "AlsoTrain", "Effect": "Allow", "Action": "sagemaker:CreateTrainingJob", "Resource": "*"}]
    boundary = json.loads(boundary_document(N, by_hand=True))  # the boundary leaves training to the personas' own policies
    found = failures(run(APPROVAL, stacks(boundary=json.dumps(boundary), **{"model-approver": json.dumps(approver)}),
                         "dev"))
    assert found == ["dev-access aws_iam_role.model_approver: aegis-dev-model-approver may approve model versions "
                     "and also start training jobs"]


def test_no_registry_no_judgement():
    fixture = stacks()
    del fixture["dev-data"]["resource"]["aws_sagemaker_model_package_group"]
    assert run(APPROVAL, fixture, "dev") == []


def _prod_stacks(by_hand: bool) -> dict:
    """prod with its boundary and personas; `by_hand`: the ML engineer's dev policy and the dev boundary
    rule instead (the shape before staging and prod left deployment to the deployer alone)."""
    prod = config("prod")
    n = Naming.of(prod)
    source = prod.model_copy(update={"tier": "dev"}) if by_hand else prod

    def prod_role(name: str) -> dict:
        return {"name": n.role(name), "assume_role_policy": HUMAN_TRUST, "permissions_boundary": boundary_arn(n),
                "inline_policy": [{"name": name, "policy": persona_policy(
                    name, source if name == "ml-engineer" else prod, mfa_guard_statement=False)}]}
    return app("prod",
               data=resources(aws_iam_policy={"boundary": {"name": boundary_name(n),
                                                           "policy": boundary_document(n, by_hand=by_hand)}},
                              aws_sagemaker_model_package_group={"g": {"model_package_group_name": n.resource("m")}}),
               access=resources(aws_iam_role={p.replace("-", "_"): prod_role(p)
                                              for p in ("ml-engineer", "data-scientist", "model-approver")}))


def test_in_prod_whoever_registers_versions_deploys_none():
    assert failures(run(APPROVAL, _prod_stacks(by_hand=False), "prod")) == []


def test_in_prod_a_registrar_who_may_also_deploy_fails():
    (found,) = failures(run(APPROVAL, _prod_stacks(by_hand=True), "prod"))
    assert "aegis-prod-ml-engineer may register model versions and also create endpoints, update endpoints, " \
           "create models in prod, where only the deployer deploys" in found
