"""The value checks' key lookups (policies/scan/patches.py `_plain_dpath_lookups`) answer as dpath does:
the same scan of the synthesized app with and without them, the same answers on any plain JSON value and
key, and dpath's own walk for what the shortcut does not read."""
from __future__ import annotations

from typing import Any

import dpath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies import scanner
from policies.scan import registry

_NAMES = ["a", "b", "0", "1", "-1", "policy", "", "[0]", "[1]"]  # keys that double as list indices, and the empty key
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text("ab", max_size=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_NAMES), inner, max_size=4),
    max_leaves=25)


def _lookups() -> Any:
    from checkov.terraform.checks.resource import base_resource_value_check

    registry.import_checkov()
    return base_resource_value_check.dpath


def _undo(monkeypatch) -> None:
    from checkov.terraform.checks.resource import base_resource_negative_value_check, base_resource_value_check

    registry.import_checkov()
    for module in (base_resource_value_check, base_resource_negative_value_check):
        monkeypatch.setattr(module, "dpath", dpath)


def _outcome(call) -> Any:
    try:
        value = call()
    except Exception as exc:  # dpath's KeyError for a missing key, ValueError for two matches
        return type(exc), str(exc)
    return value


def test_the_lookups_give_the_same_scan(synthesized, monkeypatch):
    from policies.gate import CHECKS_DIR

    stacks = [synthesized.path(n) for n in synthesized.stack_names if n.startswith("prod-")]
    lookups = _lookups()
    assert lookups is not dpath and lookups.search.original is dpath.search
    ours = scanner.scan_json(stacks, CHECKS_DIR, workers=1)
    _undo(monkeypatch)
    theirs = scanner.scan_json(stacks, CHECKS_DIR, workers=1)

    def key(result):
        return str(result.file), result.address, result.check_id, result.lines, result.passed, result.details

    assert len(ours.results) > 800
    assert sorted(ours.results, key=key) == sorted(theirs.results, key=key)  # lines and details included
    assert ours.parsed == theirs.parsed and ours.lines == theirs.lines  # nothing read was changed


@settings(max_examples=400, deadline=None)
@given(conf=st.dictionaries(st.sampled_from(_NAMES), _json, max_size=4),
       glob=st.lists(st.sampled_from(_NAMES), min_size=1, max_size=3).map("/".join))
def test_a_plain_key_is_found_as_dpath_finds_it(conf, glob):
    lookups = _lookups()
    for key in (glob, "/" + glob):
        ours = lookups.search(conf, key)
        assert ours == dpath.search(conf, key)
        if ours:
            found = lookups.get(conf, key)
            assert found is dpath.get(conf, key)  # the very object, not a copy
        else:
            assert _outcome(lambda k=key: lookups.get(conf, k)) == _outcome(lambda k=key: dpath.get(conf, k))


@settings(max_examples=400, deadline=None)
@given(conf=st.dictionaries(st.sampled_from(_NAMES), _json, max_size=4), name=st.sampled_from(_NAMES))
def test_every_path_ending_in_a_name_comes_in_dpaths_order(conf, name):
    ours = list(_lookups().search(conf, f"**/{name}", yielded=True))
    theirs = list(dpath.search(conf, f"**/{name}", yielded=True))
    assert ours == theirs and all(a[1] is b[1] for a, b in zip(ours, theirs, strict=True))


