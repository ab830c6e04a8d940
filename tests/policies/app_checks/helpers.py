"""Small synthesized apps for the app-level check tests: stack dicts shaped like cdk.tf.json."""
from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from modules.naming import STACK_ORDER, Naming
from policies.app_checks import REGISTRY, all_checks
from policies.app_checks.base import Result
from policies.app_checks.view import AppView


@lru_cache(maxsize=None)
def config(name: str):
    from modules.config import load_env

    return load_env(name)


def app(env: str, **pillars: dict) -> dict[str, dict]:
    """Every stack of `env` (empty unless given): `app("dev", platform={"resource": {...}})`."""
    naming = Naming.of(config(env))
    return {naming.stack(p): copy.deepcopy(pillars.get(p, {})) for p in STACK_ORDER}


def resources(**by_type: dict) -> dict:
    return {"resource": by_type}


def run(check_id: str, stacks: dict[str, dict], *envs: str, configs: dict | None = None) -> list[Result]:
    all_checks()
    names = envs or sorted({s.rsplit("-", 1)[0] for s in stacks})
    configs = configs or {n: config(n) for n in names}
    return list(REGISTRY[check_id].func(AppView.build(stacks, configs)))


def with_models(env: str, *models: tuple[str, str]):
    """The environment's config with exactly these (name, serving) models."""
    from modules.platform.settings import ModelSettings

    cfg = config(env)
    chosen = [ModelSettings.model_construct(name=name, serving=serving) for name, serving in models]
    return cfg.model_copy(update={"platform": cfg.platform.model_copy(update={"models": chosen})})


def verdict(results: list[Result], address: str, stack: str | None = None) -> bool:
    """Passed/failed of the single result for `address` (and stack)."""
    found = [r for r in results if r.address == address and (stack is None or r.stack == stack)]
    assert len(found) == 1, f"expected one result for {address}, got {found}"
    return found[0].passed


def failures(results: list[Result]) -> list[str]:
    return [f"{r.stack} {r.address}: {r.message}" for r in results if not r.passed]


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


BROKEN = Path(__file__).resolve().parent.parent / "fixtures" / "broken"


def broken(name: str) -> dict[str, dict]:
    """The stacks of a broken fixture (tests/policies/fixtures/broken/), every other stack of its environment empty."""
    stacks = json.loads((BROKEN / f"{name}.json").read_text())["stacks"]
    env = next(iter(stacks)).rsplit("-", 1)[0]
    return {**app(env), **copy.deepcopy(stacks)}


def fails_on(results, address: str, stack: str | None = None) -> str:
    """The message of the failure on `address` (and stack); asserts there is one."""
    found = [r for r in results if r.address == address and (stack is None or r.stack == stack) and not r.passed]
    assert found, f"no failure on {stack}/{address}: {[(r.stack, r.address, r.passed) for r in results]}"
    return found[0].message
