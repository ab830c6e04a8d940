"""`plan` and `apply` for one environment: its stacks in dependency order (from the CDKTF manifest).

plan:  for each stack: terraform init (the env's backend) → plan -out=aegis.tfplan → show -json
       → aegis.tfplan.json; then the plan gate judges every plan together and writes an attestation
       beside each plan that passes. Stale plan files of the selected stacks are removed first, and
       the first terraform failure stops everything (exit 2, nothing judged, nothing attested).
apply: verifies the attestation of every selected stack first (and runs nothing if any is
       refused), then for each stack with changes: terraform init → apply of the exact bytes the
       attestation hashed, then marks the attestation applied (one plan, one apply). The first
       failure stops the rest.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from modules.config import STATE_KEY_OUTPUT
from modules.naming import BOOTSTRAP, STACK_ORDER
from modules.synth_output import MANIFEST, STACK_FILE, SynthOutputError, manifest_entries, split_stack
from policies.plan import attestation
from policies.plan.plan_catalog import catalog_files, load_plan_catalog
from policies.plan.plan_gate import PlanGateResult, PlanInput, run_plan_gate
from policies.plan.summary import describe, has_changes
from policies.plan.terraform import Terraform, backend_args

PLAN_FILE = "aegis.tfplan"
PLAN_JSON = "aegis.tfplan.json"


class DeployError(Exception):
    """A refusal or failure of plan/apply: exit 2."""


@dataclass
class StackDir:
    name: str
    folder: Path  # the synthesized stack folder (terraform's working directory)
    rel: str  # the folder relative to the output folder, posix (for reports)

    @property
    def plan_file(self) -> Path:
        return self.folder / PLAN_FILE

    @property
    def plan_json(self) -> Path:
        return self.folder / PLAN_JSON

    def synthesized(self) -> dict:
        try:
            return json.loads((self.folder / STACK_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DeployError(f"{self.name}: {self.rel}/{STACK_FILE} is not readable ({exc}): run "
                              "`python main.py synth`") from None


def stacks_in_order(out_dir: Path, env: str) -> list[StackDir]:
    """The environment's stacks from the manifest, dependencies first (a DAG; ties in apply order)."""
    try:
        entries = manifest_entries(out_dir)
    except SynthOutputError as exc:
        raise DeployError(f"{out_dir.name}/{MANIFEST} is missing or unreadable ({exc}): run `python main.py synth`") \
            from None
    mine: dict[str, dict] = {}
    for name, entry in entries.items():
        try:
            owner, _ = split_stack(name)
        except SynthOutputError as exc:
            raise DeployError(str(exc)) from None
        if owner == env:
            mine[name] = entry
    if not mine:
        raise DeployError(f"{out_dir.name}/ has no stack of environment '{env}': run `python main.py synth --env {env}`")
    deps = {name: [d for d in (entry.get("dependencies") or []) if d in mine] for name, entry in mine.items()}
    for name, entry in mine.items():
        foreign = [d for d in entry.get("dependencies") or [] if d not in mine]
        if foreign:
            raise DeployError(f"stack {name} depends on {', '.join(foreign)} of another environment")

    def rank(name: str) -> tuple:
        pillar = split_stack(name)[1]
        return (STACK_ORDER.index(pillar) if pillar in STACK_ORDER else len(STACK_ORDER), name)

    order: list[str] = []
    ready = sorted((n for n, d in deps.items() if not d), key=rank)
    remaining = {n: set(d) for n, d in deps.items() if d}
    while ready:
        current = ready.pop(0)
        order.append(current)
        for name in sorted(remaining, key=rank):
            remaining[name].discard(current)
            if not remaining[name]:
                del remaining[name]
                ready.append(name)
        ready.sort(key=rank)
    if remaining:
        raise DeployError(f"the stack dependencies of '{env}' form a cycle: {', '.join(sorted(remaining))}")
    out = []
    for name in order:
        rel_file = mine[name].get("synthesizedStackPath") or f"stacks/{name}/{STACK_FILE}"
        rel = Path(rel_file).parent.as_posix()
        out.append(StackDir(name, out_dir / rel, rel))
    return out


def select(stacks: list[StackDir], requested: tuple[str, ...] | list[str], env: str) -> list[StackDir]:
    """`--stack` values (a stack name or a pillar) → those stacks, still in dependency order."""
    if not requested:
        return stacks
    names = {s.name for s in stacks}
    wanted = set()
    for item in requested:
        name = item if item in names else f"{env}-{item}"
        if name not in names:
            raise DeployError(f"no stack '{item}' in environment '{env}' (have: {', '.join(s.name for s in stacks)})")
        wanted.add(name)
    return [s for s in stacks if s.name in wanted]


def _remove_plan_files(stack: StackDir) -> None:
    for path in (stack.plan_file, stack.plan_json, attestation.attestation_path(stack.plan_file),
                 attestation.applied_path(stack.plan_file)):
        path.unlink(missing_ok=True)


