"""policies/access_matrix.yaml is validated strictly: each problem names the file, the key and the line."""
from __future__ import annotations

import pytest

from modules.errors import ConfigError
from policies.access.intent import load_intent

GOOD = """principals:
  data-scientist:
    roles: ["{prefix}-data-scientist"]
    must_have: [read:datasets]
    may: [pass-role:model-exec]
    must_not: [read:inference]
    tiers:
      prod: {may: []}
  model-exec:
    roles: ["{prefix}-*-exec"]
"""


def load(tmp_path, text):
    path = tmp_path / "access_matrix.yaml"
    path.write_text(text)
    return load_intent(path)


def test_the_shipped_matrix_loads():
    intent = load_intent()
    assert {"data-scientist", "ml-engineer", "platform-admin", "security-auditor", "model-exec"} <= set(intent.principals)


def test_tiers_replace_a_list_for_that_tier_only_and_the_world_is_closed(tmp_path):
    ds = load(tmp_path, GOOD).principals["data-scientist"]
    assert ds.expectations["dev"].intended("pass-role:model-exec") == "may"
    assert ds.expectations["prod"].intended("pass-role:model-exec") == "must-not"
    assert ds.expectations["prod"].intended("read:datasets") == "must"
    assert ds.expectations["dev"].intended("deploy") == "must-not"  # listed nowhere: forbidden


@pytest.mark.parametrize("text, key, line, words", [
    (GOOD.replace("read:inference", "read:secrets"), "principals.data-scientist.must_not.0", 6, "not a capability"),
    (GOOD.replace("pass-role:model-exec", "pass-role:nobody"), "principals.data-scientist.may.0", 5,
     "not a capability"),
    (GOOD.replace("must_not: [read:inference]", "must_not: [read:datasets]"), "principals.data-scientist.must_not",
     6, "in both must_have and must_not"),
    (GOOD.replace('"{prefix}-*-exec"', '"aegis-*-exec"'), "principals.model-exec.roles.0", 10, "{prefix}-"),
    (GOOD.replace("prod: {may: []}", "qa: {may: []}"), "principals.data-scientist.tiers.qa", 8, "unknown tier"),
    (GOOD.replace("    may: [pass", "    maybe: [pass"), "principals.data-scientist.maybe", 5, "unknown key"),
    (GOOD + "aws_managed_policies:\n  arn:aws:iam::aws:policy/X: {grants_at_most: [s3], why: short}\n",
     "aws_managed_policies.arn:aws:iam::aws:policy/X.grants_at_most.0", 12, "not an action pattern"),
    ("principals: []\n", "principals", 1, "must map"),
])
def test_each_problem_names_file_key_and_line(tmp_path, text, key, line, words):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    error = caught.value
    assert (error.file, error.key_path, error.line) == ("access_matrix.yaml", key, line), str(error)
    assert words in error.message


def test_a_duplicate_key_is_refused_with_its_line(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, GOOD + "  data-scientist:\n    roles: [\"{prefix}-x\"]\n")
    assert caught.value.line == 11 and "duplicate" in caught.value.message
