"""The gate on the default app and on small folders: findings, severities, thresholds, verdict."""
from __future__ import annotations

import datetime as dt
import re

from modules.config import load_all
from modules.suppress import METADATA_KEY
from modules.synth_output import split_stack
from policies.catalog import load_catalog
from policies.gate import EXIT_FAIL, EXIT_PASS, run_gate
from tests.policies.gate.conftest import bucket, stack_doc, write_out


def test_default_app_is_judged_whole(app_gate, synthesized):
    assert app_gate.errors == []
    assert sorted(app_gate.stacks) == synthesized.stack_names
    assert app_gate.thresholds == {"dev": "high", "prod": "low", "staging": "medium"}
    assert {f.env for f in app_gate.findings} == {"dev", "prod", "staging"}
    sources = {f.source for f in app_gate.findings}
    assert sources == {"checkov", "app"}, "custom and app-level checks must run in the gate"
    assert any(f.check_id.startswith("CKV_AEGIS_") for f in app_gate.findings)


def test_findings_carry_catalog_metadata_and_construct_paths(app_gate):
    catalog = load_catalog()
    for f in app_gate.findings:
        rule = catalog.get(f.check_id)
        assert rule is not None
        assert (f.severity, f.title, f.check_pillar) == (rule.severity, rule.title, rule.pillar)
        # the catalog's remediation, plus the config key to change when the configuration decides the value
        assert f.remediation == rule.remediation or (
            f.config_key and f.remediation.startswith(rule.remediation + " ") and f"`{f.config_key}`" in f.remediation)
        assert f.controls == {k: list(v) for k, v in rule.controls.items()}
        assert f.stack.startswith(f.env + "-") and split_stack(f.stack) == (f.env, f.pillar)
        if f.address.startswith("aws_"):
            assert f.construct_path.startswith(f.stack + "/"), f
        assert f.status in ("passed", "failed", "suppressed")


def test_verdict_follows_the_thresholds(app_gate):
    blocking = [f for f in app_gate.findings if f.blocking]
    order = ["low", "medium", "high", "critical"]
    for f in app_gate.findings:
        expected = f.status == "failed" and order.index(f.severity) >= order.index(app_gate.thresholds[f.env])
        assert f.blocking == expected
    assert app_gate.exit_code == (EXIT_FAIL if blocking else EXIT_PASS) or app_gate.errors
    assert app_gate.failed_ids() == {f.check_id for f in app_gate.findings if f.status == "failed"}


def test_every_suppression_of_the_app_is_used_and_reasoned(app_gate):
    for s in app_gate.suppressions:
        assert s.problem == "", f"{s.check_id} at {s.where}: {s.problem}"
        assert len(s.reason) >= 20 and s.expires
    suppressed = [f for f in app_gate.findings if f.status == "suppressed"]
    assert all(f.suppression is not None and not f.blocking for f in suppressed)


def test_every_inline_suppression_of_the_default_app_suppresses_a_real_failure(app_gate, synthesized):
    """Walks the synthesized JSON itself, not the gate's list: each `//.aegis_suppressions` entry must have
    turned a failing result of its check on its resource into a suppressed one (the gate's "unused" error
    covers the same ground; this catches the gate and the JSON disagreeing)."""
    assert app_gate.errors == []
    suppressed = {(f.resource_key, f.check_id): f for f in app_gate.findings if f.status == "suppressed"}
    walked = 0
    for stack in synthesized.stack_names:
        for rtype, name, conf in synthesized.all_resources(stack):
            for entry in (conf.get("//") or {}).get(METADATA_KEY, []):
                finding = suppressed.get((f"{stack}/{rtype}.{name}", entry["id"]))
                assert finding is not None, f"{entry['id']} on {stack}/{rtype}.{name} suppresses no failure"
                assert (finding.suppression.origin, finding.suppression.reason) == ("inline", entry["reason"])
                walked += 1
    assert walked == sum(len(s.matched) for s in app_gate.suppressions if s.origin == "inline") > 0


