"""CKV_AEGIS_16: the AWS Config recorder records every supported resource type.

Continuous compliance over the AI platform (endpoints, models, notebooks, keys, buckets) needs the
recorder to see all of it; a resource-type list silently misses every type added later (new
SageMaker resource types appear often). Required: an explicit `recording_group` with
`all_supported = true`, no `resource_types` list, no exclusions, and a recording strategy (if set)
of ALL_SUPPORTED_RESOURCE_TYPES. Global types in the home region are judged by AEGIS_CONFIG_RECORDER_ENV.
Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, as_list, block, blocks, is_true, value
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, as_list, block, blocks, is_true, value


class ConfigRecorderAllResources(AegisCheck):
    # checkov's own checks of the same control (all resource types).
    duplicates = ("CKV2_AWS_48",)

    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_16", "AWS Config recorder records all supported resource types",
            ["aws_config_configuration_recorder"], [CheckCategories.LOGGING])

    def evaluate(self, conf):
        self.evaluated_keys = ["recording_group"]
        group = block(conf, "recording_group")
        if group is None:
            return self.fail("no explicit recording_group (all_supported = true)")
        if not is_true(value(group, "all_supported")):
            return self.fail("recording_group.all_supported is not true")
        if as_list(value(group, "resource_types")):
            return self.fail("recording_group lists resource_types: only those types are recorded")
        for exclusion in blocks(group, "exclusion_by_resource_types"):
            if as_list(value(exclusion, "resource_types")):
                return self.fail("recording_group excludes resource types")
        strategy = block(group, "recording_strategy")
        if strategy is not None and value(strategy, "use_only") not in (None, "ALL_SUPPORTED_RESOURCE_TYPES"):
            return self.fail(f"recording_strategy.use_only is {value(strategy, 'use_only')}")
        return CheckResult.PASSED


check = ConfigRecorderAllResources()
