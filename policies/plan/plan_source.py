"""What the plan gate feeds the engine (policies/engine.py): plans, each judged at its environment's
threshold (every severity when it is not known), with checkov's `terraform_plan` checks, the plan
checks (policies/plan/plan_checks) and approvals of deletions (policies/approvals.yaml), and the
inline suppressions of the stack's cdk.tf.json when it comes with the plan.

That cdk.tf.json is used only when it is Aegis's own (modules/synth_record.py `trusted_stack`): the
synth output around it is fresh for the plan's environment and the file's bytes are those synth
recorded. Any other file beside a plan is not read at all, and the plan is judged as written: a
hand-written one could suppress findings with `//` metadata, or give checkov a harmless reference
form of a value the plan sets (checkov_view.py), as `gate --path` refuses such metadata too.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from modules.synth_output import resources, stack_parts
from policies import scanner
from policies.catalog import Catalog
from policies.engine import JudgeOptions, Source, checkov_finding
from policies.findings import FAILED, PASSED, SUPPRESSED, Finding, Suppression
from policies.gate_result import GateError, display_path, make_finding
from policies.plan import plan_json
from policies.plan.approvals import Approval, load_approvals
from policies.plan.checkov_view import checkov_text
from policies.plan.plan_catalog import load_plan_catalog
from policies.plan.plan_checks import REGISTRY, Context, run_checks
from policies.suppression_policy import TIERS, lifetime_problem, load_policy
from policies.suppressions import in_scope, inline_suppressions, load_exceptions

if TYPE_CHECKING:
    from modules.config import EnvConfig
    from policies.plan.plan_gate import PlanGateResult, PlanInput

SOURCE = "plan"  # the `source` of a plan check's finding


@dataclass
class JudgedPlan:
    source: PlanInput
    plan: plan_json.Plan
    stack: str
    env: str | None
    pillar: str
    display: str
    copy: Path | None = None  # the UTF-8 copy checkov reads
    synthesized: dict | None = None  # the stack's cdk.tf.json, when it came with the plan and is Aegis's own
    construct_paths: dict[str, str] = field(default_factory=dict)
    suppressions: list[Suppression] = field(default_factory=list)
    config: EnvConfig | None = None  # the environment it was judged for (None: every severity, bound to nothing)


class Plans(Source["PlanGateResult"]):
    """Plans, each judged at its environment's threshold (every severity when it is not known): checkov's
    `terraform_plan` checks and the plan checks (policies/plan/plan_checks), approvals of deletions,
    and the inline suppressions of the stack's cdk.tf.json when it comes with the plan (and synth recorded it)."""

    errors = (plan_json.PlanError,)

    def __init__(self, inputs: list[PlanInput], env: str | None, approvals_file: Path | None,
                 plan_catalog_file: Path | None, workdir: Path) -> None:
        self.inputs = inputs
        self.env = env
        self.approvals_file = approvals_file
        self.plan_catalog_file = plan_catalog_file
        self.workdir = workdir
        self.judged: list[JudgedPlan] = []
        self.configs: dict[str, Any] = {}
        self.scan_result = scanner.Scan()
        self.by_copy: dict[Path, JudgedPlan] = {}  # the copy checkov read → its plan
        self.approved: list[Suppression] = []  # approvals of deletions, as suppressions

    def check_target(self) -> None:
        if not self.inputs:
            raise GateError("no plan to judge")

    def load_catalog(self, options: JudgeOptions) -> Catalog:
        return load_plan_catalog(options.catalog_file, self.plan_catalog_file)

    def read(self, options: JudgeOptions, result: PlanGateResult) -> None:
        """Every plan, the environment each belongs to (its threshold, tier and account), and the stack's
        synthesized JSON beside it when that is Aegis's own (else a note); any plan that cannot be read or placed
        refuses the whole run."""
        self._load_plans(result)
        self._load_environments(options, result)
        for j in self.judged:
            _bind_environment(j)
            _read_synthesized(j, result.notes)

    def _load_plans(self, result: PlanGateResult) -> None:
        errors: list[str] = []
        seen: dict[str, str] = {}
        for item in self.inputs:
            display = item.display or display_path(item.json_path)
            try:
                plan = plan_json.load(item.json_path, display)
            except plan_json.PlanError as exc:
                errors.append(str(exc))
                continue
            stack = item.stack or item.json_path.stem
            parts = stack_parts(stack)
            if stack in seen:
                raise GateError(f"two plans for stack {stack}: {seen[stack]} and {display}")
            seen[stack] = display
            self.judged.append(JudgedPlan(item, plan, stack, item.env or self.env, parts[1] if parts else "", display))
            if plan.encoding == "utf-16":
                result.notes.append(f"{display}: UTF-16 (with a byte-order mark) decoded explicitly and judged; "
                                    "Terraform writes UTF-8, so prefer `terraform show -json PLAN > plan.json` "
                                    "from a shell that keeps it")
        if errors:
            raise plan_json.PlanError("; ".join(errors))

    def _load_environments(self, options: JudgeOptions, result: PlanGateResult) -> None:
        """Thresholds and key naming of the environments these plans belong to. A stack named after a known
        environment belongs to it: an explicit environment that says otherwise is refused."""
        from modules.config import env_files, load_all
        from modules.config import environments_dir as default_dir

        placed = any(j.env or stack_parts(j.stack) for j in self.judged)
        known = set(env_files(options.environments_dir or default_dir())) if placed else set()
        for j in self.judged:
            parts = stack_parts(j.stack)
            owner = parts[0] if parts and (parts[0] in known or j.source.synth_doc is not None) else None
            if owner and j.env and j.env != owner:
                raise GateError(f"{j.display}: the plan belongs to stack {j.stack} of environment '{owner}', but "
                                f"the environment given is '{j.env}': refusing to judge it at another environment's "
                                "threshold (drop --env, or give the right one)")
            j.env = j.env or (parts[0] if parts else None)
        names = sorted({j.env for j in self.judged if j.env})
        for name in names:
            if name not in known:
                result.notes.append(f"environment '{name}' has no environment file: its plans are judged at "
                                    "every severity")
        self.configs = {c.name: c for c in load_all([n for n in names if n in known], options.environments_dir)} \
            if names else {}
        for j in self.judged:
            j.config = self.configs.get(j.env) if j.env else None
            if j.config is None:
                j.env = None
        result.thresholds = {name: c.gate.fail_on for name, c in self.configs.items()}

    def scan(self, options: JudgeOptions, result: PlanGateResult) -> list[scanner.Scan]:
        """checkov, on UTF-8 copies of the plans (attributes set by reference in their reference form)."""
        judged = self.judged
        planned = sum(len(j.plan.planned) for j in judged)
        changed = sum(1 for j in judged for rc in j.plan.changes if rc.managed)
        if planned + changed == 0:
            raise GateError("zero resources in the plan(s): nothing was judged")
        if not planned:
            return []
        copies: list[Path] = []
        for index, j in enumerate(judged):
            j.copy = copy = self.workdir / f"{index:03d}-{j.stack}.json"
            copy.write_text(checkov_text(j.plan, j.synthesized)[0], encoding="utf-8")
            copies.append(copy)
        if options.progress:
            options.progress(f"checkov {scanner.CHECKOV_VERSION} (terraform_plan) on {len(judged)} plan(s), "
                             f"{planned} resources")
        from policies.plan.plan_scanner import scan_plans

        scan = self.scan_result = scan_plans(copies, options.checks_dir)
        _check_scan_complete(scan, judged)
        self.by_copy = {j.copy.resolve(): j for j in judged if j.copy is not None}
        return [scan]

    def checkov_finding(self, catalog: Catalog, raw: scanner.RawResult) -> Finding:
        j = self.by_copy.get(raw.file)
        if j is None:
            raise GateError(f"checkov reported a result for a file it was not given: {raw.file.name}")
        return checkov_finding(catalog, raw, env=j.env, stack=j.stack, pillar=j.pillar,
                               construct_path=j.construct_paths.get(raw.address, raw.address), file=j.display)

    def own_findings(self, options: JudgeOptions, result: PlanGateResult, catalog: Catalog) -> list[Finding]:
        """The plan checks, in the catalog's order, then approvals of the deletions they found."""
        findings: list[Finding] = []
        deletions: list[tuple[Finding, str]] = []  # (finding, change kind) approvals may cover
        for j in self.judged:
            ctx = Context.of(j.plan, _alias_prefix(self.configs.get(j.env) if j.env else None))
            kinds = {rc.address: rc.kind for rc in j.plan.changes}
            for check_id, res in run_checks(ctx, catalog.rules):
                finding = make_finding(catalog, check_id, PASSED if res.passed else FAILED, res.message, env=j.env,
                                       stack=j.stack, pillar=j.pillar, address=res.address,
                                       construct_path=j.construct_paths.get(res.address, res.address),
                                       file=j.display, source=SOURCE, message=res.message)
                findings.append(finding)
                if res.deletion and not res.passed:
                    deletions.append((finding, kinds.get(res.address, "delete")))
        self.own_check_ids = set(REGISTRY)
        stacks = {j.stack for j in self.judged}
        approvals = [a for a in load_approvals(self.approvals_file) if a.stack in stacks]
        policy = load_policy(options.policy_file)
        tiers = {j.stack: frozenset({self.configs[j.env].tier}) if j.env in self.configs else frozenset(TIERS)
                 for j in self.judged}
        self.approved = _apply_approvals(result, deletions, approvals, options.today,
                                         lambda a: lifetime_problem(a.expires, policy, tiers[a.stack], options.today))
        return findings

    def suppressions(self, options: JudgeOptions) -> list[Suppression]:
        envs = [j.env for j in self.judged]
        suppressions = [s for j in self.judged for s in j.suppressions]
        return suppressions + [s for s in load_exceptions(options.exceptions_file) if in_scope(s, envs)]

    def listed_suppressions(self, problems: list[Suppression], suppressions: list[Suppression],
                            result: PlanGateResult) -> list[Suppression]:
        unused = [item for item in problems if item.problem.startswith("unused")]
        for item in problems:
            if item not in unused:
                result.errors.append(f"suppression of {item.check_id} ({item.where}): {item.problem}")
        if unused:
            # A plan judges changes, not the whole configuration: the synth gate enforces that every
            # suppression is used. Here an unused one is left out of the reports, counted in a note.
            shown = ", ".join(sorted({f"{s.check_id} ({s.where})" for s in unused})[:3])
            result.notes.append(f"{len(unused)} suppression(s) match nothing in these plans and are not listed: "
                                f"{shown}{', …' if len(unused) > 3 else ''}")
        return [s for s in suppressions if s not in unused] + self.approved

    def conclude(self, result: PlanGateResult) -> None:
        """The resources checkov scanned per plan; the verdict waits for the plan reports (`_conclude`)."""
        scan = self.scan_result
        result.stacks = {j.stack: len(scan.parsed.get(j.copy.resolve(), ())) if j.copy else 0 for j in self.judged}


