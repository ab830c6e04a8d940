"""`plan` and `apply` for one environment: its stacks in dependency order (from the CDKTF manifest).

plan:  for each stack: terraform init (the env's backend) → plan -out=aegis.tfplan → show -json of a
       private copy of exactly the bytes it hashed → aegis.tfplan.json; then the plan gate judges
       every plan together and writes an attestation beside each plan that passes, covering both
       the binary and its JSON (Aegis derived one from the other). Stale plan files of the selected
       stacks are removed first, and the first terraform failure stops everything (exit 2, nothing
       judged, nothing attested). A prod-tier environment needs AEGIS_ATTESTATION_KEY.
apply: verifies every selected stack first (attestation, its environment binding, the exceptions and
       approvals files it was judged with, the apply ledger)
       and runs nothing if any is refused; then, for each stack with changes, terraform init and
       `terraform show -json` of a private copy of the bytes it will apply, which must give the JSON
       the gate judged (the tie between binary and JSON, whoever wrote the attestation); only then,
       stack by stack: record the plan in the ledger, terraform apply of that same copy, retire the
       attestation (one plan, one apply). The first failure stops the rest.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from modules.config import STATE_KEY_OUTPUT
from modules.naming import BOOTSTRAP, STACK_ORDER
from modules.synth_output import MANIFEST, STACK_FILE, SynthOutputError, load_stack, manifest_entries, split_stack
from policies.plan import attestation, ledger, plan_json
from policies.plan.plan_catalog import catalog_files, load_plan_catalog
from policies.plan.plan_gate import PlanGateResult, PlanInput, run_plan_gate
from policies.plan.summary import describe, has_changes
from policies.plan.terraform import Terraform, TerraformError, backend_args

if TYPE_CHECKING:
    from modules.config import EnvConfig

PLAN_FILE = "aegis.tfplan"
PLAN_JSON = "aegis.tfplan.json"


class DeployError(Exception):
    """A refusal or failure of plan/apply: exit 2. `details` are its reasons, one per line (the CLI prints
    each on a line of its own)."""

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        self.message, self.details = message, list(details or [])
        super().__init__("\n  ".join([message, *self.details]))


@dataclass
class StackDir:
    name: str
    folder: Path  # the synthesized stack folder (terraform's working directory)
    rel: str  # the folder relative to the output folder, posix (for reports)
    out_dir: Path  # the synth output folder

    @property
    def plan_file(self) -> Path:
        return self.folder / PLAN_FILE

    @property
    def plan_json(self) -> Path:
        return self.folder / PLAN_JSON

    def synthesized(self) -> dict:
        try:
            return load_stack(self.out_dir, self.name, self.folder / STACK_FILE)
        except SynthOutputError as exc:
            raise DeployError(f"{exc}: run `python main.py synth`") from None


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
        out.append(StackDir(name, out_dir / rel, rel, out_dir))
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


@contextlib.contextmanager
def _private_copy(stack: StackDir, plan_bytes: bytes, prefix: str) -> Iterator[Path]:
    """A private folder in the stack folder (terraform's working directory) holding exactly these bytes as
    PLAN_FILE, removed afterwards: what terraform reads cannot change between the check and the use."""
    private = Path(tempfile.mkdtemp(prefix=prefix, dir=stack.folder))
    try:
        (private / PLAN_FILE).write_bytes(plan_bytes)
        yield private
    finally:
        shutil.rmtree(private, ignore_errors=True)


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


def run_plan(config: EnvConfig, out_dir: Path, requested: tuple[str, ...], terraform: Terraform, *,
             environments_dir: Path | None = None, exceptions_file: Path | None = None,
             approvals_file: Path | None = None, echo: Callable[[str], Any] = print) -> PlanGateResult:
    """terraform init/plan/show in each selected stack (dependency order), then the plan gate."""
    _require_key(config, attestation.configured_key(), "no plan was made")
    stacks = select(stacks_in_order(out_dir, config.name), requested, config.name)
    for stack in stacks:
        _remove_plan_files(stack)
    # Every backend first: a stack that cannot reach its state refuses before any terraform runs.
    backends = {stack.name: backend_args(config, stack.name, stack.synthesized()) for stack in stacks}
    if any(backends.values()):
        _check_recorded_state_key(config, stacks_in_order(out_dir, config.name))
    inputs = [_plan_stack(config, stack, backends[stack.name], terraform, echo) for stack in stacks]
    return run_plan_gate(inputs, env=config.name, environments_dir=environments_dir, exceptions_file=exceptions_file,
                         approvals_file=approvals_file, target=out_dir.name,
                         progress=lambda message: echo(message))


def _plan_stack(config: EnvConfig, stack: StackDir, args: list[str], terraform: Terraform,
                echo: Callable[[str], Any]) -> PlanInput:
    """init (with the stack's backend `args`), plan, and the JSON of exactly the planned bytes (`show -json`
    of a private copy of them)."""
    echo(f"terraform init / plan / show -json: {stack.name}")
    terraform.init(stack.folder, args, stack.name)
    terraform.plan(stack.folder, PLAN_FILE, stack.name)
    try:
        plan_bytes = stack.plan_file.read_bytes()
    except OSError:
        raise DeployError(f"terraform plan of {stack.name} wrote no {PLAN_FILE}") from None
    with _private_copy(stack, plan_bytes, ".aegis-show-") as private:
        terraform.show_json(stack.folder, f"{private.name}/{PLAN_FILE}", stack.plan_json, stack.name)
    return PlanInput(json_path=stack.plan_json, stack=stack.name, env=config.name, binary=stack.plan_file,
                     display=f"{stack.rel}/{PLAN_JSON}", synth_doc=stack.folder / STACK_FILE,
                     binary_sha256=hashlib.sha256(plan_bytes).hexdigest(), json_derived=True)


def _require_key(config: EnvConfig, key: str | None, consequence: str) -> None:
    try:
        attestation.require_key(config.tier, config.name, key)
    except attestation.AttestationError as exc:
        raise DeployError(f"{exc} ({consequence})") from None


@dataclass
class ApplyResult:
    applied: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def verify_all(stacks: list[StackDir], config: EnvConfig, *, max_age: dt.timedelta, key: str | None,
               ledger_file: Path, now: dt.datetime | None = None, exceptions_file: Path | None = None,
               approvals_file: Path | None = None) -> dict[str, attestation.Verified]:
    """Every selected stack's attestation, bound to this environment, judged with these exceptions and
    approvals files (the project's own when None) and not in the apply ledger, or DeployError listing
    every reason to refuse."""
    catalog = attestation.catalog_version(catalog_files(), len(load_plan_catalog()))
    binding, pack = attestation.Binding.of(config), attestation.policy_pack_digest()
    inputs = attestation.input_files(exceptions_file, approvals_file)
    try:
        consumed = ledger.read(ledger_file)
    except ledger.LedgerError as exc:
        raise DeployError(f"apply refused, nothing was applied: {exc}") from None
    verified: dict[str, attestation.Verified] = {}
    problems: list[str] = []
    for stack in stacks:
        expected = attestation.Expected(stack=stack.name, binding=binding, pack=pack,
                                        catalog=catalog, max_age=max_age, key=key, inputs=inputs)
        record, found = attestation.verify(stack.plan_file, expected, now=now)
        entry = consumed.get(hashlib.sha256(record.plan_bytes).hexdigest()) if record is not None else None
        if entry is not None:
            found.append(f"{stack.name}: this plan was already handed to terraform apply ({ledger.describe(entry)}, "
                         f"ledger {ledger_file.name}): run `plan` again for a new one")
        problems += found
        if record is not None and entry is None:
            verified[stack.name] = record
    if problems:
        raise DeployError("apply refused, nothing was applied:", problems)
    return verified


def run_apply(config: EnvConfig, out_dir: Path, requested: tuple[str, ...], terraform: Terraform, *,
              confirm_prod: bool, max_age: dt.timedelta, key: str | None, now: dt.datetime | None = None,
              exceptions_file: Path | None = None, approvals_file: Path | None = None,
              echo: Callable[[str], Any] = print) -> ApplyResult:
    if config.tier == attestation.PROD_TIER and not confirm_prod:
        raise DeployError(f"'{config.name}' is a prod environment: pass --confirm-prod to apply it (nothing was applied)")
    _require_key(config, key, "nothing was applied")
    stacks = select(stacks_in_order(out_dir, config.name), requested, config.name)
    ledger_file = ledger.ledger_path(out_dir)
    verified = verify_all(stacks, config, max_age=max_age, key=key, ledger_file=ledger_file, now=now,
                          exceptions_file=exceptions_file, approvals_file=approvals_file)
    result = ApplyResult()
    changed = []
    for stack in stacks:
        if has_changes(verified[stack.name].record.get("changes") or {}):
            changed.append(stack)
        else:
            echo(f"{stack.name}: no changes, nothing to apply")
            result.unchanged.append(stack.name)
    for stack in changed:  # every binary tied to its judged JSON before anything is applied
        _tie(config, terraform, stack, verified[stack.name])
    for stack in changed:
        record = verified[stack.name].record
        echo(f"terraform apply: {stack.name} ({describe(record['changes'])})")
        try:
            ledger.record(ledger_file, _ledger_entry(stack, config, verified[stack.name], now))
            _apply_exact(terraform, stack, verified[stack.name].plan_bytes)
        except Exception as exc:
            done = f" (applied before it: {', '.join(result.applied)})" if result.applied else " (nothing was applied)"
            raise DeployError(f"{exc}{done}; later stacks were not applied") from None
        attestation.mark_applied(stack.plan_file, now)
        result.applied.append(stack.name)
    return result


def _tie(config: EnvConfig, terraform: Terraform, stack: StackDir, verified: attestation.Verified) -> None:
    """`terraform show -json` of the bytes about to be applied must give the JSON the gate judged."""
    args = backend_args(config, stack.name, stack.synthesized())
    terraform.init(stack.folder, args, stack.name)
    with _private_copy(stack, verified.plan_bytes, ".aegis-show-") as private:
        shown_file = private / "shown.json"
        try:
            terraform.show_json(stack.folder, f"{private.name}/{PLAN_FILE}", shown_file, stack.name)
        except TerraformError as exc:
            raise DeployError(f"apply refused, nothing was applied: {stack.name}: {exc}: {PLAN_FILE} cannot be tied "
                              "to the JSON the gate judged; run `plan` again") from None
        shown = shown_file.read_bytes()
    if not _same_plan(shown, verified.json_bytes, stack.name):
        raise DeployError(f"apply refused, nothing was applied: {stack.name}: `terraform show -json` of {PLAN_FILE} "
                          f"is not the JSON the gate judged ({verified.record['plan_json']['name']}): the binary "
                          "plan is not the plan that was approved; run `plan` again")


def _same_plan(shown: bytes, judged: bytes, stack: str) -> bool:
    """Byte for byte, or (a pipeline's JSON re-encoded or re-indented) the same document as the gate parsed it."""
    if shown == judged:
        return True
    try:
        return plan_json.parse(shown, stack).doc == plan_json.parse(judged, stack).doc
    except plan_json.PlanError:
        return False


def _ledger_entry(stack: StackDir, config: EnvConfig, verified: attestation.Verified,
                  now: dt.datetime | None) -> dict[str, Any]:
    record = verified.record
    return {"plan_sha256": hashlib.sha256(verified.plan_bytes).hexdigest(),
            "json_sha256": record["plan_json"]["sha256"], "stack": stack.name, "env": config.name,
            "account": config.account_id, "attested_at": record.get("created_at"),
            "apply_started_at": attestation.stamp(now)}


def _apply_exact(terraform: Terraform, stack: StackDir, plan_bytes: bytes) -> None:
    """Apply a private copy of the verified bytes, so the file cannot change between check and use."""
    with _private_copy(stack, plan_bytes, ".aegis-apply-") as private:
        terraform.apply(stack.folder, f"{private.name}/{PLAN_FILE}", stack.name)
