"""Which checkov checks can fire on the resource types a synth output emits (terraform_json).

Keeps the `builtin:` section of policies/catalog.yaml complete: the catalog test uses
`applicable_checks(emitted_types(out))`, and this prints what is missing.

    python -m policies.tools.checkov_ids [--out cdktf.out] [--all] [--yaml]

`--all` lists every applicable check (default: only those missing from the catalog); `--yaml`
prints them as catalog stubs to complete by hand (severity, remediation, controls).
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from modules.synth_output import load_stacks, typed_resources
from policies.catalog import load_catalog
from policies.scan.registry import builtin_checks, import_checkov, registries


@dataclass(frozen=True)
class CheckInfo:
    id: str
    name: str
    kind: str  # resource | data | provider | graph
    types: tuple[str, ...]  # the emitted types it applies to


def emitted_types(out_dir: Path) -> set[str]:
    """Resource types, `data.<type>` for data sources and `provider.<name>`, over every stack."""
    types: set[str] = set()
    for doc in load_stacks(out_dir).values():
        types.update(t for t, items in typed_resources(doc, "resource") if items)
        types.update(f"data.{t}" for t, items in typed_resources(doc, "data") if items)
        types.update(f"provider.{p}" for p in (doc.get("provider") or {}))
    return types


def applicable_checks(types: set[str]) -> dict[str, CheckInfo]:
    """checkov's built-in Terraform checks whose supported types include any of `types`."""
    import_checkov()
    resource, data, provider, _module, graph = registries()
    builtin = builtin_checks()
    hits: dict[str, tuple[str, str, set[str]]] = {}

    def add(check, kind: str, matched: str) -> None:
        if check.id in builtin:
            hits.setdefault(check.id, (check.name, kind, set()))[2].add(matched)

    plain = {t for t in types if "." not in t}
    datas = {t.split(".", 1)[1] for t in types if t.startswith("data.")}
    providers = {t.split(".", 1)[1] for t in types if t.startswith("provider.")}
    for registry, kind, wanted in ((resource, "resource", plain), (data, "data", datas),
                                   (provider, "provider", providers)):
        for rtype in wanted:
            for check in registry.checks.get(rtype, []):
                add(check, kind, rtype if kind == "resource" else f"{kind}.{rtype}")
            for pattern, checks in registry.wildcard_checks.items():
                if fnmatchcase(rtype, pattern):
                    for check in checks:
                        add(check, kind, rtype)
    for check in graph.checks:
        for rtype in _graph_types(check) & plain:
            add(check, "graph", rtype)
    return {i: CheckInfo(i, n, k, tuple(sorted(t))) for i, (n, k, t) in sorted(hits.items())}


def _graph_types(check) -> set[str]:
    """Types a graph check reports on: its resource types, narrowed by an AND-ed `resource_type within`
    filter (some checks list every AWS type and filter down to one)."""
    types = set(check.resource_types or ())
    if str(check.operator).lower() == "and":
        for sub in check.sub_checks or ():
            if str(sub.type).endswith("FILTER") and sub.attribute == "resource_type":
                types &= set(sub.attribute_value or ())
    return types


def _stub(info: CheckInfo) -> str:
    return (f"  {info.id}:  # {info.kind} on {', '.join(info.types)}\n"
            f"    title: {info.name}\n    severity: \n    pillar: \n    remediation: \n"
            "    controls: {hipaa: [], nist-800-53: [], gdpr: [], cis: [], iso27001: []}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="cdktf.out", help="synth output folder (default: cdktf.out)")
    parser.add_argument("--all", action="store_true", help="list every applicable check, not only missing ones")
    parser.add_argument("--yaml", action="store_true", help="print catalog stubs")
    args = parser.parse_args(argv)
    checks = applicable_checks(emitted_types(Path(args.out)))
    catalog = load_catalog()
    shown = [c for c in checks.values() if args.all or c.id not in catalog]
    for info in shown:
        if args.yaml:
            sys.stdout.write(_stub(info))
        else:
            mark = " " if info.id in catalog else "!"
            print(f"{mark} {info.id:<14} {info.kind:<8} {', '.join(info.types)[:60]:<60} {info.name}")
    print(f"{len(checks)} applicable, {sum(c.id not in catalog for c in checks.values())} missing from the catalog",
          file=sys.stderr)
    return 1 if any(c.id not in catalog for c in checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
