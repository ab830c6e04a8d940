"""policies/exceptions.yaml: validation with file/key/line, matching by pattern and environment,
and the expired / unused / unknown-check rules."""
from __future__ import annotations

import datetime as dt

import pytest

from modules.errors import ConfigError
from policies.findings import Finding
from policies.suppressions import apply, in_scope, inline_suppressions, load_exceptions

GOOD = """\
exceptions:
  - check: CKV_AWS_144
    resource: aws_s3_bucket.bucket-datasets_*
    environments: [dev]
    reason: Dev datasets are synthetic and rebuilt nightly; a DR copy buys nothing
    owner: ml-platform
    expires: 2027-06-30
"""


def _finding(check_id="CKV_AWS_144", address="aws_s3_bucket.bucket-datasets_bucket_13E1B35D", env="dev",
             status="failed", path="dev-data/bucket-datasets/bucket") -> Finding:
    return Finding(check_id=check_id, status=status, severity="medium", env=env, stack=f"{env}-data", pillar="data",
                   address=address, construct_path=path, title="t", remediation="r", controls={},
                   file="stacks/x/cdk.tf.json", blocking=True)


def _exceptions(tmp_path, text=GOOD):
    path = tmp_path / "exceptions.yaml"
    path.write_text(text)
    return load_exceptions(path)


def test_exception_suppresses_matching_failures_in_its_environments(tmp_path):
    items = _exceptions(tmp_path)
    assert items[0].where == "exceptions.yaml:2" and items[0].owner == "ml-platform"
    dev, prod = _finding(), _finding(env="prod")
    other = _finding(address="aws_s3_bucket.bucket-audit_bucket_CED8D32D")
    problems = apply([dev, prod, other], items, {"CKV_AWS_144"}, dt.date(2026, 1, 1))
    assert problems == []
    assert dev.status == "suppressed" and dev.suppression is items[0] and not dev.blocking
    assert prod.status == "failed" and other.status == "failed"
    assert items[0].matched == ["dev-data/aws_s3_bucket.bucket-datasets_bucket_13E1B35D"]


def test_pattern_with_a_slash_matches_the_construct_path(tmp_path):
    items = _exceptions(tmp_path, GOOD.replace("aws_s3_bucket.bucket-datasets_*", "dev-data/bucket-datasets/*"))
    finding = _finding()
    assert apply([finding], items, {"CKV_AWS_144"}, dt.date(2026, 1, 1)) == []
    assert finding.status == "suppressed"


def test_expired_exception_fails_and_suppresses_nothing(tmp_path):
    items = _exceptions(tmp_path)
    finding = _finding()
    problems = apply([finding], items, {"CKV_AWS_144"}, dt.date(2027, 7, 1))
    assert problems == items and items[0].problem.startswith("expired on 2027-06-30")
    assert finding.status == "failed"


def test_valid_through_its_expiry_day(tmp_path):
    items = _exceptions(tmp_path)
    assert apply([_finding()], items, {"CKV_AWS_144"}, dt.date(2027, 6, 30)) == []


def test_unused_exception_fails(tmp_path):
    items = _exceptions(tmp_path)
    passing = _finding(status="passed")
    problems = apply([passing], items, {"CKV_AWS_144"}, dt.date(2026, 1, 1))
    assert problems == items and items[0].problem.startswith("unused")


def test_unknown_check_fails(tmp_path):
    items = _exceptions(tmp_path, GOOD.replace("CKV_AWS_144", "CKV_AWS_90210"))
    problems = apply([_finding()], items, {"CKV_AWS_144"}, dt.date(2026, 1, 1))
    assert problems == items and items[0].problem.startswith("unknown check")


def test_out_of_scope_exceptions_are_not_judged(tmp_path):
    items = _exceptions(tmp_path)
    assert not in_scope(items[0], ["prod"]) and in_scope(items[0], ["dev", "prod"])
    star = _exceptions(tmp_path, GOOD.replace("[dev]", "['*']"))
    assert in_scope(star[0], ["prod"])


@pytest.mark.parametrize("old,new,key,line,words", [
    ("reason: Dev datasets are synthetic and rebuilt nightly; a DR copy buys nothing", "reason: too short",
     "exceptions.0.reason", 5, "at least 20"),
    ("expires: 2027-06-30", "expires: next year", "exceptions.0.expires", 7, "not a YYYY-MM-DD"),
    ("    owner: ml-platform\n", "", "exceptions.0", 2, "'owner' is missing"),
    ("environments: [dev]", "environments: []", "exceptions.0.environments", 4, "non-empty list"),
    ("check: CKV_AWS_144", "check: encryption", "exceptions.0.check", 2, "not a check ID"),
    ("    owner: ml-platform\n", "    owner: ml-platform\n    ticket: SEC-1\n", "exceptions.0.ticket", 7,
     "unknown key"),
])
def test_bad_exception_names_file_key_and_line(tmp_path, old, new, key, line, words):
    with pytest.raises(ConfigError) as err:
        _exceptions(tmp_path, GOOD.replace(old, new))
    assert (err.value.file, err.value.key_path, err.value.line) == ("exceptions.yaml", key, line), str(err.value)
    assert words in err.value.message


def test_the_project_exceptions_file_is_valid():
    for item in load_exceptions():
        assert len(item.reason) >= 20 and item.owner


def test_inline_suppressions_are_validated_again():
    reason = "This bucket is the access-log target itself"
    conf = {"//": {"aegis_suppressions": [
        {"id": "CKV_AWS_18", "reason": "short", "expires": "2027-01-01"},
        {"id": "not-an-id", "reason": reason, "expires": "2027-01-01"},
        {"id": "CKV_AWS_18", "reason": reason, "expires": "soon"},
        {"id": "CKV_AWS_18", "reason": reason, "expires": "2027-01-01"},
        {"id": "CKV_AWS_18", "reason": "x" * 30, "expires": "2027-01-01"},  # padding
        {"id": "CKV_AWS_18", "reason": reason, "expires": 20270101}]}}  # a number
    items = inline_suppressions("dev-data", "aws_s3_bucket.b", conf)
    assert [bool(i.problem) for i in items] == [True, True, True, False, True, True]
    assert all(i.where == "dev-data/aws_s3_bucket.b" for i in items)


def test_every_listed_suppression_carries_its_checks_title(app_gate):
    """A list of suppressions names what each one relaxes, not only an id to look up: the JSON, the PR comment
    and the HTML report all show the catalog's title beside the id."""
    from policies.report import markdown

    assert app_gate.suppressions, "the default app suppresses some checks inline"
    for item in app_gate.suppressions:
        rule = app_gate.catalog.rules.get(item.check_id)
        assert item.title and item.title == (rule.title if rule else app_gate.check_names[item.check_id]), item
        assert item.as_dict()["title"] == item.title
    comment = markdown.render(app_gate)
    item = app_gate.suppressions[0]
    assert f"| `{item.check_id}` {item.title} |" in comment
