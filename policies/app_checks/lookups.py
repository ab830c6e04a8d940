"""Lookups across the resources of an environment that several app-level checks share: what is
attached to a resource, which data class a KMS key belongs to, an endpoint's production variants.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from policies.app_checks.view import NAME_ATTRIBUTES, Env, Stack, nested, one, ref
from policies.checks.aegis_values import as_list


def attached(stack: Stack, rtype: str, target_type: str, target_name: str, target_conf: dict,
             attribute: str, literal_keys: tuple[str, ...] = NAME_ATTRIBUTES) -> list[tuple[str, dict]]:
    """Resources of `rtype` in `stack` whose `attribute` points at the target resource, by reference
    (`${target_type.target_name.*}`) or by the target's literal name."""
    literals = {target_conf.get(k) for k in literal_keys if isinstance(target_conf.get(k), str)}
    out = []
    for name, conf in sorted(stack.resources(rtype).items()):
        raw = conf.get(attribute)
        found = ref(raw)
        if (found and found[0] == target_type and found[1] == target_name) or (raw in literals and raw):
            out.append((name, conf))
    return out


def buckets_named(env: Env, bucket_name: str) -> list[tuple[Stack, str, dict]]:
    return [(s, n, c) for s, n, c in env.resources("aws_s3_bucket") if c.get("bucket") == bucket_name]


def alias_info(env: Env, alias: Any) -> tuple[str, bool] | None:
    """(class, is DR alias) of `alias/<prefix>-<class>[-dr]` (or its ARN) when it is one of this
    environment's aliases in the right account and region, else None."""
    if not isinstance(alias, str):
        return None
    naming = env.naming
    match = re.fullmatch(rf"(?:arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{{12}}):)?alias/{re.escape(naming.prefix)}-"
                         r"([a-z0-9]+)(-dr)?", alias.strip())
    if not match:
        return None
    region, account, key_class, dr = match.groups()
    if account is not None and account != naming.account_id:
        return None
    expected_region = naming.dr_region if dr else naming.region
    if region is not None and region != expected_region:
        return None
    return key_class, bool(dr)


def alias_class(env: Env, alias: Any) -> str | None:
    info = alias_info(env, alias)
    return info[0] if info else None


def key_class_of(env: Env, stack: Stack, raw: Any) -> str | None:
    """The data class of the KMS key a value points at, resolved through aliases, or None.

    - `${aws_kms_key.K.arn|id|key_id}`: the class of the alias (in the same stack) targeting K;
    - `${data.aws_kms_key.L.arn|id}`: the class of the alias the lookup L is keyed by;
    - a literal alias name or alias ARN of this environment.
    """
    found = ref(raw)
    if found is None:
        return alias_class(env, raw)
    rtype, name, _attr = found
    if rtype == "aws_kms_key":
        classes = {alias_class(env, a.get("name")) for _, a in attached(stack, "aws_kms_alias", "aws_kms_key", name,
                                                                        {}, "target_key_id", ())}
        classes.discard(None)
        return classes.pop() if len(classes) == 1 else None
    if rtype == "data.aws_kms_key":
        lookup = stack.data("aws_kms_key").get(name)
        return alias_class(env, (lookup or {}).get("key_id"))
    return None


def endpoint_variants(stack: Stack, config_raw: Any) -> tuple[str | None, list[dict]]:
    """(endpoint config logical id, its production variants) for an endpoint's `endpoint_config_name`."""
    found = ref(config_raw)
    configs = stack.resources("aws_sagemaker_endpoint_configuration")
    if found and found[0] == "aws_sagemaker_endpoint_configuration" and found[1] in configs:
        return found[1], nested(configs[found[1]], "production_variants")
    for name, conf in sorted(configs.items()):
        if isinstance(config_raw, str) and conf.get("name") == config_raw:
            return name, nested(conf, "production_variants")
    return None, []


def is_serverless(variant: dict) -> bool:
    return one(variant, "serverless_config") is not None


def serverless_only(variants: list[dict]) -> bool:
    """An endpoint whose every variant is serverless (known variants only: none resolved is not serverless)."""
    return bool(variants) and all(is_serverless(v) for v in variants)


