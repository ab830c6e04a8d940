"""`data "aws_iam_policy_document"` blocks of hand-written Terraform, rendered as the JSON Terraform
would give their `.json` attribute, so the Aegis pack judges IAM built that way (`gate --path`).

checkov hands a check a role's `assume_role_policy = data.aws_iam_policy_document.x.json` as that
reference text: the pack could not judge it. Before the checks run, each resource that references a
document of its own module instance gets the rendered documents under `DOCUMENTS_KEY` (a key
checkov's own checks never read, so their results stay bare checkov's); the pack's checks read a
reference through it (policies/checks/aegis_checklib.py). A document that is not fully literal
(dynamic blocks, source/override documents, actions or principals from a variable) is not rendered:
the reference stays a reference, which the pack reports as "could not evaluate".
"""
from __future__ import annotations

import json
import os
import re
from typing import Any, Iterator

DOCUMENTS_KEY = "__aegis_policy_documents__"
# `data.aws_iam_policy_document.<name>.json`, also of one instance (`<name>[0]`: the block has a count).
_REFERENCE = re.compile(r"^\$?\{?data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)(?:\[[^]]*\])?\.json\}?$")
_UNRESOLVED = re.compile(r"^(var|local|module|data|each|count)\.|\$\{")
_COMPOSED = ("source_policy_documents", "override_policy_documents", "source_json", "override_json", "dynamic")


def attach(definitions: dict) -> None:
    """Give every resource that references a literal policy document of its module instance the
    rendered documents (reference text → JSON text)."""
    instances: dict[tuple[str, str], list[dict]] = {}
    for key, definition in definitions.items():
        path = getattr(key, "file_path", str(key))
        instance = (os.path.dirname(path), str(getattr(key, "tf_source_modules", None)))
        instances.setdefault(instance, []).append(definition)
    for members in instances.values():
        rendered = {name: text for definition in members for name, text in _documents(definition)}
        if not rendered:
            continue
        for definition in members:
            for entity in definition.get("resource", []) or []:
                for named in entity.values():
                    for conf in named.values():
                        if isinstance(conf, dict):
                            found = {ref: rendered[name] for ref, name in _references(conf) if name in rendered}
                            if found:
                                conf[DOCUMENTS_KEY] = found


def _documents(definition: dict) -> Iterator[tuple[str, str]]:
    for entity in definition.get("data", []) or []:
        for name, conf in (entity.get("aws_iam_policy_document") or {}).items():
            doc = render(conf)
            if doc is not None:
                yield name, json.dumps(doc, sort_keys=True)


def _references(conf: Any) -> Iterator[tuple[str, str]]:
    """(reference text, document name) of every policy-document reference in a resource's values."""
    if isinstance(conf, str):
        match = _REFERENCE.match(conf.strip())
        if match:
            yield conf, match.group(1)
    elif isinstance(conf, list):
        for item in conf:
            yield from _references(item)
    elif isinstance(conf, dict):
        for key, item in conf.items():
            if not str(key).startswith("__"):
                yield from _references(item)


def _one(raw: Any) -> Any:
    return raw[0] if isinstance(raw, list) and len(raw) == 1 else raw


def _strings(raw: Any, literal: bool = True) -> list[str] | None:
    """A list attribute of strings (`["s3:GetObject"]`), or None when it is not one. `literal`: no part may
    be a reference either (resource ARNs may hold one: `arn:${data.aws_partition.current.partition}:…`)."""
    raw = _one(raw)
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(i, str) and not (literal and _UNRESOLVED.search(i)) for i in items):
        return None
    return list(items)


def render(conf: dict) -> dict | None:
    """The policy JSON of one `aws_iam_policy_document` as checkov parsed it, or None when not literal."""
    if any(k in conf for k in _COMPOSED):
        return None
    statements = []
    for block in conf.get("statement") or []:
        stmt = _statement(block) if isinstance(block, dict) else None
        if stmt is None:
            return None
        statements.append(stmt)
    return {"Version": "2012-10-17", "Statement": statements}


def _statement(block: dict) -> dict | None:
    if "dynamic" in block:
        return None
    stmt: dict[str, Any] = {}
    sid = _one(block.get("sid"))
    if sid is not None:
        if not isinstance(sid, str):
            return None
        stmt["Sid"] = sid
    effect = _one(block.get("effect", "Allow"))
    if effect not in ("Allow", "Deny"):
        return None
    stmt["Effect"] = effect
    for attribute, key in (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource"),
                           ("not_resources", "NotResource")):
        if attribute in block:
            values = _strings(block[attribute], literal=attribute.endswith("actions"))
            if values is None:
                return None  # what is allowed, or where, is unknown
            stmt[key] = values
    for attribute, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        if attribute in block:
            principal = _principals(block[attribute])
            if principal is None:
                return None
            stmt[key] = principal
    if "condition" in block:
        condition: dict[str, dict[str, list[str]]] = {}
        for item in block["condition"] or []:
            test, variable = _one(item.get("test")), _one(item.get("variable"))
            values = _strings(_as_text(item.get("values")), literal=False)
            if not isinstance(test, str) or not isinstance(variable, str) or values is None:
                return None
            condition.setdefault(test, {}).setdefault(variable, []).extend(values)
        stmt["Condition"] = condition
    return stmt


def _as_text(raw: Any) -> Any:
    """Condition values as Terraform writes them into the JSON: text (checkov's HCL reader made `"true"` a bool)."""
    if isinstance(raw, list):
        return [_as_text(item) for item in raw]
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, (int, float)):
        return str(raw)
    return raw


def _principals(blocks: Any) -> Any:
    out: dict[str, list[str]] = {}
    for item in blocks or []:
        kind, identifiers = _one(item.get("type")), _strings(item.get("identifiers"))
        if not isinstance(kind, str) or identifiers is None:
            return None
        if kind == "*":
            return "*"
        out.setdefault(kind, []).extend(identifiers)
    return out