def _check_recorded_state_key(config, stacks: list[StackDir]) -> None:
    """backend.kms_key_id must be the key the bootstrap stack created, when its local state is here to say so
    (elsewhere, e.g. in CI, the state bucket policy is what refuses a wrong key)."""
    bootstrap = next((s for s in stacks if split_stack(s.name)[1] == BOOTSTRAP), None)
    if bootstrap is None:
        return
    local = ((bootstrap.synthesized().get("terraform") or {}).get("backend") or {}).get("local") or {}
    if not isinstance(local.get("path"), str):
        return
    state_file = bootstrap.folder / local["path"]
    try:
        outputs = json.loads(state_file.read_text(encoding="utf-8")).get("outputs") or {}
    except FileNotFoundError:
        return
    except (OSError, ValueError, AttributeError) as exc:
        raise DeployError(f"{bootstrap.name}: its local state {local['path']} is unreadable ({type(exc).__name__}); "
                          "it holds the bootstrap stack's resources: restore it") from None
    created = (outputs.get(STATE_KEY_OUTPUT) or {}).get("value")
    if isinstance(created, str) and created != config.backend.kms_key_id:
        raise DeployError(f"environments/{config.name}.yaml [backend.kms_key_id] is {config.backend.kms_key_id}, but "
                          f"{bootstrap.name} created the state key {created} (its output {STATE_KEY_OUTPUT}): "
                          "record that ARN and synthesize again")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_plan(config, out_dir: Path, requested: tuple[str, ...], terraform: Terraform, *,
             environments_dir: Path | None = None, exceptions_file: Path | None = None,
             approvals_file: Path | None = None, echo: Callable[[str], Any] = print) -> PlanGateResult:
    """terraform init/plan/show in each selected stack (dependency order), then the plan gate."""
    stacks = select(stacks_in_order(out_dir, config.name), requested, config.name)
    for stack in stacks:
        _remove_plan_files(stack)
    # Every backend first: a stack that cannot reach its state refuses before any terraform runs.
    backends = {stack.name: backend_args(config, stack.name, stack.synthesized()) for stack in stacks}
    if any(backends.values()):
        _check_recorded_state_key(config, stacks_in_order(out_dir, config.name))
    inputs = []
    for stack in stacks:
        echo(f"terraform init / plan / show -json: {stack.name}")
        terraform.init(stack.folder, backends[stack.name], stack.name)
        terraform.plan(stack.folder, PLAN_FILE, stack.name)
        if not stack.plan_file.is_file():
            raise DeployError(f"terraform plan of {stack.name} wrote no {PLAN_FILE}")
        binary_sha256 = _sha256(stack.plan_file)
        terraform.show_json(stack.folder, PLAN_FILE, stack.plan_json, stack.name)
        inputs.append(PlanInput(json_path=stack.plan_json, stack=stack.name, env=config.name, binary=stack.plan_file,
                                display=f"{stack.rel}/{PLAN_JSON}", synth_doc=stack.folder / STACK_FILE,
                                binary_sha256=binary_sha256))
    return run_plan_gate(inputs, env=config.name, environments_dir=environments_dir, exceptions_file=exceptions_file,
                         approvals_file=approvals_file, target=out_dir.name,
                         progress=lambda message: echo(message))


@dataclass
class ApplyResult:
    applied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def verify_all(stacks: list[StackDir], *, max_age: dt.timedelta, key: str | None,
               now: dt.datetime | None = None) -> dict[str, attestation.Verified]:
    """Every selected stack's attestation, or DeployError listing every reason to refuse."""
    pack = attestation.policy_pack_digest()
    catalog = attestation.catalog_version(catalog_files(), len(load_plan_catalog()))
    verified: dict[str, attestation.Verified] = {}
    problems: list[str] = []
    for stack in stacks:
        record, found = attestation.verify(stack.plan_file, stack=stack.name, pack=pack, catalog=catalog,
                                           max_age=max_age, key=key, now=now)
        problems += found
        if record is not None:
            verified[stack.name] = record
    if problems:
        raise DeployError("apply refused, nothing was applied:\n  " + "\n  ".join(problems))
    return verified


def run_apply(config, out_dir: Path, requested: tuple[str, ...], terraform: Terraform, *, confirm_prod: bool,
              max_age: dt.timedelta, key: str | None, now: dt.datetime | None = None,
              echo: Callable[[str], Any] = print) -> ApplyResult:
    if config.tier == "prod" and not confirm_prod:
        raise DeployError(f"'{config.name}' is a prod environment: pass --confirm-prod to apply it (nothing was applied)")
    stacks = select(stacks_in_order(out_dir, config.name), requested, config.name)
    verified = verify_all(stacks, max_age=max_age, key=key, now=now)
    result = ApplyResult()
    for stack in stacks:
        record = verified[stack.name].record
        if not has_changes(record.get("changes") or {}):
            echo(f"{stack.name}: no changes, nothing to apply")
            result.unchanged.append(stack.name)
            continue
        echo(f"terraform apply: {stack.name} ({describe(record['changes'])})")
        args = backend_args(config, stack.name, stack.synthesized())
        try:
            terraform.init(stack.folder, args, stack.name)
            _apply_exact(terraform, stack, verified[stack.name].plan_bytes, record["plan_file"]["sha256"])
        except Exception as exc:
            done = f" (applied before it: {', '.join(result.applied)})" if result.applied else " (nothing was applied)"
            raise DeployError(f"{exc}{done}; later stacks were not applied") from None
        attestation.mark_applied(stack.plan_file, now)
        result.applied.append(stack.name)
    return result


def _apply_exact(terraform: Terraform, stack: StackDir, plan_bytes: bytes, expected: str) -> None:
    """Apply a private copy of the verified bytes, so the file cannot change between check and use."""
    if hashlib.sha256(plan_bytes).hexdigest() != expected:  # pragma: no cover - verify() compared them already
        raise DeployError(f"{stack.name}: plan bytes do not match the attestation")
    private = Path(tempfile.mkdtemp(prefix=".aegis-apply-", dir=stack.folder))
    try:
        copy = private / PLAN_FILE
        copy.write_bytes(plan_bytes)
        terraform.apply(stack.folder, f"{private.name}/{PLAN_FILE}", stack.name)
    finally:
        shutil.rmtree(private, ignore_errors=True)