def provider_of(stack: Stack, conf: dict) -> dict | None:
    """The provider configuration a resource uses (`provider = "aws.<alias>"`, default `aws`), or None."""
    alias = None
    provider = conf.get("provider")
    if isinstance(provider, str) and provider.startswith("aws."):
        alias = provider[4:]
    elif provider not in (None, "aws"):
        return None
    for config in as_list((stack.doc.get("provider") or {}).get("aws")):
        if isinstance(config, dict) and config.get("alias") == alias:
            return config
    return None


def managed_resources(env: Env) -> Iterator[tuple[Stack, str, str, dict]]:
    """Every AWS resource and data source of the environment: (stack, address, type, conf)."""
    for stack in env.stacks.values():
        for kind, prefix in (("resource", ""), ("data", "data.")):
            for rtype, items in sorted((stack.doc.get(kind) or {}).items()):
                if not rtype.startswith("aws_") or not isinstance(items, dict):
                    continue
                for name, conf in sorted(items.items()):
                    if isinstance(conf, dict):
                        yield stack, f"{prefix}{rtype}.{name}", rtype, conf


def region_of(stack: Stack, conf: dict) -> str | None:
    """The region a resource is managed in: its own `region` argument (provider 6), else the region of the
    provider configuration it uses; None when that cannot be read literally."""
    own = conf.get("region")
    if own is None:
        own = (provider_of(stack, conf) or {}).get("region")
    return own if isinstance(own, str) and "${" not in own else None


def effective_tags(stack: Stack, conf: dict) -> dict:
    """The tags a resource ends up with: its provider's default tags, overridden by its own `tags`."""
    tags: dict = {}
    for block in nested(provider_of(stack, conf) or {}, "default_tags"):
        tags.update(block.get("tags") or {})
    own = conf.get("tags")
    if isinstance(own, dict):
        tags.update(own)
    return tags


def key_of_class(env: Env, key_class: str, dr: bool = False) -> tuple[Stack, str, dict] | None:
    """(stack, logical id, conf) of the key that `alias/<prefix>-<class>[-dr]` targets, in any stack."""
    wanted = env.naming.kms_alias(key_class, env.naming.dr_region if dr else None)
    for stack, _, alias in env.resources("aws_kms_alias"):
        target = ref(alias.get("target_key_id"))
        if alias.get("name") == wanted and target and target[0] == "aws_kms_key":
            conf = stack.lookup("aws_kms_key", target[1])
            if conf is not None:
                return stack, target[1], conf
    return None


def key_resource(env: Env, stack: Stack, raw: Any) -> tuple[Stack, str, dict] | None:
    """The key resource a value points at: a key of the same stack by reference, else the key whose
    alias a lookup (`data.aws_kms_key`) or a literal alias names. None: it cannot be resolved."""
    found = ref(raw)
    if found is not None and found[0] == "aws_kms_key":
        conf = stack.lookup("aws_kms_key", found[1])
        return (stack, found[1], conf) if conf is not None else None
    if found is not None and found[0] == "data.aws_kms_key":
        raw = (stack.data("aws_kms_key").get(found[1]) or {}).get("key_id")
    elif found is not None:
        return None
    info = alias_info(env, raw)
    return key_of_class(env, info[0], info[1]) if info else None


def key_policy(stack: Stack, name: str, conf: dict) -> Any:
    """The raw policy of a key: its `policy`, or that of the aws_kms_key_policy attached to it."""
    attached_policies = attached(stack, "aws_kms_key_policy", "aws_kms_key", name, conf, "key_id", ("key_id", "id"))
    return attached_policies[0][1].get("policy") if attached_policies else conf.get("policy")


def role_arn(env: Env, stack: Stack, raw: Any) -> str | None:
    """The ARN of the role a value names: a role of the stack by reference (its name and path), or a literal
    role ARN; None when it is neither."""
    target = stack.target(raw, "aws_iam_role")
    if target is not None:
        name, path = target[1].get("name"), target[1].get("path") or "/"
        if not isinstance(name, str) or "${" in name + str(path):
            return None
        return f"arn:aws:iam::{env.naming.account_id}:role{path}{name}"
    return raw if isinstance(raw, str) and raw.startswith("arn:aws:iam::") and "${" not in raw else None
