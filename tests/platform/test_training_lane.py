"""The training lane of `<env>-platform`: the VPC-only Studio domain and its profiles, and the training
execution role, judged on the synthesized stacks and with the IAM evaluator."""
from __future__ import annotations

import json
import re

import pytest

from modules.boundary import boundary_arn
from modules.training import CHECKPOINT_PREFIX, STUDIO_PERSONAS, studio_role
from policies.iam_eval import Request, is_allowed
from tests.platform.conftest import ref, statements


def test_the_domain_is_vpc_only_in_the_private_subnets_with_the_training_key(view):
    (logical, domain), = view.res("aws_sagemaker_domain").items()
    assert domain["app_network_access_type"] == "VpcOnly"
    assert domain["auth_mode"] == "IAM"
    assert domain["kms_key_id"] == view.key_ref("training")
    assert domain["vpc_id"] == view.vpc_ref()
    assert sorted(domain["subnet_ids"]) == view.private_subnet_refs()
    assert domain["retention_policy"]["home_efs_file_system"] == "Retain"
    users = domain["default_user_settings"]
    assert users["sharing_settings"]["notebook_output_option"] == "Disabled"
    studio = view.config.platform.training.studio
    for settings in (users["jupyter_lab_app_settings"], users["code_editor_app_settings"],
                     domain["default_space_settings"]["jupyter_lab_app_settings"]):
        idle = settings["app_lifecycle_management"]["idle_settings"]
        assert idle["lifecycle_management"] == "ENABLED"
        assert idle["idle_timeout_in_minutes"] == studio.idle_timeout_minutes
        assert idle["max_idle_timeout_in_minutes"] == studio.max_idle_timeout_minutes


def test_studio_security_group_admits_only_its_own_members(view):
    (domain,) = view.res("aws_sagemaker_domain").values()
    (group_ref,) = domain["default_user_settings"]["security_groups"]
    logical = group_ref.split(".")[1]
    ingress = view.rules_of(logical, "ingress")
    assert {(r["from_port"], r["to_port"]) for r in ingress} == {(2049, 2049), (8192, 65535)}
    assert all(r["referenced_security_group_id"] == group_ref and "cidr_ipv4" not in r for r in ingress)


def test_each_studio_persona_has_a_profile_with_its_own_bounded_role(view):
    profiles = view.res("aws_sagemaker_user_profile")
    assert sorted(p["user_profile_name"] for p in profiles.values()) == sorted(STUDIO_PERSONAS)
    roles = {r["name"]: (k, r) for k, r in view.res("aws_iam_role").items()}
    for profile in profiles.values():
        name = view.naming.role(studio_role(profile["user_profile_name"]))
        logical, role = roles[name]
        assert profile["user_settings"]["execution_role"] == ref("aws_iam_role", logical, "arn")
        assert role["permissions_boundary"] == boundary_arn(view.naming)
        assert json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {
            "Service": "sagemaker.amazonaws.com"}


def _role(view, purpose: str) -> list[dict]:
    (logical,) = [k for k, r in view.res("aws_iam_role").items() if r["name"] == view.naming.role(purpose)]
    return [view.role_policy(logical)]


def test_training_role_reads_datasets_and_writes_only_under_models(view):
    n = view.naming
    policies = _role(view, "sagemaker-training")
    ctx = {"aws:RequestedRegion": n.region}

    def allowed(action: str, resource: str) -> bool:
        return is_allowed(policies, Request(action, resource, ctx))

    assert allowed("s3:GetObject", f"{n.bucket_arn('datasets')}/raw/part-0.parquet")
    assert allowed("s3:PutObject", f"{n.bucket_arn('model-artifacts')}/{CHECKPOINT_PREFIX}job-1/ckpt.pt")
    assert allowed("s3:PutObject", f"{n.bucket_arn('model-artifacts')}/models/_training/job-1/model.tar.gz")
    assert not allowed("s3:PutObject", f"{n.bucket_arn('model-artifacts')}/elsewhere/x")
    # A published version comes from `model publish`, never from a job's code.
    assert not allowed("s3:PutObject", f"{n.bucket_arn('model-artifacts')}/models/fraud-scorer/9.9.9/model.tar.gz")
    assert allowed("s3:GetObject", f"{n.bucket_arn('model-artifacts')}/models/fraud-scorer/1.4.0/model.tar.gz")
    assert not allowed("s3:PutObject", f"{n.bucket_arn('datasets')}/raw/part-0.parquet")
    assert not allowed("s3:GetObject", f"{n.bucket_arn('inference')}/data-capture/x.jsonl")
    assert not allowed("sagemaker:CreateEndpoint", f"arn:aws:sagemaker:{n.region}:{n.account_id}:endpoint/x")


