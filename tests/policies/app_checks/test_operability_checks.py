"""App-level checks for what would apply cleanly yet not work: CloudTrail digests the audit bucket refuses,
GPU fleets the GuardDuty and Inspector agents never reach, execution roles the ml-engineer could hand to
training jobs, edge resources no persona may operate, and session lengths role chaining cannot give.

Each check is shown both ways on small stacks, and fires on the broken shape trimmed from the output
synthesized before the fixes (tests/policies/fixtures/broken/)."""
from __future__ import annotations

import json

from modules.naming import Naming
from tests.policies.app_checks.helpers import app, broken, config, doc, fails_on, failures, run, verdict

# ---- AEGIS_TRAIL_DIGEST_DELIVERY -----------------------------------------------------------------

PROD = Naming.of(config("prod"))
AUDIT = PROD.bucket("audit")
OBJECTS = f"arn:aws:s3:::{AUDIT}/*"
DIGESTS = f"arn:aws:s3:::{AUDIT}/cloudtrail/AWSLogs/{PROD.account_id}/CloudTrail-Digest/*"
TRAIL_WRITE = {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
               "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{AUDIT}/cloudtrail/AWSLogs/{PROD.account_id}/*",
               "Condition": {"StringEquals": {"aws:SourceArn": PROD.trail_arn(),
                                              "s3:x-amz-acl": "bucket-owner-full-control"}}}


