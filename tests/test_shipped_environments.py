"""The files in environments/ themselves, as shipped or as a user changed them (README "How to"): every other
test judges the copy the tests know (tests/fixtures/environments), so adding a model or an environment breaks
nothing else. These tests say what to update when they fail."""
from __future__ import annotations

import yaml

from modules.config import env_files, load_all
from modules.errors import ConfigError
from tests.conftest import SHIPPED_ENVIRONMENTS

PLAN_WORKFLOW = SHIPPED_ENVIRONMENTS.parent / ".github" / "workflows" / "aegis-plan.yml"


def test_the_shipped_environments_are_valid():
    try:
        configs = load_all((), SHIPPED_ENVIRONMENTS)
    except ConfigError as exc:
        problems = "\n".join(str(p) for p in exc.problems)
        raise AssertionError(f"environments/ does not load; fix these (`python main.py validate` lists them):\n"
                             f"{problems}") from None
    assert {c.name for c in configs} == set(env_files(SHIPPED_ENVIRONMENTS))


def test_every_shipped_environment_is_planned_by_ci():
    plan = yaml.safe_load(PLAN_WORKFLOW.read_text(encoding="utf-8"))["jobs"]["plan"]
    planned = {item["env"]: item["role"] for item in plan["strategy"]["matrix"]["include"]}
    shipped = set(env_files(SHIPPED_ENVIRONMENTS))
    missing, extra = sorted(shipped - set(planned)), sorted(set(planned) - shipped)
    assert not missing, (f"environment(s) {', '.join(missing)} are not planned by CI: add `- env: <name>` with "
                         "`role: AWS_PLAN_ROLE_ARN_<NAME>` to the matrix of .github/workflows/aegis-plan.yml "
                         "(README: Add an environment)")
    assert not extra, (f".github/workflows/aegis-plan.yml plans {', '.join(extra)}, which environments/ does not "
                       "have: remove it from the matrix")
    for env, role in planned.items():
        assert role == f"AWS_PLAN_ROLE_ARN_{env.upper().replace('-', '_')}", (
            f"the plan role secret of {env} is named AWS_PLAN_ROLE_ARN_{env.upper().replace('-', '_')}")
