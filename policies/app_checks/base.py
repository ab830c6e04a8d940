"""What every app-level check shares: its results, its findings, and its registration.

An app-level check sees every stack of every environment together with its `EnvConfig`
(`policies.app_checks.view.AppView`), so it can judge what checkov cannot: rules that depend on
the environment tier or on its config (prod needs two instances, COMPLIANCE object lock, an
On-Demand base), rules across resources and stacks (which key a bucket's encryption really points
at, which scaling target belongs to which endpoint) and rules about the environment as a whole (a
budget exists, Security Hub subscribes to the standards the config lists).

A check is a generator function `check(app: AppView) -> Iterator[Result]`, registered with
`@app_check(ID, title)`; the runner adds the check ID to each result. A check reports a passed
result for every resource it judged, and a stack-level result (address "") for things that are
missing. It never passes what it could not judge: an unresolvable reference is a failure.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable

from policies.check_registry import CheckRegistry

if TYPE_CHECKING:
    from policies.app_checks.view import AppView


class CannotJudge(Exception):
    """A check met something it cannot evaluate (an unresolved reference, an unsupported condition):
    the gate errors (exit 2) with this message, which names where, instead of passing or failing."""


@dataclass(frozen=True)
class AppFinding:
    check_id: str
    stack: str
    address: str  # "<type>.<logical id>" ("data.<type>.<name>" for a data source), "" for the stack
    passed: bool
    message: str


@dataclass(frozen=True)
class Result:
    """What a check yields; the runner turns it into an AppFinding with the check's ID."""

    stack: str
    address: str
    passed: bool
    message: str


def ok(stack: str, address: str, message: str) -> Result:
    return Result(stack, address, True, message)


def fail(stack: str, address: str, message: str) -> Result:
    return Result(stack, address, False, message)


def provided_centrally(env, service: str, pillar: str, what: str) -> Result | None:
    """A passed stack-level result when the environment leaves `service` to its organisation's central owner
    (`governance.central`): the stacks create nothing for it, and the report says who provides the control."""
    if not env.config.governance.is_central(service):
        return None
    return ok(env.home_stack(pillar), "", f"{what} is provided centrally for {env.name} "
                                          f"(governance.central: {service}); this project creates none")


def judge(stack: str, address: str, problems: Iterable[str], passed_message: str) -> Result:
    """One result for a resource: failed with all problems joined, or passed."""
    found = [p for p in problems if p]
    if found:
        return fail(stack, address, "; ".join(found))
    return ok(stack, address, passed_message)


@dataclass(frozen=True)
class AppCheck:
    check_id: str
    title: str
    func: Callable[["AppView"], Iterable[Result]]


REGISTRY: CheckRegistry = CheckRegistry("app check", "policies.app_checks", r"AEGIS_[A-Z0-9_]+", "AEGIS_<NAME>",
                                        origin=lambda check: check.func)


def app_check(check_id: str, title: str):
    """Register a check function under `check_id` (must be unique and match `AEGIS_<NAME>`)."""
    REGISTRY.check_id(check_id)

    def register(func):
        REGISTRY.add(check_id, AppCheck(check_id, title, func))
        return func

    return register
