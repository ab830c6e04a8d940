"""The architecture diagram: what it reads from the synthesized stacks (pillars, network, each model's
serving path, data flows) and how it draws it (well-formed, deterministic, self-contained SVG), and the
README's picture of prod being the diagram of the current code."""
from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET

import pytest

from modules.config import load_all
from modules.naming import BUCKETS
from policies.report import diagram
from policies.report.diagram import serving
from policies.report_cli import ARCHITECTURE_ENV, architecture_file
from tests.policies.report.platform_stub import platform_stack

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def stub_stacks(stacks) -> dict[str, dict]:
    """The synthesized prod stacks with the hand-written platform stack in place of the real one."""
    out = {k: v for k, v in stacks.items() if k.startswith("prod-")}
    out["prod-platform"] = platform_stack()
    return out


def test_extracts_each_model_with_its_serving_path_from_the_stub(stub_stacks):
    arch = diagram.extract("prod", stub_stacks)
    models = {m.name: m for m in arch.models}
    assert {n: m.kind for n, m in models.items()} == {
        "batch": "lambda", "embed": "sagemaker-serverless", "llm": "sagemaker", "vision": "ec2"}
    assert [s.title for s in models["llm"].stages] == ["SageMaker runtime", "Real-time endpoint", "Autoscaling"]
    assert models["llm"].stages[1].detail == "ml.g5.2xlarge × 2" and models["llm"].stages[2].detail == "2–6 instances"
    assert [s.title for s in models["vision"].stages] == ["WAF", "ALB", "GPU fleet (ASG)"]
    assert models["vision"].stages[1].detail == "internal TLS 1.3"
    assert [s.title for s in models["batch"].stages] == ["S3 event", "Lambda:live", "Provisioned conc."]
    assert models["batch"].stages[0].detail == "inference/batch/batch/input/"
    assert "capture 20%" in models["llm"].lifecycle and "in VPC, network isolated" in models["llm"].notes


def test_data_flows_come_from_roles_capture_and_notifications(stub_stacks):
    arch = diagram.extract("prod", stub_stacks)
    flows = {(f.source, f.target, f.label) for f in arch.flows}
    for model in ("batch", "embed", "llm", "vision"):
        assert ("bucket:model-artifacts", f"model:{model}", "reads") in flows, model
    assert ("model:llm", "bucket:inference", "writes") in flows  # IAM statement and data capture
    assert ("model:batch", "bucket:inference", "writes") in flows
    assert ("bucket:inference", "model:batch", "S3 event") in flows
    assert ("bucket:inference", "model:batch", "reads") not in flows  # the trigger, not a second arrow
    assert not any(f[1] == "model:embed" and f[0] == "bucket:inference" for f in flows)
    assert ("svc:trail", "bucket:audit", "trail logs") in flows
    assert ("svc:config", "bucket:audit", "config history") in flows
    assert ("svc:cloudwatch", "svc:alerts", "alarm actions") in flows
    logged = {f.source for f in arch.flows if f.label == "access logs"}
    assert logged == {f"bucket:{p}" for p in BUCKETS if p != "access-logs"}


def test_a_resource_two_models_share_belongs_to_neither(stub_stacks):
    stacks = copy.deepcopy(stub_stacks)
    # one security group referenced by two models' SageMaker models
    stacks["prod-platform"]["resource"]["aws_sagemaker_model"]["embed-model"]["vpc_config"] = {
        "subnets": ["${aws_subnet.private-0.id}"], "security_group_ids": ["${aws_security_group.endpoints-sg.id}"]}
    owned = serving._ownership(stacks["prod-platform"], ["llm", "embed"], "aegis-prod-")
    for model in ("llm", "embed"):
        assert ("aws_security_group", "endpoints-sg") not in {(t, i) for t, i, _ in owned[model]}
    assert ("aws_iam_role_policy", "llm-policy") in {(t, i) for t, i, _ in owned["llm"]}


