"""AEGIS_PLAN_ENDPOINT_DEGRADED: a SageMaker endpoint must not lose data capture or autoscaling.

Data capture: an endpoint configuration that captured (`data_capture_config` with
`enable_capture` true or unset) must keep capturing when it is updated or replaced; an endpoint
switched to another configuration is judged by comparing the old configuration (from the plan's
`before` values or prior state) with the new one.

Autoscaling: destroying the scalable target or a scaling policy of a SageMaker variant
(`service_namespace = "sagemaker"`) while its endpoint stays, or narrowing the target so that
`max_capacity` ≤ `min_capacity`, removes the endpoint's ability to scale.
"""
from __future__ import annotations

from policies.plan.plan_checks._base import PlanCheck, fail, ok, plan_check, unknown, verdict

CONFIG = "aws_sagemaker_endpoint_configuration"
ENDPOINT = "aws_sagemaker_endpoint"
TARGET = "aws_appautoscaling_target"
POLICY = "aws_appautoscaling_policy"


def captures(config: dict | None) -> bool:
    if not isinstance(config, dict):
        return False
    blocks = config.get("data_capture_config") or []
    blocks = blocks if isinstance(blocks, list) else [blocks]
    return any(isinstance(b, dict) and b.get("enable_capture") in (None, True) for b in blocks)


def _endpoint_name(resource_id: str | None) -> str | None:
    """`endpoint/<name>/variant/<variant>` → name."""
    parts = (resource_id or "").split("/")
    return parts[1] if len(parts) >= 2 and parts[0] == "endpoint" else None


@plan_check
class EndpointDegraded(PlanCheck):
    id = "AEGIS_PLAN_ENDPOINT_DEGRADED"
    types = (CONFIG, ENDPOINT, TARGET, POLICY)

    def judge(self, rc, ctx):
        if not rc.existed or rc.kind not in ("update", "replace", "delete"):
            return
        if rc.type == CONFIG:
            yield from self._config(rc)
        elif rc.type == ENDPOINT:
            yield from self._endpoint(rc, ctx)
        elif rc.before.get("service_namespace") == "sagemaker":
            yield from self._scaling(rc, ctx)

    def _config(self, rc):
        if rc.kind == "delete" or not captures(rc.before):
            return
        name = rc.before.get("name") or rc.address
        if unknown(rc, "data_capture_config"):
            yield fail(rc, f"data capture of endpoint configuration {name} is known only after apply")
        elif not captures(rc.after):
            yield fail(rc, f"endpoint configuration {name} stops capturing inference data (data_capture_config "
                           "removed or enable_capture false)")
        else:
            yield ok(rc, f"endpoint configuration {name} keeps data capture")

    def _endpoint(self, rc, ctx):
        if rc.kind == "delete":
            return
        old, new = rc.before.get("endpoint_config_name"), (rc.after or {}).get("endpoint_config_name")
        if not old or old == new:
            return
        configs = self._configs(ctx)
        if not captures(configs.get(("before", old))):
            return
        name = rc.before.get("name") or rc.address
        if unknown(rc, "endpoint_config_name") or ("after", new) not in configs:
            yield fail(rc, f"endpoint {name} moves to a configuration the plan does not show: data capture "
                           "cannot be shown to continue")
        elif not captures(configs[("after", new)]):
            yield fail(rc, f"endpoint {name} moves from {old} (captures data) to {new}, which does not capture")
        else:
            yield ok(rc, f"endpoint {name} keeps data capture ({old} → {new})")

    @staticmethod
    def _configs(ctx) -> dict[tuple[str, str], dict]:
        out: dict[tuple[str, str], dict] = {}
        for res in ctx.plan.prior.values():
            vals = res.get("values")
            if res.get("type") == CONFIG and isinstance(vals, dict) and vals.get("name"):
                out[("before", vals["name"])] = vals
        for rc in ctx.changes(CONFIG):
            if rc.existed and rc.before.get("name"):
                out[("before", rc.before["name"])] = rc.before
            if rc.remains and isinstance(rc.after, dict) and rc.after.get("name"):
                out[("after", rc.after["name"])] = rc.after
        return out

    def _scaling(self, rc, ctx):
        endpoint = _endpoint_name(rc.before.get("resource_id"))
        what = "scalable target" if rc.type == TARGET else f"scaling policy {rc.before.get('name') or ''}".strip()
        if rc.kind == "delete":
            if endpoint and ctx.destroys(ENDPOINT, endpoint):
                yield ok(rc, f"{what} removed together with endpoint {endpoint}")
            else:
                yield fail(rc, f"{what} of endpoint {endpoint or rc.before.get('resource_id')} is destroyed: the "
                               "endpoint stops scaling with load")
            return
        if rc.type != TARGET:
            return
        after = rc.after or {}
        low, high = after.get("min_capacity"), after.get("max_capacity")
        was_high, was_low = rc.before.get("max_capacity"), rc.before.get("min_capacity")
        collapsed = (isinstance(low, (int, float)) and isinstance(high, (int, float)) and high <= low
                     and isinstance(was_high, (int, float)) and isinstance(was_low, (int, float)) and was_high > was_low)
        yield verdict(rc, [f"autoscaling of endpoint {endpoint} collapses to a fixed size ({low}..{high}, was "
                           f"{was_low}..{was_high})" if collapsed else ""],
                      f"endpoint {endpoint} keeps autoscaling ({low}..{high})")