def test_studio_roles_start_only_guarded_jobs_and_never_approve(view):
    n = view.naming
    job = f"arn:aws:sagemaker:{n.region}:{n.account_id}:training-job/{n.prefix}-t1"
    key = f"arn:aws:kms:{n.region}:{n.account_id}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    guarded = {"aws:RequestedRegion": n.region, "sagemaker:VpcSubnets": ["subnet-1"], "sagemaker:VolumeKmsKey": key,
               "sagemaker:OutputKmsKey": key, "sagemaker:InterContainerTrafficEncryption": True,
               "sagemaker:NetworkIsolation": True}
    for persona in STUDIO_PERSONAS:
        policies = _role(view, studio_role(persona))
        assert is_allowed(policies, Request("sagemaker:CreateTrainingJob", job, guarded))
        for missing in ("sagemaker:InterContainerTrafficEncryption", "sagemaker:NetworkIsolation"):
            context = {k: v for k, v in guarded.items() if k != missing}
            assert not is_allowed(policies, Request("sagemaker:CreateTrainingJob", job, context)), missing
        assert is_allowed(policies, Request(
            "iam:PassRole", n.role_arn("sagemaker-training"),
            {"aws:RequestedRegion": n.region, "iam:PassedToService": "sagemaker.amazonaws.com"}))
        package = f"arn:aws:sagemaker:{n.region}:{n.account_id}:model-package/{n.prefix}-m/1"
        approve = Request("sagemaker:UpdateModelPackage", package,
                          {"aws:RequestedRegion": n.region, "sagemaker:ModelApprovalStatus": "Approved"})
        assert not is_allowed(policies, approve)
        assert all(s["Effect"] == "Deny" or "sagemaker:CreateEndpoint" not in s["Action"]
                   for s in statements(policies[0]))


def test_the_job_template_carries_spot_checkpoints_and_the_isolation_jobs_need(view):
    n, spot = view.naming, view.config.platform.training.spot
    (parameter,) = [p for p in view.res("aws_ssm_parameter").values()
                    if p["name"] == f"/{n.project}/{n.env}/training/job-template"]
    template = json.loads(parameter["value"])
    assert template["RoleArn"] == n.role_arn("sagemaker-training")
    assert sorted(template["VpcConfig"]["Subnets"]) == view.private_subnet_refs()
    assert template["EnableNetworkIsolation"] is True and template["EnableInterContainerTrafficEncryption"] is True
    assert template["ResourceConfig"]["VolumeKmsKeyId"] == view.key_ref("training")
    assert template["OutputDataConfig"]["KmsKeyId"] == view.key_ref("model")
    assert template["EnableManagedSpotTraining"] is spot.enabled
    assert template["StoppingCondition"] == {"MaxRuntimeInSeconds": spot.max_run_seconds,
                                             "MaxWaitTimeInSeconds": spot.max_wait_seconds}
    assert template["CheckpointConfig"]["S3Uri"] == f"s3://{n.bucket('model-artifacts')}/{CHECKPOINT_PREFIX}"


def test_the_local_storage_job_template_differs_only_by_naming_no_volume_key(view):
    """SageMaker refuses a VolumeKmsKeyId on instance types with local NVMe storage (g5, p4d, m5d …)."""
    n = view.naming
    templates = {p["name"]: json.loads(p["value"]) for p in view.res("aws_ssm_parameter").values()}
    main = templates[f"/{n.project}/{n.env}/training/job-template"]
    local = templates[f"/{n.project}/{n.env}/training/job-template-local-storage"]
    assert "VolumeKmsKeyId" not in local["ResourceConfig"]
    assert {**local, "ResourceConfig": main["ResourceConfig"]} == main


