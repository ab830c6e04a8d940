"""AEGIS_CONFIG_RECORDER_ENV: AWS Config records everything, is switched on, and delivers to the
audit bucket with the audit key.

The home-region recorder records all supported types including global ones (IAM); recorders in
other regions must not record global types again (duplicates and cost). The recorder must be
enabled (`aws_config_configuration_recorder_status.is_enabled`), and its delivery channel must
write to the environment's audit bucket encrypted with the audit key: the configuration history
is audit evidence. An environment without a recorder fails, unless it declares recording provided centrally
(`governance.central`).
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge, provided_centrally
from policies.app_checks.lookups import key_class_of
from policies.app_checks.view import AppView, one, ref
from policies.checks.aegis_values import is_true


@app_check("AEGIS_CONFIG_RECORDER_ENV",
           "AWS Config records all resources (global in the home region), is on, delivers to the audit bucket")
def config_recorder_env(app: AppView):
    for env in app.envs:
        central = provided_centrally(env, "config", "governance", "AWS Config recording")
        if central:
            yield central
            continue
        recorders = list(env.resources("aws_config_configuration_recorder"))
        if not any(not c.get("provider") for _, _, c in recorders):
            yield fail(env.home_stack("governance"), "", f"no AWS Config recorder in {env.name}'s home region")
        for stack, name, conf in recorders:
            yield judge(stack.name, f"aws_config_configuration_recorder.{name}", _problems(env, stack, name, conf),
                        "recording all resources, enabled, delivering to the audit bucket")


def _problems(env, stack, name, conf):
    home = not conf.get("provider")
    group = one(conf, "recording_group") or {}
    if not is_true(group.get("all_supported")):
        yield "recording_group.all_supported is not true"
    if home and not is_true(group.get("include_global_resource_types")):
        yield "the home-region recorder does not record global resource types (IAM)"
    if not home and is_true(group.get("include_global_resource_types")):
        yield "a non-home recorder records global resource types again"
    statuses = [c for c in stack.resources("aws_config_configuration_recorder_status").values()
                if _names(stack, c.get("name"), name, conf)]
    if not any(is_true(c.get("is_enabled")) for c in statuses):
        yield "the recorder is not enabled (no aws_config_configuration_recorder_status with is_enabled = true)"
    channels = list(stack.resources("aws_config_delivery_channel").values())
    channels = [c for c in channels if c.get("provider") == conf.get("provider")]
    audit = env.naming.bucket("audit")
    if not channels:
        yield "no delivery channel"
    for channel in channels:
        if stack.resolve(channel.get("s3_bucket_name")) != audit:
            yield f"the delivery channel writes to {channel.get('s3_bucket_name')!r}, not the audit bucket {audit}"
        if key_class_of(env, stack, channel.get("s3_kms_key_arn")) != "audit":
            yield "the delivery channel does not encrypt with the audit key"


def _names(stack, raw, recorder_name, recorder):
    found = ref(raw)
    if found:
        return found[:2] == ("aws_config_configuration_recorder", recorder_name)
    return raw == recorder.get("name") and raw is not None
