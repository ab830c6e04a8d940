"""The effective-access checks in the gate, on the synthesized prod app: the three escalations of the
issue each fail it (exit 1) with the path in the findings and in every report, a statement the
evaluator cannot judge stops it (exit 2), and the default app passes with its matrix declared.

Each escalation is applied to its own copy of the synth output and judged at prod's threshold; the
runs share one gate cache, so checkov scans only the one stack each escalation changed.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from policies.gate import EXIT_ERROR, EXIT_FAIL, EXIT_PASS, run_gate
from policies.report import write_reports
from tests.synthesized import record_stacks_as_synthesized

ACCOUNT = "777788889999"
DS = f"arn:aws:iam::{ACCOUNT}:role/aegis-prod-data-scientist"
CHECKS = ("AEGIS_ACCESS_WITHIN_INTENT", "AEGIS_ACCESS_MUST_HAVE", "AEGIS_ACCESS_DECLARED")


def _stack(out: Path, name: str) -> dict:
    return json.loads((out / "stacks" / name / "cdk.tf.json").read_text())


def _save(out: Path, name: str, doc: dict) -> None:
    (out / "stacks" / name / "cdk.tf.json").write_text(json.dumps(doc, indent=2))


def _edit_policy(out: Path, stack: str, rtype: str, name: str, key: str, change) -> None:
    doc = _stack(out, stack)
    found = [c for c in doc["resource"][rtype].values() if c.get("name") == name]
    assert len(found) == 1, f"{rtype} {name} not in {stack}"
    policy = json.loads(found[0][key])
    change(policy["Statement"])
    found[0][key] = json.dumps(policy)
    _save(out, stack, doc)


def pass_the_fraud_scorer_role(out: Path) -> None:
    """The data scientist may pass one model execution role, to SageMaker only."""
    _edit_policy(out, "prod-access", "aws_iam_role_policy", "data-scientist", "policy", lambda s: s.append({
        "Sid": "PassFraudScorer", "Effect": "Allow", "Action": "iam:PassRole",
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/aegis-prod-fraud-scorer-exec",
        "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}}))


def name_the_data_scientist_in_the_inference_key(out: Path, keep_persona_deny: bool = False) -> None:
    """The inference key policy names the data scientist for kms:Decrypt (and lets it past the key's own
    deny); its persona policy no longer denies the inference key either. Each edit alone grants nothing."""
    doc = _stack(out, "prod-data")
    key = next(c for n, c in doc["resource"]["aws_kms_key"].items() if n.startswith("kms-inference_key"))
    policy = json.loads(key["policy"])
    policy["Statement"].append({"Sid": "DataScientistDecrypt", "Effect": "Allow", "Principal": {"AWS": DS},
                                "Action": "kms:Decrypt", "Resource": "*"})
    for stmt in policy["Statement"]:
        if stmt.get("Sid") == "DenyUseByOtherPrincipals":
            stmt["Condition"]["ArnNotLike"]["aws:PrincipalArn"].append(DS)
    key["policy"] = json.dumps(policy)
    _save(out, "prod-data", doc)
    if not keep_persona_deny:
        _edit_policy(out, "prod-access", "aws_iam_role_policy", "data-scientist", "policy",
                     lambda s: s.remove(next(x for x in s if x.get("Sid") == "DenyInferenceAndAuditKeys")))


def trust_the_data_scientist(out: Path) -> None:
    """The fraud scorer's execution role trusts the data scientist's role besides SageMaker."""
    _edit_policy(out, "prod-platform", "aws_iam_role", "aegis-prod-fraud-scorer-exec", "assume_role_policy",
                 lambda s: s.append({"Sid": "DataScientist", "Effect": "Allow", "Principal": {"AWS": DS},
                                     "Action": "sts:AssumeRole"}))


def an_unmodelled_condition(out: Path) -> None:
    """A grant the evaluator cannot judge: a condition on the caller's IP address."""
    _edit_policy(out, "prod-access", "aws_iam_role_policy", "data-scientist", "policy", lambda s: s.append({
        "Sid": "FromTheOffice", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}))