def kms_only(**where) -> list[dict]:
    return [{"Sid": "DenyNonKmsEncryption", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", **where,
             "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}}},
            {"Sid": "DenyOtherKmsKeys", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", **where,
             "Condition": {"StringNotEqualsIfExists": {
                 "s3:x-amz-server-side-encryption-aws-kms-key-id": "${aws_kms_key.audit.arn}"}}}]


DIGESTS_SSE_S3 = {"Sid": "DenyNonS3EncryptionOfServiceDigests", "Effect": "Deny", "Principal": "*",
                  "Action": "s3:PutObject", "Resource": [DIGESTS],
                  "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "AES256"}}}


def trail_app(*statements: dict, validation=True, prefix="cloudtrail", policy: str | None = None):
    trail = {"name": PROD.resource("trail"), "s3_bucket_name": AUDIT, "s3_key_prefix": prefix,
             "enable_log_file_validation": validation}
    bucket_policy = {"bucket": "${aws_s3_bucket.audit.id}", "policy": policy or doc(*statements)}
    return app("prod", access={"provider": {"aws": [{"region": "eu-west-1"}]},
                               "resource": {"aws_cloudtrail": {"trail": trail}}},
               data={"resource": {"aws_s3_bucket": {"audit": {"bucket": AUDIT}},
                                  "aws_s3_bucket_policy": {"audit": bucket_policy}}})


class TestTrailDigestDelivery:
    def test_digest_prefix_exempt_for_sse_s3_passes(self):
        stacks = trail_app(*kms_only(NotResource=[DIGESTS]), DIGESTS_SSE_S3, TRAIL_WRITE)
        assert verdict(run("AEGIS_TRAIL_DIGEST_DELIVERY", stacks), "aws_cloudtrail.trail"), failures(
            run("AEGIS_TRAIL_DIGEST_DELIVERY", stacks))

    def test_kms_only_on_every_object_fails(self):
        message = fails_on(run("AEGIS_TRAIL_DIGEST_DELIVERY", trail_app(*kms_only(Resource=OBJECTS), TRAIL_WRITE)),
                           "aws_cloudtrail.trail")
        assert "denies CloudTrail's SSE-S3 digest files" in message and "CloudTrail-Digest/eu-west-1/" in message

    def test_exempting_the_whole_trail_prefix_fails(self):
        trail_prefix = f"arn:aws:s3:::{AUDIT}/cloudtrail/*"
        message = fails_on(run("AEGIS_TRAIL_DIGEST_DELIVERY",
                               trail_app(*kms_only(NotResource=[trail_prefix]), TRAIL_WRITE)), "aws_cloudtrail.trail")
        assert "also accepts SSE-S3 log files" in message

    def test_no_allow_for_cloudtrail_fails(self):
        message = fails_on(run("AEGIS_TRAIL_DIGEST_DELIVERY",
                               trail_app(*kms_only(NotResource=[DIGESTS]), DIGESTS_SSE_S3)), "aws_cloudtrail.trail")
        assert "does not allow" in message

    def test_policy_that_is_not_literal_json_fails_closed(self):
        message = fails_on(run("AEGIS_TRAIL_DIGEST_DELIVERY", trail_app(policy="${data.aws_iam_policy_document.x.json}")),
                           "aws_cloudtrail.trail")
        assert "not a literal JSON document" in message

    def test_bucket_outside_the_app_fails_closed(self):
        stacks = trail_app(TRAIL_WRITE)
        stacks["prod-data"] = {}
        assert "is not in the app" in fails_on(run("AEGIS_TRAIL_DIGEST_DELIVERY", stacks), "aws_cloudtrail.trail")

    def test_trail_without_log_file_validation_is_not_judged(self):
        assert run("AEGIS_TRAIL_DIGEST_DELIVERY", trail_app(*kms_only(Resource=OBJECTS), validation=False)) == []

    def test_fires_on_the_audit_bucket_synthesized_before_the_fix(self):
        results = run("AEGIS_TRAIL_DIGEST_DELIVERY", broken("trail_digest_denied"))
        assert "denies CloudTrail's SSE-S3 digest files" in fails_on(results, "aws_cloudtrail.trail_3987B402",
                                                                      "prod-access")


# ---- AEGIS_CHAINED_SESSION_LENGTH ----------------------------------------------------------------

SSO_TRUST = {"Sid": "AssumeFromIdentityCenter", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999900001111:root"},
             "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
             "Condition": {"ArnLike": {"aws:PrincipalArn": [
                 "arn:aws:iam::999900001111:role/aws-reserved/sso.amazonaws.com/*AWSReservedSSO_AegisDevMlEngineer_*"]}}}


def session_app(trust: dict | str, seconds: int | None):
    role = {"name": "aegis-dev-ml-engineer", "assume_role_policy": trust if isinstance(trust, str) else doc(trust)}
    if seconds is not None:
        role["max_session_duration"] = seconds
    return app("dev", access={"resource": {"aws_iam_role": {"persona": role}}})


class TestChainedSessionLength:
    def test_identity_center_role_with_one_hour_passes(self):
        assert verdict(run("AEGIS_CHAINED_SESSION_LENGTH", session_app(SSO_TRUST, 3600)), "aws_iam_role.persona")
        assert verdict(run("AEGIS_CHAINED_SESSION_LENGTH", session_app(SSO_TRUST, None)), "aws_iam_role.persona")

    def test_identity_center_role_with_four_hours_fails(self):
        message = fails_on(run("AEGIS_CHAINED_SESSION_LENGTH", session_app(SSO_TRUST, 14400)), "aws_iam_role.persona")
        assert "14400s" in message and "caps at 3600s" in message

    def test_role_arn_principal_is_chaining_too(self):
        trust = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999900001111:role/ci"}, "Action": "sts:AssumeRole"}
        assert fails_on(run("AEGIS_CHAINED_SESSION_LENGTH", session_app(trust, 7200)), "aws_iam_role.persona")

    def test_saml_users_and_unnarrowed_accounts_may_have_longer_sessions(self):
        saml = {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::999900001111:saml-provider/corp"},
                "Action": "sts:AssumeRoleWithSAML"}
        user = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999900001111:user/alice"}, "Action": "sts:AssumeRole"}
        account = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999900001111:root"}, "Action": "sts:AssumeRole",
                   "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}
        for trust in (saml, user, account):
            assert run("AEGIS_CHAINED_SESSION_LENGTH", session_app(trust, 28800)) == []  # not chained: not judged

    def test_trust_that_is_not_literal_json_fails_closed(self):
        message = fails_on(run("AEGIS_CHAINED_SESSION_LENGTH",
                               session_app("${data.aws_iam_policy_document.t.json}", 14400)), "aws_iam_role.persona")
        assert "not a literal JSON document" in message

    def test_fires_on_the_personas_synthesized_before_the_fix(self):
        results = run("AEGIS_CHAINED_SESSION_LENGTH", broken("chained_session_too_long"))
        assert sorted(r.address for r in results if r.passed) == [  # the one-hour app-invoker and platform-admin
            "aws_iam_role.personas_app-invoker_4E166C0B", "aws_iam_role.personas_platform-admin_4D28975D"]
        assert sorted(r.address for r in results if not r.passed) == [
            "aws_iam_role.personas_data-scientist_8B637E70", "aws_iam_role.personas_ml-engineer_2BF21427",
            "aws_iam_role.personas_security-auditor_D151469A"]


# ---- AEGIS_EXECUTION_ROLE_JOBS -------------------------------------------------------------------

EXEC = PROD.role_arn("fraud-scorer-exec")
PASS_EXEC = {"Sid": "PassModelExecutionRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": [EXEC],
             "Condition": {"StringEquals": {"iam:PassedToService": ["sagemaker.amazonaws.com"]}}}
TRAIN = {"Sid": "Train", "Effect": "Allow", "Action": ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob"],
         "Resource": [f"arn:aws:sagemaker:eu-west-1:{PROD.account_id}:training-job/{PROD.prefix}-*",
                      f"arn:aws:sagemaker:eu-west-1:{PROD.account_id}:processing-job/{PROD.prefix}-*"]}
DENY_JOBS = {"Sid": "DenyJobsWithPassedRoles", "Effect": "Deny", "Action": ["sagemaker:CreateProcessingJob",
                                                                            "sagemaker:CreateTrainingJob"],
             "Resource": "*"}
BOUNDARY = doc({"Sid": "AllowArchitectureServices", "Effect": "Allow", "Action": ["sagemaker:*", "iam:PassRole"],
                "Resource": "*"})


def jobs_app(*statements: dict, boundary: str | None = BOUNDARY):
    persona = {"name": PROD.role("ml-engineer"), "assume_role_policy": doc(SSO_TRUST)}
    if boundary is not None:
        persona["permissions_boundary"] = f"arn:aws:iam::{PROD.account_id}:policy/{PROD.resource('permission-boundary')}"
    return app("prod", access={"resource": {
        "aws_iam_role": {"persona": persona},
        "aws_iam_role_policy": {"persona": {"role": "${aws_iam_role.persona.id}", "policy": doc(*statements)}}}},
        bootstrap={"resource": {"aws_iam_policy": {"boundary": {"name": PROD.resource("permission-boundary"),
                                                                "policy": boundary or "{}"}}}},
        platform={"resource": {
            "aws_iam_role": {"exec": {"name": PROD.role("fraud-scorer-exec")}},
            "aws_sagemaker_model": {"fraud": {"execution_role_arn": "${aws_iam_role.exec.arn}"}}}})


class TestExecutionRoleJobs:
    def test_passing_execution_roles_without_job_apis_passes(self):
        results = run("AEGIS_EXECUTION_ROLE_JOBS", jobs_app(PASS_EXEC, TRAIN, DENY_JOBS))
        assert verdict(results, "aws_iam_role.persona"), failures(results)

    def test_training_without_passing_execution_roles_passes(self):
        assert verdict(run("AEGIS_EXECUTION_ROLE_JOBS", jobs_app(TRAIN)), "aws_iam_role.persona")

    def test_passing_execution_roles_and_starting_jobs_fails(self):
        message = fails_on(run("AEGIS_EXECUTION_ROLE_JOBS", jobs_app(PASS_EXEC, TRAIN)), "aws_iam_role.persona")
        assert EXEC in message and "sagemaker:CreateTrainingJob" in message and "sagemaker:CreateProcessingJob" in message

    def test_boundary_that_denies_the_jobs_is_enough(self):
        boundary = doc(json.loads(BOUNDARY)["Statement"][0], DENY_JOBS)
        assert verdict(run("AEGIS_EXECUTION_ROLE_JOBS", jobs_app(PASS_EXEC, TRAIN, boundary=boundary)),
                       "aws_iam_role.persona")

    def test_boundary_missing_from_the_app_fails_closed(self):
        stacks = jobs_app(PASS_EXEC, TRAIN)
        stacks["prod-bootstrap"] = {}
        assert "not a policy of the app" in fails_on(run("AEGIS_EXECUTION_ROLE_JOBS", stacks), "aws_iam_role.persona")

    def test_fires_on_the_ml_engineer_synthesized_before_the_fix(self):
        results = run("AEGIS_EXECUTION_ROLE_JOBS", broken("execution_role_jobs"))
        message = fails_on(results, "aws_iam_role.personas_ml-engineer_2BF21427", "prod-access")
        assert "sagemaker:CreateTrainingJob" in message and "fraud-scorer-exec" in message


# ---- AEGIS_BOUNDARY_REGION_EXEMPTIONS ------------------------------------------------------------

GLOBALS = ["iam:*", "sts:*", "cloudfront:*", "budgets:*", "ce:*", "organizations:*", "support:*"]


def region_guard(*extra: dict) -> str:
    outside = {"Sid": "DenyOutsideEnvironmentRegions", "Effect": "Deny", "NotAction": GLOBALS, "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-central-1", "eu-west-1", "us-east-1"]}}}
    return doc({"Sid": "AllowArchitectureServices", "Effect": "Allow", "Action": "*", "Resource": "*"}, outside, *extra)


