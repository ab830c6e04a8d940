"""What the gate produces: one finding per (check, resource), and the suppressions that touched them."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from operator import attrgetter

PASSED, FAILED, SUPPRESSED = "passed", "failed", "suppressed"
# A pack check that could not decide (a reference it cannot resolve) on hand-written Terraform: shown and
# counted, not a failure unless `gate --path --strict` (policies/path_gate.py).
NOT_EVALUATED = "not_evaluated"
NOT_EVALUATED_PREFIX = "could not evaluate: "  # how a pack check says so (policies/checks/aegis_checklib.py)
SKIP_COMMENT = "skip-comment"  # the origin of a checkov skip comment in HCL (`gate --path`)
# The plan checks that find a stateful deletion: only an approval (policies/plan/approvals.py) of the exact
# address relaxes them, and no exception may name them with a wildcard (policies/suppression_policy.py).
DELETION_CHECKS = frozenset({"AEGIS_PLAN_STATEFUL_DELETE", "AEGIS_PLAN_KMS_KEY_DISABLED"})


@dataclass
class Suppression:
    """A reviewed relaxation: inline (`//.aegis_suppressions` of one resource), from exceptions.yaml, a checkov
    skip comment (`gate --path`) or a deletion approval (plans)."""

    check_id: str
    reason: str
    expires: str  # YYYY-MM-DD ("" when a checkov skip comment names none: refused)
    origin: str  # "inline" | "exceptions" | "skip-comment" | "approval"
    where: str  # inline, skip comment: "<stack>/<address>"; exceptions: "policies/exceptions.yaml:<line>"
    owner: str = ""
    approver: str = ""  # exceptions: who approved it, never the owner (required by policies/suppression_policy.yaml)
    pattern: str = ""  # exceptions: the resource address pattern
    environments: tuple[str, ...] = ()
    matched: list[str] = field(default_factory=list)  # "<stack>/<address>" of the failures it suppressed
    problem: str = ""  # expired | unused | unknown check | invalid …; empty when fine
    title: str = ""  # the check's title (catalog, else checkov's name), so a list of suppressions reads on its own

    def as_dict(self) -> dict:
        data = asdict(self)
        data["environments"] = list(self.environments)
        return data


@dataclass
class Finding:
    check_id: str
    status: str  # passed | failed | suppressed | not_evaluated
    severity: str  # low | medium | high | critical (the catalog's; HIGH when uncatalogued)
    env: str | None
    stack: str
    pillar: str  # pillar of the stack the resource is in (bootstrap, data, …)
    address: str  # "<type>.<logical id>", "" for a stack-level finding
    construct_path: str  # the resource's `//.metadata.path`
    title: str
    remediation: str
    controls: dict[str, list[str]]
    file: str  # relative to the judged folder, posix
    line: int | None = None
    end_line: int | None = None
    source: str = "checkov"  # checkov | app
    catalogued: bool = True
    check_pillar: str = ""  # the pillar that owns the control (catalog)
    message: str = ""
    blocking: bool = False  # failed, at or above the environment's threshold
    suppression: Suppression | None = None
    why: str = ""  # why the check decided so: checkov's result detail, an app-level check's message
    caller_file: str = ""  # a resource inside a module: the file of the module call (`gate --path`)
    caller_line: int | None = None
    config_key: str = ""  # the environment-file key that decides the judged value (policies/config_keys.py)

    @property
    def not_evaluated(self) -> bool:
        """The check said it could not evaluate the resource (whatever the status made of it)."""
        return self.why.startswith(NOT_EVALUATED_PREFIX)

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    @property
    def resource_key(self) -> str:
        return f"{self.stack}/{self.address}" if self.address else self.stack

    def as_dict(self) -> dict:
        # Field by field with one getter (dataclasses.asdict deep-copies recursively, and `fields()` builds its
        # tuple on every call: slow over thousands of findings, twice per gate: the reports and the run memo).
        data = dict(zip(_FINDING_FIELDS, _finding_values(self), strict=True))
        data["controls"] = {k: list(v) for k, v in self.controls.items()}
        data["suppression"] = self.suppression.as_dict() if self.suppression else None
        return data


_FINDING_FIELDS = tuple(f.name for f in fields(Finding))
_finding_values = attrgetter(*_FINDING_FIELDS)