@pytest.fixture(scope="module")
def gate_of(synthesized, no_exceptions, tmp_path_factory):
    """Judge prod of a mutated copy of the synth output; one gate cache for the module."""
    root = tmp_path_factory.mktemp("access-gate")
    runs: dict[str, tuple] = {}

    def judge(name: str, *mutations):
        if name not in runs:
            out = root / name / "cdktf.out"
            shutil.copytree(synthesized.out, out)
            for mutate in mutations:
                mutate(out)
            record_stacks_as_synthesized(out)
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("AEGIS_CACHE_DIR", str(root / "cache"))
                result = run_gate(out, ["prod"], exceptions_file=no_exceptions, cache=True)
            runs[name] = (result, root / name / "reports")
            if result.exit_code in (EXIT_PASS, EXIT_FAIL):
                write_reports(result, root / name / "reports", ["json", "markdown", "html"])
        return runs[name]
    return judge


def _access_failures(result) -> list:
    return [f for f in result.failures() if f.check_id in CHECKS]


def test_the_default_prod_app_passes_with_its_matrix_declared(gate_of):
    result, reports = gate_of("default")
    assert result.exit_code == EXIT_PASS, [f.message for f in result.failures()]
    judged = [f for f in result.findings if f.check_id in CHECKS]
    assert {f.check_id for f in judged} == set(CHECKS) and not _access_failures(result)
    matrix = json.loads((reports / "aegis-gate.json").read_text())["access_matrix"]["prod"]
    assert matrix["counts"] == {"violation": 0, "missing": 0, "undeclared": 0, "cannot-judge": 0}
    rows = {row["role"]: row for row in matrix["principals"]}
    ds = rows["aegis-prod-data-scientist"]["cells"]
    assert ds["read:datasets"] == {"effective": True, "intended": "must", "verdict": "ok",
                                   "path": ds["read:datasets"]["path"]}
    assert ds["use-key:inference"] == {"effective": False, "intended": "must-not", "verdict": "ok"}
    # In prod the ML engineer publishes and registers but deploys nothing: the deployer alone does.
    ml = rows["aegis-prod-ml-engineer"]["cells"]
    assert {c: (ml[c]["effective"], ml[c]["intended"]) for c in ("deploy", "pass-role:model-exec", "write:model-artifacts")} \
        == {"deploy": (False, "must-not"), "pass-role:model-exec": (False, "must-not"),
            "write:model-artifacts": (True, "must")}


@pytest.mark.parametrize("name, mutations, capability, path", [
    ("passrole", (pass_the_fraud_scorer_role,), "use-key:inference",
     "data-scientist → iam:PassRole → aegis-prod-fraud-scorer-exec (via sagemaker.amazonaws.com) → "
     "kms:Decrypt on the inference key"),
    ("key-policy", (name_the_data_scientist_in_the_inference_key,), "use-key:inference",
     "data-scientist → kms:Decrypt on the inference key"),
    ("trust", (trust_the_data_scientist,), "use-key:inference",
     "data-scientist → sts:AssumeRole → aegis-prod-fraud-scorer-exec → kms:Decrypt on the inference key"),
])
def test_each_escalation_fails_the_prod_gate_with_its_path(gate_of, name, mutations, capability, path):
    result, reports = gate_of(name, *mutations)
    assert result.exit_code == EXIT_FAIL
    failed = [f for f in _access_failures(result) if f.check_id == "AEGIS_ACCESS_WITHIN_INTENT"]
    assert [(f.stack, f.severity, f.blocking) for f in failed] == [("prod-access", "critical", True)]
    assert failed[0].address.startswith("aws_iam_role.personas_data-scientist")
    assert f"{capability}: {path}" in failed[0].message
    cell = next(r for r in json.loads((reports / "aegis-gate.json").read_text())["access_matrix"]["prod"]["principals"]
                if r["role"] == "aegis-prod-data-scientist")["cells"][capability]
    assert cell["verdict"] == "violation" and cell["intended"] == "must-not" and cell["path"].startswith(path)
    assert path in (reports / "aegis-gate.md").read_text()
    html = (reports / "aegis-gate.html").read_text()
    assert 'class="acc violation"' in html and path in html


def test_half_of_the_key_policy_escalation_grants_nothing(gate_of):
    """The key names the data scientist, but its persona policy still denies the inference key."""
    result, _ = gate_of("key-policy-only", lambda out: name_the_data_scientist_in_the_inference_key(out, True))
    assert not [f for f in _access_failures(result) if f.check_id == "AEGIS_ACCESS_WITHIN_INTENT"]


def test_a_statement_the_evaluator_cannot_judge_stops_the_gate(gate_of):
    result, _ = gate_of("cannot-judge", an_unmodelled_condition)
    assert result.exit_code == EXIT_ERROR
    text = " ".join(result.errors)
    assert "cannot judge" in text and "IpAddress" in text
    assert "prod-access/aws_iam_role_policy.personas_data-scientist" in text