def test_no_prod_resource_carries_a_suppression_about_another_tier(synthesized):
    tiers = {c.name: c.tier for c in load_all()}
    other_tiers = re.compile(r"\b(dev|development|non-?prod|staging|test(ing)?)\b", re.IGNORECASE)
    for stack in synthesized.stack_names:
        if tiers[split_stack(stack)[0]] != "prod":
            continue
        for rtype, name, conf in synthesized.all_resources(stack):
            for entry in (conf.get("//") or {}).get(METADATA_KEY, []):
                assert not other_tiers.search(entry["reason"]), f"{stack}/{rtype}.{name}: {entry['reason']}"


def test_uncatalogued_failure_counts_high(tmp_path, no_exceptions):
    """A failing check missing from the catalog is judged HIGH and reported as uncatalogued."""
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("builtin: {}\ncustom: {}\n")
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}})})
    result = run_gate(out, catalog_file=catalog, exceptions_file=no_exceptions, checks_dir=None, app_checks=False)
    failed = [f for f in result.findings if f.status == "failed"]
    assert failed and all(f.severity == "high" and not f.catalogued for f in failed)
    assert result.exit_code == EXIT_FAIL  # dev fails on high


def test_below_threshold_failures_do_not_block(tmp_path, no_exceptions):
    """dev fails on high: a bucket without versioning (medium) alone is reported, not blocking."""
    catalog = load_catalog()
    assert catalog.get("CKV_AWS_21").severity == "medium"
    base = tmp_path / "catalog.yaml"
    base.write_text("builtin:\n" + _entry("CKV_AWS_21", "medium") + "custom: {}\n")
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": bucket("b1")}})})
    result = run_gate(out, catalog_file=base, exceptions_file=no_exceptions, checks_dir=None, app_checks=False)
    versioning = [f for f in result.findings if f.check_id == "CKV_AWS_21"]
    assert versioning and versioning[0].status == "failed" and not versioning[0].blocking


def _entry(check_id: str, severity: str) -> str:
    return (f"  {check_id}:\n    title: A check used by the threshold test\n    severity: {severity}\n"
            "    pillar: data\n    remediation: Fix the thing the check is about.\n"
            '    controls: {hipaa: ["164.312(b)"], nist-800-53: [AU-2], gdpr: [Art. 32(1)(d)], cis: ["3.4"], '
            "iso27001: [A.8.15], pci-dss: [\"10.2.1\"]}\n")


def test_env_selection_judges_only_that_env(synthesized, no_exceptions):
    result = run_gate(synthesized.out, ["dev"], exceptions_file=no_exceptions)
    assert {f.env for f in result.findings} == {"dev"}
    assert all(name.startswith("dev-") for name in result.stacks)
    assert result.thresholds == {"dev": "high"}


def test_inline_suppression_suppresses_only_its_resource(tmp_path, no_exceptions):
    b1 = bucket("b1")
    b1["//"]["aegis_suppressions"] = [{"id": "CKV_AWS_18", "reason": "Fixture: this bucket is the log target itself",
                                        "expires": "2030-06-30"}]
    out = write_out(tmp_path, {"dev-data": stack_doc({"aws_s3_bucket": {"b1": b1, "b2": bucket("b2")}})})
    result = run_gate(out, exceptions_file=no_exceptions, checks_dir=None, app_checks=False,
                      today=dt.date(2030, 1, 1))
    logging = {f.address: f for f in result.findings if f.check_id == "CKV_AWS_18"}
    assert logging["aws_s3_bucket.b1"].status == "suppressed"
    assert logging["aws_s3_bucket.b1"].suppression.reason.startswith("Fixture")
    assert logging["aws_s3_bucket.b2"].status == "failed"
    assert [s.problem for s in result.suppressions] == [""]


def test_default_app_passes_its_thresholds(app_gate):
    """The shipped environments are the reference: zero unsuppressed failures at or above each
    environment's threshold, no gate error, every suppression reasoned (see above)."""
    assert app_gate.errors == []
    assert [f"{f.check_id} {f.stack}/{f.address}" for f in app_gate.findings if f.blocking] == []
    assert app_gate.exit_code == EXIT_PASS