def test_the_data_store_is_serverless_v2_private_and_reached_only_from_the_workloads(view):
    clusters = view.res("aws_rds_cluster")
    store = view.config.platform.training.data_store
    if not store.enabled:
        assert clusters == {} and view.res("aws_rds_cluster_instance") == {}
        return
    (cluster,) = clusters.values()
    assert (cluster["engine"], cluster["engine_mode"]) == ("aurora-postgresql", "provisioned")
    assert cluster["serverlessv2_scaling_configuration"] == {"min_capacity": store.min_capacity,
                                                             "max_capacity": store.max_capacity}
    assert cluster["kms_key_id"] == cluster["master_user_secret_kms_key_id"] == view.key_ref("training")
    (instance,) = view.res("aws_rds_cluster_instance").values()
    assert instance["instance_class"] == "db.serverless" and instance["publicly_accessible"] is False
    (group_ref,) = cluster["vpc_security_group_ids"]
    ingress = view.rules_of(group_ref.split(".")[1], "ingress")
    assert ingress and all(r["from_port"] == r["to_port"] == 5432 and "cidr_ipv4" not in r for r in ingress)
    (subnets,) = view.res("aws_db_subnet_group").values()
    assert sorted(subnets["subnet_ids"]) == view.private_subnet_refs()


def test_jobs_connect_to_the_data_store_as_their_own_user_where_it_exists(view):
    """Processing jobs are not network-isolated and reach the store on 5432 through the training
    security group: they authenticate with an IAM token as `training_job`, and as no other user."""
    n = view.naming
    policies = _role(view, "sagemaker-training")
    dbuser = f"arn:aws:rds-db:{n.region}:{n.account_id}:dbuser:cluster-ABCDEFGHIJKL0123456789"
    ctx = {"aws:RequestedRegion": n.region}
    own = is_allowed(policies, Request("rds-db:connect", f"{dbuser}/training_job", ctx))
    assert own is view.config.platform.training.data_store.enabled
    for other in ("aegis_admin", "data_scientist", "ml_engineer"):
        assert not is_allowed(policies, Request("rds-db:connect", f"{dbuser}/{other}", ctx))


def _os_metrics_group(view) -> tuple[str, dict]:
    (found,) = [(k, g) for k, g in view.res("aws_cloudwatch_log_group").items() if g["name"] == "RDSOSMetrics"]
    return found


def test_the_data_store_owns_rds_os_metrics_encrypted_kept_and_before_the_instance(prod):
    """Left to RDS, RDSOSMetrics has no customer key and 30 days' retention: NON_COMPLIANT for ever under the
    deployed cloudwatch-log-group-encrypted and cw-loggroup-retention-period-check rules. Owned here: the
    audit key, the environment's retention, and (shared by every RDS instance of the account) never destroyed
    in prod."""
    logical, group = _os_metrics_group(prod)
    assert group["kms_key_id"] == prod.key_ref("audit")
    assert group["retention_in_days"] == prod.config.access.logs.retention_days
    assert group["deletion_protection_enabled"] is True and group["lifecycle"]["prevent_destroy"] is True
    (instance,) = prod.res("aws_rds_cluster_instance").values()
    assert f"aws_cloudwatch_log_group.{logical}" in instance["depends_on"]
    assert "import" not in prod.stack  # prod.yaml adopts nothing: the group is created


def test_the_monitoring_role_writes_rds_os_metrics_but_cannot_create_it_or_change_its_retention(prod):
    """RDS would otherwise reset the retention to 30 days (AmazonRDSEnhancedMonitoringRole's PutRetentionPolicy)."""
    n = prod.naming
    policies = _role(prod, "rds-monitoring")
    group = f"arn:aws:logs:{n.region}:{n.account_id}:log-group:RDSOSMetrics"
    ctx = {"aws:RequestedRegion": n.region}

    def allowed(action: str, resource: str) -> bool:
        return is_allowed(policies, Request(action, resource, ctx))

    assert allowed("logs:CreateLogStream", f"{group}:log-stream:db-ABC") and allowed(
        "logs:PutLogEvents", f"{group}:log-stream:db-ABC")
    for action in ("logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DeleteLogGroup", "logs:DisassociateKmsKey"):
        assert not allowed(action, group), action
    other = f"arn:aws:logs:{n.region}:{n.account_id}:log-group:RDSOther:log-stream:x"
    assert not allowed("logs:PutLogEvents", other)


