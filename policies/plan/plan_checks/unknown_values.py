"""AEGIS_PLAN_UNKNOWN_SECURITY_VALUE: a security-relevant attribute that stays unknown until apply is
reported, never passed in silence.

The other plan checks compare `before` with `after`; a value Terraform knows only after apply
(`after_unknown`) gives them nothing to compare, and most of them leave it alone. This check
looks at the attributes they judge (encryption flags, algorithms and key ids, policy documents,
public access block settings, ingress CIDRs, logging, detector switches, versioning, object lock
retention, KMS key state) on every create, update and replace, and reports each unknown one:

- passed, naming where it comes from, when the configuration sets it only from objects of this
  plan (`aws_kms_key.data.arn`, `data.aws_iam_policy_document.bucket.json`): those objects are in
  the plan and judged there, and the synth gate judged the literal parts of the expression;
- failed when the configuration sets it from anything else (a variable, a local, a module
  output, a value the plan does not hold), or sets it with no reference at all: nothing in the
  plan shows what it will be.

An attribute the configuration does not set is the provider's to compute (e.g. the legacy
`policy` of `aws_s3_bucket`, `ingress` of a group whose rules are separate resources): it is
no security decision of this plan and is judged where it is set. The configuration trusted here
is the one inside the JSON; `apply` ties that JSON to the binary it applies.
"""
from __future__ import annotations

import re
from typing import Iterable

from policies.plan.plan_checks._base import Context, PlanCheck, PlanResult, fail, ok, plan_check, unknown
from policies.plan.plan_checks.detectors import SWITCHES
from policies.plan.plan_checks.encryption import SPECS
from policies.plan.plan_checks.iam_widened import DOCUMENTS
from policies.plan.plan_checks.object_lock import RETENTION
from policies.plan.plan_checks.public_access import SETTINGS
from policies.plan.plan_checks.versioning import MFA, STATUS
from policies.plan.plan_json import ResourceChange

_META = ("count.", "each.", "self.", "path.", "terraform.")


def _security_attributes() -> dict[str, tuple[str, ...]]:
    """Resource type → the attribute paths the plan checks judge (from their own tables), plus logging."""
    table: dict[str, list[str]] = {}

    def add(rtype: str, *paths: str) -> None:
        table.setdefault(rtype, []).extend(p for p in paths if p not in table.get(rtype, []))

    for rtype, spec in SPECS.items():
        add(rtype, *spec.enabled, *spec.algorithm, *spec.keys)
    for rtype, paths in DOCUMENTS.items():
        add(rtype, *paths)
    for rtype in ("aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"):
        add(rtype, *SETTINGS)
    for rtype in ("aws_security_group", "aws_default_security_group"):
        add(rtype, "ingress.*.cidr_blocks", "ingress.*.ipv6_cidr_blocks")
    add("aws_security_group_rule", "cidr_blocks", "ipv6_cidr_blocks")
    add("aws_vpc_security_group_ingress_rule", "cidr_ipv4", "cidr_ipv6")
    for rtype, (_, attribute, _) in SWITCHES.items():
        if attribute:
            add(rtype, attribute)
    add("aws_cloudtrail", "enable_log_file_validation", "is_multi_region_trail", "s3_bucket_name")
    add("aws_s3_bucket_logging", "target_bucket")
    add("aws_flow_log", "log_destination")
    add("aws_s3_bucket_versioning", STATUS, MFA)
    add("aws_s3_bucket_object_lock_configuration", *(f"{RETENTION}.{a}" for a in ("mode", "days", "years")))
    add("aws_kms_key", "is_enabled", "enable_key_rotation")
    return {rtype: tuple(paths) for rtype, paths in table.items()}


ATTRIBUTES = _security_attributes()


def _readable(path: str) -> str:
    return path.replace(".*", "")


def _configuration(ctx: Context, rc: ResourceChange, path: str) -> list[str] | None:
    """The references of the deepest step of `path` the configuration sets; None when it sets none."""
    for name in reversed([step for step in path.split(".") if step != "*"]):
        if ctx.configured(rc, name):
            return [r for r in ctx.references(rc, name) if not r.startswith(_META)]
    return None


def _foreign(ctx: Context, rc: ResourceChange, references: list[str]) -> list[str]:
    """The references that name no resource or data source of this plan (module-relative inside a module)."""
    module = re.sub(r"\[[^\]]*\]", "", rc.module_address)
    objects = set(ctx.plan.config_resources())
    out = []
    for ref in references:
        full = f"{module}.{ref}" if module else ref
        if not any(full == a or full.startswith((a + ".", a + "[")) for a in objects):
            out.append(ref)
    return out


@plan_check
class UnknownSecurityValue(PlanCheck):
    id = "AEGIS_PLAN_UNKNOWN_SECURITY_VALUE"
    types = tuple(ATTRIBUTES)

    def judge(self, rc: ResourceChange, ctx: Context) -> Iterable[PlanResult]:
        if rc.kind not in ("create", "update", "replace"):
            return
        tied, blind = [], []
        for path in ATTRIBUTES[rc.type]:
            if not unknown(rc, path):
                continue
            references = _configuration(ctx, rc, path)
            if references is None:
                continue  # computed by the provider: not set by this configuration
            foreign = _foreign(ctx, rc, references)
            if references and not foreign:
                tied.append(f"{_readable(path)} (from {', '.join(sorted(set(references)))})")
            else:
                source = f"set from {', '.join(sorted(set(foreign)))}, which this plan does not hold" if foreign \
                    else "set with no reference the plan can follow"
                blind.append(f"{_readable(path)} ({source})")
        if blind:
            yield fail(rc, "known only after apply, so nothing in the plan shows what it will be: " + "; ".join(blind))
        elif tied:
            yield ok(rc, "known only after apply, set from objects of this plan that it judges: " + "; ".join(tied))
