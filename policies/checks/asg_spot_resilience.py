"""CKV_AEGIS_21: a GPU fleet that uses Spot keeps serving through interruptions.

GPU Spot capacity is scarce and reclaimed often; an inference fleet must pick pools by capacity
(`price-capacity-optimized`, `capacity-optimized[-prioritized]`, not `lowest-price`) and replace
instances at risk before they go (`capacity_rebalance = true`). When the group sits behind a load
balancer it must use ELB health checks so a crashed model server is replaced, not just a dead VM.
Groups that run only On-Demand are not judged for Spot (only the health check).
Not environment-dependent; the prod On-Demand base is judged by AEGIS_PROD_GPU_ON_DEMAND_BASE.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, as_int, as_list, block, blocks, is_true, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, as_int, as_list, block, blocks, is_true, value

CAPACITY_AWARE = ("price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized")


class AsgSpotResilience(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_21", "Auto Scaling group using Spot is capacity-aware, rebalances and uses ELB health checks",
            ["aws_autoscaling_group"], [CheckCategories.BACKUP_AND_RECOVERY, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        self.evaluated_keys = ["mixed_instances_policy", "capacity_rebalance", "health_check_type"]
        behind_lb = as_list(value(conf, "target_group_arns")) or blocks(conf, "traffic_source")
        if behind_lb and value(conf, "health_check_type") != "ELB":
            return self.fail("the group serves behind a load balancer but health_check_type is not ELB")
        distribution = block(block(conf, "mixed_instances_policy"), "instances_distribution")
        if distribution is None:
            return CheckResult.PASSED  # no mixed-instances distribution: On-Demand only
        above_base = value(distribution, "on_demand_percentage_above_base_capacity", 100)
        if as_int(above_base) == 100:
            return CheckResult.PASSED  # On-Demand only
        if value(distribution, "spot_allocation_strategy") not in CAPACITY_AWARE:
            return self.fail(f"spot_allocation_strategy {value(distribution, 'spot_allocation_strategy')!r} "
                             f"is not one of {', '.join(CAPACITY_AWARE)}")
        if not is_true(value(conf, "capacity_rebalance")):
            return self.fail("the group uses Spot without capacity_rebalance = true")
        return CheckResult.PASSED


check = AsgSpotResilience()
