"""`gate --path`: checkov skip comments obey the suppression policy (a reason, an expiry within the
policy's lifetime, no CRITICAL check) and `//` suppression metadata of a hand-written file is refused.
One checkov run over a folder holding every case."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from policies.gate import EXIT_ERROR, run_path_gate

TODAY = dt.date(2026, 12, 1)
WHY = "Access-log target of the landing zone; logging it into itself would loop"


def bucket(name: str, skip: str) -> str:
    return f'resource "aws_s3_bucket" "{name}" {{\n  #checkov:skip={skip}\n  bucket = "{name}"\n}}\n'


HCL = (bucket("no_reason", "CKV_AWS_18")
       + bucket("no_expiry", f"CKV_AWS_18:{WHY}")
       + bucket("forever", f"CKV_AWS_18:{WHY}, expires 2999-12-31")
       + bucket("reviewed", f"CKV_AWS_18:{WHY}, expires 2027-03-31")
       + 'resource "aws_security_group" "open" {\n'
         '  #checkov:skip=CKV_AWS_24:Break-glass bastion, closed by an SCP outside incidents, expires 2027-03-31\n'
         '  name        = "open"\n  description = "fixture"\n'
         '  ingress {\n    from_port   = 22\n    to_port     = 22\n    protocol    = "tcp"\n'
         '    cidr_blocks = ["0.0.0.0/0"]\n    description = "ssh"\n  }\n}\n')
SELF_SUPPRESSED = {"resource": {"aws_s3_bucket": {"self": {
    "//": {"aegis_suppressions": [{"id": "CKV_AWS_18", "reason": WHY, "expires": "2027-03-31"}]},
    "bucket": "self"}}}}


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    root = tmp_path_factory.mktemp("path") / "tf"
    (root / "sub").mkdir(parents=True)
    (root / "main.tf").write_text(HCL)
    (root / "sub" / "self.tf.json").write_text(json.dumps(SELF_SUPPRESSED))
    exceptions = root.parent / "exceptions.yaml"
    exceptions.write_text("exceptions: []\n")
    return run_path_gate(root, exceptions_file=exceptions, today=TODAY, checks_dir=None)


def error_of(result, where: str, check: str = "CKV_AWS_18") -> str:
    [error] = [e for e in result.errors if e.startswith(f"suppression of {check} ({where}): ")]
    return error.split("): ", 1)[1]


def status_of(result, stack: str, address: str, check: str = "CKV_AWS_18") -> str:
    [finding] = [f for f in result.findings if (f.stack, f.address, f.check_id) == (stack, address, check)]
    return finding.status


def test_attack_skip_comment_without_a_reason_is_refused(judged):
    assert judged.exit_code == EXIT_ERROR
    assert error_of(judged, "tf/aws_s3_bucket.no_reason").startswith("a checkov skip comment needs a reason")
    assert status_of(judged, "tf", "aws_s3_bucket.no_reason") == "failed"


def test_attack_skip_comment_without_an_expiry_is_refused(judged):
    assert error_of(judged, "tf/aws_s3_bucket.no_expiry").startswith("a checkov skip comment needs an expiry")
    assert status_of(judged, "tf", "aws_s3_bucket.no_expiry") == "failed"


def test_attack_skip_comment_for_centuries_is_refused(judged):
    assert error_of(judged, "tf/aws_s3_bucket.forever").startswith("expires 2999-12-31")
    assert status_of(judged, "tf", "aws_s3_bucket.forever") == "failed"


def test_attack_skip_comment_of_a_critical_check_is_refused(judged):
    # `--path` has no environment: it is judged as prod, where a critical check needs a reviewed exception
    assert error_of(judged, "tf/aws_security_group.open", "CKV_AWS_24").startswith(
        "a critical check in prod cannot be suppressed by a checkov skip comment")
    assert status_of(judged, "tf", "aws_security_group.open", "CKV_AWS_24") == "failed"


def test_a_reasoned_skip_comment_with_an_expiry_suppresses_and_is_listed(judged):
    assert status_of(judged, "tf", "aws_s3_bucket.reviewed") == "suppressed"
    [item] = [s for s in judged.suppressions if s.where == "tf/aws_s3_bucket.reviewed"]
    assert (item.origin, item.reason, item.expires, item.problem) == ("skip-comment", WHY, "2027-03-31", "")


def test_attack_hand_written_tf_json_suppressing_itself_under_path_is_refused(judged):
    assert "honoured only in Aegis's synthesized output" in error_of(judged, "sub/aws_s3_bucket.self")
    assert status_of(judged, "sub", "aws_s3_bucket.self") == "failed"


def test_every_suppression_is_listed_with_its_problem(judged):
    listed = {s.where: s.problem for s in judged.suppressions}
    assert set(listed) >= {"tf/aws_s3_bucket.no_reason", "tf/aws_s3_bucket.no_expiry", "tf/aws_s3_bucket.forever",
                           "tf/aws_s3_bucket.reviewed", "tf/aws_security_group.open", "sub/aws_s3_bucket.self"}
    assert [w for w, problem in listed.items() if not problem] == ["tf/aws_s3_bucket.reviewed"]