def _bind_environment(j: JudgedPlan) -> None:
    """The account the plan's AWS providers are pinned to (`allowed_account_ids`, as terraform recorded the
    configuration) must be the account of the environment it is judged for."""
    if j.config is None:
        return
    pinned = _pinned_accounts(j.plan)
    if pinned and j.config.account_id not in pinned:
        raise GateError(f"{j.display}: the plan's AWS provider is pinned to account {', '.join(sorted(pinned))}, but "
                        f"environment '{j.env}' is account {j.config.account_id}: refusing to judge it as '{j.env}'")


def _pinned_accounts(plan: plan_json.Plan) -> set[str]:
    providers = (plan.doc.get("configuration") or {}).get("provider_config") or {}
    accounts: set[str] = set()
    for provider in providers.values() if isinstance(providers, dict) else ():
        if not isinstance(provider, dict) or provider.get("name") != "aws":
            continue
        value = ((provider.get("expressions") or {}).get("allowed_account_ids") or {}).get("constant_value")
        if isinstance(value, list):
            accounts.update(str(a) for a in value)
    return accounts


def _read_synthesized(j: JudgedPlan, notes: list[str]) -> None:
    """Inline suppressions and construct paths from the stack's cdk.tf.json beside the plan, when it is
    Aegis's own (the synth output `<out>/stacks/<stack>/` around it); otherwise a note, and nothing of it."""
    from modules.synth_record import trusted_stack

    file = j.source.synth_doc
    if file is None:
        return
    doc, why = trusted_stack(file.parent.parent.parent, j.stack, file, j.config)
    if doc is None:
        notes.append(f"{j.display}: the {file.name} beside the plan is not used ({why}): the plan is judged as "
                     "written, without its suppressions or reference forms")
        return
    j.synthesized = doc
    for res in resources(doc, ("resource",)):
        if isinstance(res.conf, dict):
            j.construct_paths[res.address] = res.construct_path(f"{j.stack}/{res.name}")
            j.suppressions.extend(inline_suppressions(j.stack, res.address, res.conf))


