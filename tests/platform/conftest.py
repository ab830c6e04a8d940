"""Fixtures of the platform pillar tests: a view of one environment's `<env>-platform` stack that
resolves references, groups resources by model and reads policy documents."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from modules.config import EnvConfig, load_env
from modules.naming import Naming

REF = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")
ROOT = Path(__file__).resolve().parents[2]


def ref_parts(value: str) -> tuple[str, str, str]:
    """(type, logical id, attribute) of a `${type.logical.attr}` reference; fails on anything else."""
    match = REF.match(value)
    assert match, f"expected a plain reference, got {value!r}"
    return match.groups()


def ref(rtype: str, logical: str, attr: str) -> str:
    return "${" + f"{rtype}.{logical}.{attr}" + "}"


class PlatformView:
    def __init__(self, synthesized, env: str):
        self.synthesized = synthesized
        self.env = env
        self.stack_name = f"{env}-platform"
        self.stack = synthesized.stack(self.stack_name)
        self.config: EnvConfig = load_env(env)
        self.naming = Naming.of(self.config)

    # --- raw access --------------------------------------------------------------------------
    def res(self, rtype: str) -> dict[str, dict]:
        return self.stack.get("resource", {}).get(rtype, {})

    def data(self, dtype: str) -> dict[str, dict]:
        return self.stack.get("data", {}).get(dtype, {})

    def one(self, rtype: str, **where) -> tuple[str, dict]:
        hits = [(k, v) for k, v in self.res(rtype).items() if all(v.get(a) == b for a, b in where.items())]
        assert len(hits) == 1, f"expected one {rtype} with {where}, found {len(hits)}"
        return hits[0]

    def get(self, reference: str) -> dict:
        """The resource (or data source) a `${…}` reference points at."""
        rtype, logical, _ = ref_parts(reference)
        if rtype == "data":
            raise AssertionError("use data_ref for data sources")
        return self.res(rtype)[logical]

    @staticmethod
    def path(conf: dict) -> str:
        return conf["//"]["metadata"]["path"]

    def of_model(self, rtype: str, model: str) -> dict[str, dict]:
        """Resources of one type built by the construct of one model."""
        marker = f"/model-{model}/"
        return {k: v for k, v in self.res(rtype).items() if marker in self.path(v)}

    def one_of_model(self, rtype: str, model: str) -> tuple[str, dict]:
        hits = list(self.of_model(rtype, model).items())
        assert len(hits) == 1, f"expected one {rtype} for model {model}, found {len(hits)}"
        return hits[0]

    def models(self, serving: str | None = None):
        return [m for m in self.config.platform.models if serving is None or m.serving == serving]

    # --- keys ------------------------------------------------------------------------------------
    def key_ref(self, key_class: str) -> str:
        """The lookup reference of a data-stack key in this stack (construct id `kms-<class>`)."""
        lookup = self.data("aws_kms_key")[f"kms-{key_class}"]
        assert lookup["key_id"] == self.naming.kms_alias_arn(key_class)
        return "${data.aws_kms_key.kms-" + key_class + ".arn}"

    # --- network -------------------------------------------------------------------------------
    def private_subnets(self) -> dict[str, dict]:
        return {k: v for k, v in self.res("aws_subnet").items() if v["tags"]["Tier"] == "private"}

    def public_subnets(self) -> dict[str, dict]:
        return {k: v for k, v in self.res("aws_subnet").items() if v["tags"]["Tier"] == "public"}

    def private_subnet_refs(self) -> list[str]:
        return sorted(ref("aws_subnet", k, "id") for k in self.private_subnets())

    def vpc_ref(self) -> str:
        (logical,) = self.res("aws_vpc")
        return ref("aws_vpc", logical, "id")

    def rules_of(self, sg_logical: str, direction: str) -> list[dict]:
        kind = f"aws_vpc_security_group_{direction}_rule"
        target = ref("aws_security_group", sg_logical, "id")
        return [r for r in self.res(kind).values() if r["security_group_id"] == target]

    # --- IAM -----------------------------------------------------------------------------------
    def role_policy(self, role_logical: str) -> dict:
        target = ref("aws_iam_role", role_logical, "id")
        (policy,) = [p for p in self.res("aws_iam_role_policy").values() if p["role"] == target]
        return json.loads(policy["policy"])


@pytest.fixture
def view(synthesized, env) -> PlatformView:
    return PlatformView(synthesized, env)


@pytest.fixture
def prod(synthesized) -> PlatformView:
    return PlatformView(synthesized, "prod")


def statements(doc: dict) -> list[dict]:
    s = doc["Statement"]
    return s if isinstance(s, list) else [s]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="session")
def opted_in_storage(tmp_path_factory, synthesized) -> PlatformView:
    """dev's platform stack with the table and the model cache opted in and no GPU fleet (synthesized once)."""
    config = load_env("dev")
    platform = config.platform
    storage = platform.storage.model_copy(update={"predictions_table": True, "model_cache": True})
    config = config.model_copy(update={"platform": platform.model_copy(update={
        "storage": storage, "models": [m for m in platform.models if m.serving != "ec2"]})})
    return synthesize_platform(config, tmp_path_factory.mktemp("platform-storage") / "out")


def synthesize_platform(config, out) -> PlatformView:
    """The platform stack of a changed environment config alone, synthesized into `out` (for the settings
    the shipped environments do not use; call it from a session or module fixture: a synth costs seconds)."""
    import contextlib
    import io

    from cdktf import App

    from modules.platform.stack import PlatformStack
    from tests.synthesized import Synthesized

    with contextlib.redirect_stderr(io.StringIO()):
        app = App(outdir=str(out), stack_traces=False)
        PlatformStack(app, config)
        app.synth()
    view = PlatformView(Synthesized(out), config.name)
    view.config = config
    return view


def blocked_ip_sets(view, acl: dict) -> dict[str, str]:
    """The web ACL's first rule blocks the source IPs of its own IP sets, one per IP version, named
    `<web ACL>-<version>-blocked`, created empty and left to the platform-admin (Terraform ignores their
    addresses); returns version → scope."""
    first = min(acl["rule"], key=lambda r: r["priority"])
    assert first["priority"] == 0 and first["action"] == {"block": {}}
    assert first["visibility_config"]["cloudwatch_metrics_enabled"] is True
    assert first["visibility_config"]["sampled_requests_enabled"] is True
    out = {}
    for statement in first["statement"]["or_statement"]["statement"]:
        reference = statement["ip_set_reference_statement"]
        assert set(reference) == {"arn"}  # the source IP, not a forwarded header
        ip_set = view.res("aws_wafv2_ip_set")[ref_parts(reference["arn"])[1]]
        version = ip_set["ip_address_version"]
        assert ip_set["name"] == f"{acl['name']}-{version.lower()}-blocked"
        assert ip_set["addresses"] == [] and ip_set["lifecycle"] == {"ignore_changes": ["addresses"]}
        assert ip_set.get("region") == acl.get("region")
        out[version] = ip_set["scope"]
    return out