def test_the_real_app_draws_every_configured_model_and_bucket(stacks):
    for config in load_all():
        arch = diagram.extract(config.name, stacks)
        assert {m.name: m.kind for m in arch.models} == {m.name: m.serving for m in config.platform.models}
        assert set(arch.buckets) == set(BUCKETS)
        assert arch.region == config.region and arch.account == config.account_id
        for model in arch.models:
            assert "model-artifacts" in model.reads, model.name  # every model loads its artifacts
            assert model.stages, model.name
        if config.platform.models:
            network = config.platform.network
            assert arch.network and arch.network.cidr == network.vpc_cidr
            assert arch.network.azs == network.az_count
            assert arch.network.public_subnets == (network.az_count if network.egress else 0)
            assert arch.network.internet_gateway == network.egress
        assert {"trail", "cloudwatch", "alerts"} <= {s.key for s in arch.access}
        assert {"config", "securityhub", "backup"} <= {s.key for s in arch.governance}


def test_svg_is_well_formed_deterministic_and_self_contained(stacks):
    for env in diagram.environments(stacks):
        text = diagram.environment_svg(env, stacks)
        assert text == diagram.environment_svg(env, stacks)
        root = ET.fromstring(text.split("\n", 1)[1])
        assert root.tag == f"{SVG}svg" and root.get("data-env") == env
        ids = [el.get("id") for el in root.iter() if el.get("id")]
        assert len(ids) == len(set(ids)) and all(i.startswith(f"aegis-{env}") for i in ids)
        assert not re.search(r"(href|src)\s*=|<image|@import|url\((?!#)", text)
        labels = " ".join(el.text or "" for el in root.iter(f"{SVG}text"))
        for pillar in ("Secure data handling", "Scalable infrastructure", "Access control & monitoring",
                       "Continuous security enhancement"):
            assert pillar in labels, (env, pillar)
        for model in diagram.extract(env, stacks).models:
            assert model.name in labels
    inline = diagram.environment_svg("prod", stacks, standalone=False)
    assert inline.startswith("<svg ")


def test_missing_stacks_are_said_not_drawn():
    text = diagram.environment_svg("solo", {"solo-data": {"resource": {}}})
    assert "No VPC in this environment" in text and "no access stack in this output" in text
    ET.fromstring(text.split("\n", 1)[1])


def test_readme_architecture_picture_is_up_to_date_with_the_shipped_prod(stacks):
    """The picture is drawn from the shipped environments/prod.yaml; the session synthesized the tests' copy of
    it, so the picture is compared only while the two configurations are equal (it would need a second synth)."""
    from modules.config import load_env
    from modules.synth_record import config_digest
    from tests.conftest import FIXTURE_ENVIRONMENTS, SHIPPED_ENVIRONMENTS

    shipped = load_env(ARCHITECTURE_ENV, SHIPPED_ENVIRONMENTS)
    if config_digest(shipped) != config_digest(load_env(ARCHITECTURE_ENV, FIXTURE_ENVIRONMENTS)):
        pytest.skip(f"environments/{ARCHITECTURE_ENV}.yaml differs from the tests' copy: regenerate the picture "
                    "with `python main.py report --write-architecture`")
    path = architecture_file(ARCHITECTURE_ENV)
    assert path.exists(), "docs/architecture-prod.svg is missing: run `python main.py report --write-architecture`"
    assert path.read_text(encoding="utf-8") == diagram.environment_svg(ARCHITECTURE_ENV, stacks), (
        "docs/architecture-prod.svg is older than the code: run `python main.py report --write-architecture` "
        "and commit it")


@pytest.mark.parametrize(("value", "owner"), [
    ("aegis-prod-llm", "llm"),                                       # the whole string
    ("arn:aws:sagemaker:eu-west-1:1:endpoint/aegis-prod-llm", "llm"),  # after '/'
    ("arn:aws:logs:eu-west-1:1:aegis-prod-llm:*", "llm"),            # after ':', before ':'
    ("aegis-prod-llm-2.weights", "llm-2"),                           # the longest name wins
    (["aegis-prod-llm-gpu", {"x": "aegis-prod-llm-2"}], "llm-2"),    # across every string of a value
    ("aegis-prod-llm.tar.gz", "llm"),                                # before '.'
    ("aegis-prod-llmx", None),                                       # not a model: no boundary after
    ("xaegis-prod-llm", None),                                       # not a model: no boundary before
    ("aegis-prod-", None),
    ({"//": "aegis-prod-llm", "name": "other"}, None),               # cdktf metadata does not count
])
def test_model_namer_finds_the_model_a_value_names(value, owner):
    namer = serving._ModelNamer(["llm", "llm-2", "embed"], "aegis-prod-")
    assert namer.owner(value) == owner


