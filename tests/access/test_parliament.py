"""Every generated IAM document is linted with parliament (PyPI). Unknown actions, unknown
condition keys and action/resource mismatches fail; so does "*" where the action supports
resource-level permissions. The allow-list below names each parliament false positive and why.
"""
from __future__ import annotations

import json
import re

import pytest
from parliament import analyze_policy_string
from parliament.misc import make_list  # noqa: F401  (parliament import check: fails loudly if absent)

from modules.access.scps import ScpProps, guardrails_document, region_document
from modules.boundary import boundary_document
from modules.config import load_env
from modules.naming import Naming
from tests.synthesized import ENVS

# (issue, subject) → why it is a false positive. `subject` is a condition key or a document kind.
ALLOWED_FINDINGS = {
    # kms:ResourceAliases is a condition key of the KMS `key` resource type (AWS Service Authorization
    # Reference); parliament 1.6.4 only matches per-action keys and so reports it for every KMS
    # action. test_resource_aliases_allow_list_is_justified checks parliament's own database.
    ("UNKNOWN_CONDITION_FOR_ACTION", "kms:ResourceAliases"),
    # The permission boundary is a ceiling, not a grant: whole services on "*" by design; every
    # role's own policy scopes by ARN (and is linted without this exception).
    ("RESOURCE_STAR", "boundary"),
    # Service roles of other stacks: StringEquals on an ARN-valued key (elasticfilesystem:AccessPointArn)
    # is how AWS documents it; parliament itself rates the type mismatch "usable".
    ("MISMATCHED_TYPE_BUT_USABLE", "service"),
}
TOKEN = re.compile(r"\$\{[^}]+\}")


def findings(document: str, kind: str) -> list[str]:
    """Parliament findings not on the allow-list, as readable strings."""
    policy = analyze_policy_string(document, include_community_auditors=False)
    out = []
    for f in policy.findings:
        detail = json.dumps(f.detail, sort_keys=True, default=str) if f.detail is not None else ""
        if f.issue == "UNKNOWN_CONDITION_FOR_ACTION" and "kms:ResourceAliases" in str(f.detail) \
                and ("UNKNOWN_CONDITION_FOR_ACTION", "kms:ResourceAliases") in ALLOWED_FINDINGS:
            continue
        if (f.issue, kind) in ALLOWED_FINDINGS:
            continue
        out.append(f"{f.issue}: {detail[:300]}")
    return out


def trust_as_identity(trust: str, role_arn: str) -> str:
    """Parliament reads identity policies; a trust policy guards the role itself, so lint it with
    Resource = the role ARN (checks sts actions, their condition keys and the resource type)."""
    doc = json.loads(trust)
    for stmt in doc["Statement"]:
        stmt.pop("Principal", None)
        stmt["Resource"] = role_arn
    return json.dumps(doc)


def test_the_linter_catches_what_it_must():
    bad = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sagemaker:InvokeEndpointz"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["sagemaker:InvokeEndpoint"], "Resource": "arn:aws:s3:::bucket"},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]})
    issues = {f.split(":")[0] for f in findings(bad, "persona")}
    assert {"UNKNOWN_ACTION", "RESOURCE_MISMATCH", "RESOURCE_STAR"} <= issues


def test_resource_aliases_allow_list_is_justified():
    from pathlib import Path

    import parliament

    definition = json.loads((Path(parliament.__file__).parent / "iam_definition.json").read_text())
    (kms,) = [s for s in definition if s["prefix"] == "kms"]
    (key,) = [r for r in kms["resources"] if r["resource"] == "key"]
    assert "kms:ResourceAliases" in key["condition_keys"]


@pytest.fixture(scope="module")
def access_documents(synthesized):
    """(label, kind, document) for every IAM document the access stacks synthesize."""
    docs = []
    for env in ENVS:
        naming = Naming.of(load_env(env))
        stack = synthesized.stack(f"{env}-access")["resource"]
        for conf in stack.get("aws_iam_role", {}).values():
            docs.append((f"{env} trust of {conf['name']}", "trust",
                         trust_as_identity(conf["assume_role_policy"], naming.role_arn(conf["name"][len(naming.prefix) + 1:]))))
        for conf in stack.get("aws_iam_role_policy", {}).values():
            docs.append((f"{env} inline {conf['name']}", "persona", conf["policy"]))
        for conf in stack.get("aws_organizations_policy", {}).values():
            docs.append((f"{env} SCP {conf['name']}", "scp", conf["content"]))
        for conf in stack.get("aws_sns_topic_policy", {}).values():
            docs.append((f"{env} topic policy", "resource", conf["policy"]))
        for conf in synthesized.resources(f"{env}-bootstrap", "aws_iam_policy").values():
            if conf["name"].endswith("permission-boundary"):
                docs.append((f"{env} boundary", "boundary", conf["policy"]))
    return docs


def test_every_access_document_is_clean(access_documents):
    assert len(access_documents) >= 3 * 14
    problems = {label: f for label, kind, doc in access_documents if (f := findings(doc, kind))}
    assert problems == {}


def test_scps_of_every_environment_are_clean():
    """Linted for every env, not only the ones that turn SCPs on."""
    for env in ENVS:
        config = load_env(env)
        assert findings(guardrails_document(ScpProps.of(config)), "scp") == []
        assert findings(region_document(ScpProps.of(config)), "scp") == []
        assert findings(boundary_document(Naming.of(config)), "boundary") == []


def test_service_role_policies_of_other_stacks_are_clean(synthesized):
    """Roles of the data, platform and governance stacks, where their policies are literal JSON.
    Interpolated parts (`${...}`, known only at apply) are replaced by a wildcard of the same place,
    and action/resource mismatches caused only by that are not counted."""
    checked = 0
    problems = {}
    for stack in synthesized.stack_names:
        if stack.endswith("-access"):
            continue
        resources = synthesized.stack(stack).get("resource", {})
        candidates = [(f"{stack} {rtype} {c.get('name', logical)}", c.get("policy"))
                      for rtype in ("aws_iam_role_policy", "aws_iam_policy")
                      for logical, c in resources.get(rtype, {}).items()]
        for label, raw in candidates:
            if not isinstance(raw, str) or not raw.lstrip().startswith("{"):
                continue
            kind = "boundary" if label.endswith("permission-boundary") else "service"
            interpolated = bool(TOKEN.search(raw))
            found = findings(TOKEN.sub("*", raw), kind)
            if interpolated:  # only what the placeholder "*" itself causes is not counted
                found = [f for f in found if not f.startswith(("RESOURCE_MISMATCH", "RESOURCE_STAR", "INVALID_ARN"))
                         and not (f.startswith("MISMATCHED_TYPE") and "given ['*']" in f)]
            checked += 1
            if found:
                problems[label] = found
    assert checked > 0
    assert problems == {}


def test_star_resource_only_in_statements_declared_as_such(access_documents):
    """A "*" resource in an Allow must be a statement whose Sid says NoResourceLevel (and is listed
    in a comment in persona_policies.py); parliament's RESOURCE_STAR (above) proves the claim."""
    for label, kind, doc in access_documents:
        if kind != "persona":
            continue
        for stmt in json.loads(doc)["Statement"]:
            if stmt["Effect"] == "Allow" and "*" in (stmt["Resource"] if isinstance(stmt["Resource"], list)
                                                      else [stmt["Resource"]]):
                assert stmt["Sid"].endswith("NoResourceLevel"), (label, stmt["Sid"])
            for action in stmt.get("Action", []) if isinstance(stmt.get("Action"), list) else [stmt.get("Action")]:
                assert action != "*", label