def edge_guard(*services: str) -> dict:
    return {"Sid": "DenyInManagedRegionExceptItsServicesUsEast1", "Effect": "Deny", "Resource": "*",
            "NotAction": sorted({*GLOBALS, *(f"{s}:*" for s in services)}),
            "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}


def boundary_app(policy: str) -> dict:
    name = PROD.resource("permission-boundary")
    home = {"aws": [{"region": "eu-west-1"}]}
    return app("prod", bootstrap={"provider": home,
                                  "resource": {"aws_iam_policy": {"boundary": {"name": name, "policy": policy}}}},
               access={"provider": home, "resource": {"aws_iam_role": {"admin": {
                   "name": PROD.role("platform-admin"),
                   "permissions_boundary": f"arn:aws:iam::{PROD.account_id}:policy/{name}"}}}},
               platform={"provider": home, "resource": {
                   "aws_kms_key": {"edge": {"region": "us-east-1"}, "home": {}},
                   "aws_wafv2_web_acl": {"edge": {"region": "us-east-1"}},
                   "aws_cloudwatch_log_group": {"edge": {"region": "us-east-1"}},
                   "aws_sagemaker_model": {"m": {}}, "aws_vpc": {"main": {}}}})


class TestBoundaryRegionExemptions:
    def test_edge_services_exempt_in_us_east_1_only_passes(self):
        results = run("AEGIS_BOUNDARY_REGION_EXEMPTIONS", boundary_app(region_guard(edge_guard("kms", "logs", "wafv2"))))
        assert not failures(results), failures(results)
        (passed,) = results
        assert passed.address == "aws_iam_policy.boundary" and "kms, logs, wafv2 in us-east-1" in passed.message

    def test_guard_exempting_only_global_services_fails_on_each_edge_resource(self):
        results = run("AEGIS_BOUNDARY_REGION_EXEMPTIONS", boundary_app(region_guard(edge_guard())))
        assert sorted(r.address for r in results if not r.passed) == [
            "aws_cloudwatch_log_group.edge", "aws_kms_key.edge", "aws_wafv2_web_acl.edge"]
        assert "denies wafv2 in us-east-1" in fails_on(results, "aws_wafv2_web_acl.edge")

    def test_guard_admitting_more_than_the_edge_fails_on_the_boundary(self):
        results = run("AEGIS_BOUNDARY_REGION_EXEMPTIONS",
                      boundary_app(region_guard(edge_guard("kms", "logs", "wafv2", "sagemaker", "ec2"))))
        message = fails_on(results, "aws_iam_policy.boundary")
        assert "also admits ec2, sagemaker in us-east-1" in message

    def test_guard_admitting_a_service_in_a_region_with_nothing_managed_fails(self):
        loose = {**json.loads(region_guard(edge_guard("kms", "logs", "wafv2")))}
        loose["Statement"][1]["Condition"]["StringNotEquals"]["aws:RequestedRegion"].append("ap-south-1")
        message = fails_on(run("AEGIS_BOUNDARY_REGION_EXEMPTIONS", boundary_app(json.dumps(loose))),
                           "aws_iam_policy.boundary")
        assert "in ap-south-1" in message

    def test_boundary_that_is_not_literal_json_fails_closed(self):
        results = run("AEGIS_BOUNDARY_REGION_EXEMPTIONS", boundary_app("${data.aws_iam_policy_document.b.json}"))
        assert "not a literal document" in fails_on(results, "aws_iam_policy.boundary")

    def test_fires_on_the_prod_boundary_synthesized_before_the_fix(self):
        results = run("AEGIS_BOUNDARY_REGION_EXEMPTIONS", broken("boundary_denies_edge_region"))
        denied = {r.address.split(".")[0] for r in results if not r.passed}
        assert {"aws_kms_key", "aws_wafv2_web_acl", "aws_cloudwatch_log_group", "aws_cloudwatch_log_delivery"} <= denied


# ---- AEGIS_FLEET_AGENT_REACH ---------------------------------------------------------------------

STAGING = Naming.of(config("staging"))
AGENT_STATEMENTS = [
    {"Sid": "SystemsManagerCore", "Effect": "Allow", "Resource": "*", "Action": [
        "ssm:GetDocument", "ssm:ListInstanceAssociations", "ssm:PutInventory", "ssm:UpdateInstanceAssociationStatus",
        "ssm:UpdateInstanceInformation"]},
    {"Sid": "Channels", "Effect": "Allow", "Resource": "*", "Action": [
        "ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel", "ec2messages:AcknowledgeMessage",
        "ec2messages:GetMessages", "ec2messages:SendReply"]}]
MODEL_ONLY = {"Sid": "ReadOwnModel", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/m/*"}
AGENT_BOUNDARY = doc({"Effect": "Allow", "Action": ["s3:*", "ssm:*", "ssmmessages:*", "ec2messages:*"], "Resource": "*"})


def fleet_app(*statements: dict, endpoints=("ssm", "ssmmessages", "ec2messages"),
              nat=False, egress=True, boundary: str = AGENT_BOUNDARY, automated=True, inspector=True, runtime=True):
    name = STAGING.resource("permission-boundary")
    platform = {
        "aws_launch_template": {"lt": {"iam_instance_profile": {"arn": "${aws_iam_instance_profile.p.arn}"},
                                       "network_interfaces": [{"security_groups": ["${aws_security_group.sg.id}"]}]}},
        "aws_iam_instance_profile": {"p": {"name": "aegis-staging-vision-exec", "role": "${aws_iam_role.r.name}"}},
        "aws_iam_role": {"r": {"name": "aegis-staging-vision-exec",
                               "permissions_boundary": f"arn:aws:iam::{STAGING.account_id}:policy/{name}"}},
        "aws_iam_role_policy": {"r": {"role": "${aws_iam_role.r.id}", "policy": doc(*statements)}},
        "aws_security_group": {"sg": {"name": "fleet"}},
        "aws_vpc_endpoint": {s: {"service_name": f"com.amazonaws.eu-west-1.{s}", "vpc_endpoint_type": "Interface",
                                 "private_dns_enabled": True} for s in endpoints},
    }
    if egress:
        platform["aws_vpc_security_group_egress_rule"] = {"https": {
            "security_group_id": "${aws_security_group.sg.id}", "ip_protocol": "tcp", "from_port": 443, "to_port": 443,
            "cidr_ipv4": "10.20.0.0/16"}}
    if nat:
        platform["aws_nat_gateway"] = {"a": {}}
    feature = {"name": "RUNTIME_MONITORING", "status": "ENABLED" if runtime else "DISABLED",
               "additional_configuration": [{"name": "EC2_AGENT_MANAGEMENT",
                                             "status": "ENABLED" if automated else "DISABLED"}]}
    return app("staging", platform={"resource": platform},
               bootstrap={"resource": {"aws_iam_policy": {"b": {"name": name, "policy": boundary}}}},
               access={"resource": {"aws_guardduty_detector_feature": {"runtime": feature}}},
               governance={"resource": {"aws_inspector2_enabler": {"i": {
                   "resource_types": ["EC2", "ECR"] if inspector else ["ECR"]}}}})


class TestFleetAgentReach:
    def test_ssm_managed_fleet_with_endpoints_passes(self):
        results = run("AEGIS_FLEET_AGENT_REACH", fleet_app(MODEL_ONLY, *AGENT_STATEMENTS))
        assert verdict(results, "aws_launch_template.lt"), failures(results)

    def test_aws_managed_ssm_core_policy_attachment_passes(self):
        stacks = fleet_app(MODEL_ONLY)
        stacks["staging-platform"]["resource"]["aws_iam_role_policy_attachment"] = {"ssm": {
            "role": "${aws_iam_role.r.name}", "policy_arn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"}}
        assert verdict(run("AEGIS_FLEET_AGENT_REACH", stacks), "aws_launch_template.lt")

    def test_managed_policy_the_gate_cannot_read_fails_closed(self):
        stacks = fleet_app(*AGENT_STATEMENTS)
        stacks["staging-platform"]["resource"]["aws_iam_role_policy_attachment"] = {"x": {
            "role": "${aws_iam_role.r.name}", "policy_arn": "arn:aws:iam::aws:policy/SomethingElse"}}
        assert "cannot be judged" in fails_on(run("AEGIS_FLEET_AGENT_REACH", stacks), "aws_launch_template.lt")

    def test_nat_instead_of_endpoints_passes(self):
        assert verdict(run("AEGIS_FLEET_AGENT_REACH", fleet_app(*AGENT_STATEMENTS, endpoints=(), nat=True)),
                       "aws_launch_template.lt")

    def test_role_without_ssm_agent_permissions_fails(self):
        message = fails_on(run("AEGIS_FLEET_AGENT_REACH", fleet_app(MODEL_ONLY)), "aws_launch_template.lt")
        assert "may not ssm:UpdateInstanceInformation" in message and "ec2messages:GetMessages" in message

    def test_boundary_that_denies_the_agent_channels_fails(self):
        boundary = doc({"Effect": "Allow", "Action": ["s3:*", "ssm:*"], "Resource": "*"})
        message = fails_on(run("AEGIS_FLEET_AGENT_REACH", fleet_app(*AGENT_STATEMENTS, boundary=boundary)),
                           "aws_launch_template.lt")
        assert "ssmmessages:CreateControlChannel" in message and "ssm:UpdateInstanceInformation" not in message

    def test_no_nat_and_a_missing_endpoint_fails(self):
        message = fails_on(run("AEGIS_FLEET_AGENT_REACH", fleet_app(*AGENT_STATEMENTS, endpoints=("ssm",))),
                           "aws_launch_template.lt")
        assert "no ssmmessages, ec2messages interface endpoint" in message

    def test_no_https_egress_fails(self):
        message = fails_on(run("AEGIS_FLEET_AGENT_REACH", fleet_app(*AGENT_STATEMENTS, egress=False)),
                           "aws_launch_template.lt")
        assert "allows HTTPS egress" in message

    def test_manual_guardduty_agent_needs_its_data_endpoint(self):
        message = fails_on(run("AEGIS_FLEET_AGENT_REACH", fleet_app(*AGENT_STATEMENTS, automated=False)),
                           "aws_launch_template.lt")
        assert "guardduty-data" in message

    def test_nothing_watching_the_instances_is_not_judged(self):
        assert run("AEGIS_FLEET_AGENT_REACH", fleet_app(MODEL_ONLY, inspector=False, runtime=False)) == []

    def test_fires_on_the_staging_fleet_synthesized_before_the_fix(self):
        message = fails_on(run("AEGIS_FLEET_AGENT_REACH", broken("fleet_agent_unreachable")),
                           "aws_launch_template.model-vision-detector_launch-template_DFAAB8EF", "staging-platform")
        assert "may not ssm:UpdateInstanceInformation" in message
        assert "no ssm, ssmmessages, ec2messages interface endpoint" in message


def test_s3_endpoint_check_fires_on_the_nat_vpc_synthesized_before_the_fix():
    """With a NAT gateway the generator left the agents' buckets out of the endpoint policy, yet the endpoint's
    prefix-list route wins over the NAT's default route: the agents' downloads were refused."""
    results = run("AEGIS_S3_ENDPOINT_WORKLOADS", broken("s3_endpoint_nat_without_agent_buckets"))
    message = fails_on(results, "aws_vpc_endpoint.endpoints_s3_6279BB42", "dev-platform")
    assert "amazon-ssm-eu-west-1/*" in message and "guardduty-agent-deb-artifacts/*" in message