def test_model_namer_sees_every_model_a_string_names():
    namer = serving._ModelNamer(["a", "a-b", "c"], "p-")
    assert namer.named("p-a-b/p-c") == {"a", "a-b", "c"}
    assert namer.owner("p-a-b/p-c") == "a-b"


def test_the_training_lane_shows_studio_jobs_pipelines_registry_with_approval_alerts_and_store(stacks):
    arch = diagram.extract("prod", stacks)
    titles = [s.title for s in arch.training]
    assert titles == ["Studio domain", "Training jobs", "Model pipelines", "Model registry", "Aurora data store"]
    assert arch.training[2].detail == "2 · train, evaluate, baseline, register pending"  # the SageMaker models
    assert arch.training[3].detail == "4 groups · approver approves · approvals → alerts + DLQ"
    assert arch.training[0].detail.startswith("VpcOnly · KMS · 2 profiles · idle 60 min")
    assert arch.training[1].detail == "Spot + checkpoints · isolated · VPC"
    flows = {(f.source, f.target, f.label) for f in arch.flows if "_training" in f.source + f.target}
    assert flows == {("bucket:datasets", "model:_training", "reads"), ("model:_training", "bucket:model-artifacts", "writes")}
    dev = diagram.extract("dev", stacks)
    assert [s.title for s in dev.training] == ["Studio domain", "Training jobs", "Model pipelines",
                                               "Model registry"]  # no store in dev
    assert "Studio domain" in diagram.environment_svg("prod", stacks)


def test_a_model_with_a_pipeline_says_where_its_versions_come_from(stacks):
    notes = {m.name: m.notes for m in diagram.extract("prod", stacks).models}
    with_pipeline = {name for name, n in notes.items() if "pipeline → registry (pending)" in n}
    assert with_pipeline == {"fraud-scorer", "churn-predictor"}  # SageMaker models: the others deploy no package


def test_each_model_lane_shows_how_a_release_reaches_traffic(stacks, stub_stacks):
    models = {m.name: m for m in diagram.extract("prod", stacks).models}
    (realtime,) = [m for m in models.values() if m.kind == "sagemaker"]
    assert realtime.lifecycle[0] == "canary, 3 rollback alarms"
    (serverless,) = [m for m in models.values() if m.kind == "sagemaker-serverless"]
    # No guardrails and no data capture for serverless endpoints: the lane says so instead of staying silent.
    assert serverless.lifecycle == ["all at once; serverless: no guardrails, capture or monitor"]
    (fleet,) = [m for m in models.values() if m.kind == "ec2"]
    assert fleet.lifecycle[0] == "refresh 20/50/100 %, rollback on 3 alarms"
    releasing = copy.deepcopy(stub_stacks)
    alias = releasing["prod-platform"]["resource"]["aws_lambda_alias"]["batch-alias"]
    alias.update(function_version="7", routing_config={"additional_version_weights": {"${x.version}": 0.1}})
    batch = {m.name: m for m in diagram.extract("prod", releasing).models}["batch"]
    assert batch.lifecycle[0] == "canary 10% beside v7"
    assert {m.name: m for m in diagram.extract("prod", stub_stacks).models}["batch"].lifecycle[0] == \
        "alias live takes a new version at once"


def test_each_capturing_lane_shows_what_monitors_its_data(stacks):
    prod = {m.name: m for m in diagram.extract("prod", stacks).models}
    (realtime,) = [m for m in prod.values() if m.kind == "sagemaker"]
    assert realtime.lifecycle[1:] == ["capture 10%", "monitor hourly vs baseline + drift alarm"]
    assert realtime.drift_alarm
    (dev,) = [m for m in diagram.extract("dev", stacks).models if m.kind == "sagemaker"]
    assert dev.lifecycle[1:] == ["capture 100%", "monitor daily profile only"] and not dev.drift_alarm
    for model in prod.values():
        if model.kind in ("lambda", "ec2"):
            assert model.lifecycle[-1] == "no Model Monitor (not a SageMaker endpoint)"
    unmonitored = copy.deepcopy({k: v for k, v in stacks.items() if k.startswith("prod-")})
    unmonitored["prod-platform"]["resource"].pop("aws_sagemaker_monitoring_schedule")
    (bare,) = [m for m in diagram.extract("prod", unmonitored).models if m.kind == "sagemaker"]
    assert bare.lifecycle[-1] == "not monitored"
    svg = diagram.environment_svg("prod", stacks)
    assert "capture 10% → monitor hourly vs baseline + drift alarm" in svg