def test_cloudwatch_logs_may_encrypt_rds_os_metrics_with_the_audit_key(synthesized):
    """CloudWatch Logs uses the key for the group with encryption context aws:logs:arn = the group's ARN."""
    from policies.iam_eval import as_service, kms_is_allowed
    from tests.modules.test_key_access import env_keys

    keys = env_keys(synthesized, "prod")
    n = keys.naming
    audit = keys.keys[("audit", n.region)]
    group = f"arn:aws:logs:{n.region}:{n.account_id}:log-group:RDSOSMetrics"
    for action in ("kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt"):
        mine = as_service(f"logs.{n.region}.amazonaws.com", action, audit.arn(n.account_id),
                          {"kms:EncryptionContext:aws:logs:arn": group})
        assert kms_is_allowed(audit.policy, [], mine), action
    elsewhere = as_service(f"logs.{n.region}.amazonaws.com", "kms:Decrypt", audit.arn(n.account_id),
                           {"kms:EncryptionContext:aws:logs:arn": group.replace(n.account_id, "444455556666")})
    assert not kms_is_allowed(audit.policy, [], elsewhere)


@pytest.fixture(scope="module")
def adopting_os_metrics(tmp_path_factory, synthesized):
    """dev with the data store and an RDSOSMetrics group that already exists in the account (adopted)."""
    from modules.config import load_env
    from tests.platform.conftest import synthesize_platform

    config = load_env("dev")
    training = config.platform.training.model_copy(update={
        "enabled": True, "data_store": config.platform.training.data_store.model_copy(update={"enabled": True})})
    adopt = config.governance.adopt.model_copy(update={"rds_os_metrics_log_group": True})
    config = config.model_copy(update={
        "platform": config.platform.model_copy(update={"training": training}),
        "governance": config.governance.model_copy(update={"adopt": adopt})})
    return synthesize_platform(config, tmp_path_factory.mktemp("os-metrics") / "out")


def test_an_existing_rds_os_metrics_group_is_adopted_and_never_destroyed(adopting_os_metrics):
    """Adopted: imported by its name instead of failing to create it, and kept even where the tier does not
    protect its resources (dev), since other RDS instances of the account write to it."""
    view = adopting_os_metrics
    assert view.config.platform.deletion_protection is False
    logical, group = _os_metrics_group(view)
    assert {"to": f"aws_cloudwatch_log_group.{logical}", "id": "RDSOSMetrics"} in [
        {k: b[k] for k in ("to", "id")} for b in view.stack["import"]]
    assert group["lifecycle"]["prevent_destroy"] is True and group["deletion_protection_enabled"] is True
    assert group["kms_key_id"] == view.key_ref("audit")


def _may_in_studio(policies: list, action: str, resource: str, region: str, owner: str | None,
                   sharing: str | None) -> bool:
    context = {"aws:RequestedRegion": region}
    if owner:
        context["sagemaker:OwnerUserProfileArn"] = owner
    if sharing:
        context["sagemaker:SpaceSharingType"] = sharing
    return is_allowed(policies, Request(action, resource, context))


def test_studio_roles_run_only_their_own_private_apps_and_spaces(view):
    """Apps and spaces belong to the whole domain: a Studio role may create or delete only those of its
    own user profile, and only private ones (a shared space would run as the domain's space role)."""
    region = view.naming.region
    for persona in STUDIO_PERSONAS:
        # The domain's ID is a reference until apply: judge the policy with one ID in its place.
        domain_id = "d-abc123"
        policies = [json.loads(re.sub(r"\$\{aws_sagemaker_domain\.[^}]+\.id\}", domain_id,
                                      json.dumps(p))) for p in _role(view, studio_role(persona))]
        (spaces,) = [s for s in statements(policies[0]) if s.get("Sid") == "OwnPrivateStudioSpaces"]
        sm = spaces["Resource"].split(":space/")[0]  # arn:aws:sagemaker:<region>:<account>
        own = f"{sm}:user-profile/{domain_id}/{persona}"
        other = f"{sm}:user-profile/{domain_id}/{next(p for p in STUDIO_PERSONAS if p != persona)}"
        for action, kind in (("sagemaker:CreateSpace", "space"), ("sagemaker:DeleteSpace", "space"),
                             ("sagemaker:UpdateSpace", "space"), ("sagemaker:CreateApp", "app"),
                             ("sagemaker:DeleteApp", "app")):
            resource = f"{sm}:{kind}/{domain_id}/x"
            assert _may_in_studio(policies, action, resource, region, own, "Private"), (persona, action)
            assert not _may_in_studio(policies, action, resource, region, other, "Private"), (persona, action)
            assert not _may_in_studio(policies, action, resource, region, own, "Shared"), (persona, action)
            assert not _may_in_studio(policies, action, resource, region, None, None), (persona, action)