def _alias_prefix(config) -> str | None:
    return f"alias/{config.project}-{config.name}-" if config is not None else None


def _check_scan_complete(scan: scanner.Scan, judged: list[JudgedPlan]) -> None:
    if scan.parsing_errors:
        names = {j.copy.resolve(): j.display for j in judged if j.copy}
        shown = ", ".join(names.get(Path(p).resolve(), Path(p).name) for p in sorted(scan.parsing_errors))
        raise GateError(f"checkov could not parse {len(scan.parsing_errors)} plan(s): {shown}")
    for j in judged:
        expected = set(j.plan.planned)
        if not expected:
            continue
        assert j.copy is not None, f"{j.display} has planned resources but no copy for checkov"
        parsed = scan.parsed.get(j.copy.resolve())
        if parsed is None:
            raise GateError(f"{j.display}: checkov did not scan this plan")
        missing = sorted(expected - parsed)
        if missing:
            raise GateError(f"{j.display}: {len(missing)} planned resource(s) were not scanned: {', '.join(missing[:5])}")


def _apply_approvals(result: PlanGateResult, deletions: list[tuple[Finding, str]], approvals: list[Approval],
                     today: dt.date, policy_problem: Callable[[Approval], str | None]) -> list[Suppression]:
    """Turn approved deletion findings into suppressed ones; return the approvals as suppressions.
    `policy_problem`: why the suppression policy refuses an approval's expiry, or None."""
    out: dict[Approval, Suppression] = {}
    refused: set[Approval] = set()
    for approval in approvals:
        if approval.expires < today:
            result.errors.append(f"approval of {approval.stack}/{approval.address} ({approval.where}) expired on "
                                 f"{approval.expires.isoformat()}: renew it with a new review, or remove it")
        elif problem := policy_problem(approval):
            refused.add(approval)
            result.errors.append(f"approval of {approval.stack}/{approval.address} ({approval.where}): {problem}")
    live = [a for a in approvals if a.expires >= today and a not in refused]
    for finding, kind in deletions:
        for approval in live:
            if approval.covers(finding.stack, finding.address, kind):
                item = out.setdefault(approval, approval.as_suppression(finding.check_id, finding.env))
                item.matched.append(finding.resource_key)
                finding.status = SUPPRESSED
                finding.suppression = item
                break
    for approval in live:
        if approval not in out:
            result.notes.append(f"approval of {approval.stack}/{approval.address} ({approval.where}) matches no "
                                "deletion in these plans")
    return list(out.values())