def test_on_a_policy_document_the_value_checks_judge_as_checkov(monkeypatch):
    """Big nested documents beside the key, the key nested under `[0]`, or only deeper (dpath's `**/` search),
    through checkov's value and negative value checks: all answered without dpath's walk, as with it."""
    from checkov.common.models.enums import CheckResult
    from checkov.terraform.checks.resource.aws.ACMCertSetLoggingPreference import check as logging_preference
    from checkov.terraform.checks.resource.aws.ALBDesyncMode import check as desync_mode

    lookups = _lookups()
    monkeypatch.setattr(lookups.search, "original", None)  # any fallback would fail
    statements = [{"Effect": ["Allow"], "Action": [["s3:GetObject"]], "Resource": [[f"arn:aws:s3:::b{i}/*"]]}
                  for i in range(50)]
    document = {"policy": [{"Statement": statements}]}
    expected = [
        (logging_preference, {"options": [{"certificate_transparency_logging_preference": ["ENABLED"]}]}, CheckResult.PASSED),
        (logging_preference, {"options": [{"certificate_transparency_logging_preference": ["DISABLED"]}]}, CheckResult.FAILED),
        (logging_preference, {"options": {"certificate_transparency_logging_preference": "${var.preference}"}},
         CheckResult.UNKNOWN),  # not under `[0]`: found by `**/` at the same names, and judged there
        (logging_preference, {"other": [{"options": [{"certificate_transparency_logging_preference": ["DISABLED"]}]}]},
         CheckResult.PASSED),  # found by `**/` under other names: ignored, the check's missing-block result
        (desync_mode, {"desync_mitigation_mode": ["monitor"]}, CheckResult.FAILED),
        (desync_mode, {"desync_mitigation_mode": ["strictest"]}, CheckResult.PASSED),
        (desync_mode, {}, CheckResult.PASSED),
    ]
    for check, conf, result in expected:
        assert _scan_both(check, {**document, **conf}, monkeypatch) == (result, result)


def _scan_both(check, conf, monkeypatch) -> tuple[Any, Any]:
    from copy import deepcopy

    ours = check.scan_resource_conf(deepcopy(conf))
    with monkeypatch.context() as undone:
        _undo(undone)
        theirs = check.scan_resource_conf(deepcopy(conf))
    return ours, theirs


@pytest.mark.parametrize(("conf", "glob", "yielded"), [
    ({"a": [{"b": 1}]}, "a/*/b", False),  # a wildcard
    ({"a": {"b": 1}}, "a/[b]", False),
    ({"a": {1: "x"}}, "a/1", False),  # a key that is not a string, on the path
    ({"a": ({"b": 1},)}, "a/0/b", False),  # a tuple, on the path
    ({"a": {1: "x"}}, "**/1", True),  # anywhere, for `**/`
    ({"a": ({"b": 1},)}, "**/b", True),
    ({"a": {"b": 1}}, "**/b/c", True),  # more than a name after `**/`
    ({"a": {"b": 1}}, "*/b", True),
])
def test_what_the_shortcut_does_not_read_goes_to_dpath(conf, glob, yielded, monkeypatch):
    lookups = _lookups()
    calls: list[str] = []

    def counted(*args):
        calls.append(args[1])
        return dpath.search(*args)

    monkeypatch.setattr(lookups.search, "original", counted)
    ours = _outcome(lambda: lookups.search(conf, glob, yielded=yielded))
    assert calls == [glob]
    theirs = _outcome(lambda: dpath.search(conf, glob, yielded=yielded))
    assert (list(ours) if yielded else ours) == (list(theirs) if yielded else theirs)  # dpath's answer or error


def test_while_dpath_refuses_empty_keys_its_own_walk_refuses_them(monkeypatch):
    from dpath import options
    from dpath.exceptions import InvalidKeyName

    lookups = _lookups()
    monkeypatch.setattr(options, "ALLOW_EMPTY_STRING_KEYS", False)
    with pytest.raises(InvalidKeyName):
        lookups.search({"a": {"": 1}}, "a/b")
    with pytest.raises(InvalidKeyName):
        list(lookups.search({"a": {"": 1}}, "**/b", yielded=True))


def test_a_missing_key_raises_as_dpath_does():
    lookups = _lookups()
    with pytest.raises(KeyError):
        lookups.get({"a": 1}, "b")
    assert lookups.get({"a": 1}, "/") == {"a": 1}
