"""AEGIS_TRAIL_DATA_EVENTS: CloudTrail records object reads and writes of the training-data and
model-artifact buckets.

Who downloaded a dataset, who replaced model weights: management events do not say, only S3 data
events do. A logging trail of the environment must cover every object (read and write) of the
`datasets` and `model-artifacts` buckets, through basic event selectors (`AWS::S3::Object` with
the bucket ARN, or all of S3) or advanced selectors (`eventCategory = Data`,
`resources.type = AWS::S3::Object`, optionally `resources.ARN` starting with the bucket).
Selectors narrowed by other fields or exclusions are not counted (they may miss events).
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.view import AppView, nested
from policies.checks.aegis_values import as_list

BUCKETS = ("datasets", "model-artifacts")
ALL_S3 = ("arn:aws:s3", "arn:aws:s3:::")


@app_check("AEGIS_TRAIL_DATA_EVENTS", "CloudTrail records S3 data events for the datasets and model-artifacts buckets")
def trail_data_events(app: AppView):
    for env in app.envs:
        trails = list(env.resources("aws_cloudtrail"))
        if not trails:
            yield fail(env.home_stack("access"), "", f"environment {env.name} has no CloudTrail trail")
            continue
        objects = {p: f"arn:aws:s3:::{env.naming.bucket(p)}/" for p in BUCKETS}
        covered: set[tuple[str, str]] = set()
        for _, _, trail in trails:
            if trail.get("enable_logging") is not False:
                covered |= _coverage(trail, objects)
        wanted = {(p, rw) for p in BUCKETS for rw in ("read", "write")}
        stack, name, _ = trails[0]
        missing = sorted(wanted - covered)
        yield judge(stack.name, f"aws_cloudtrail.{name}",
                    [f"no trail records {rw} data events of the {p} bucket" for p, rw in missing],
                    "S3 data events of the datasets and model-artifacts buckets are recorded")


def _coverage(trail: dict, objects: dict[str, str]) -> set[tuple[str, str]]:
    covered = set()
    for selector in nested(trail, "event_selector"):
        kinds = {"All": ("read", "write"), "ReadOnly": ("read",), "WriteOnly": ("write",)}
        modes = kinds.get(selector.get("read_write_type", "All"), ())
        for resource in nested(selector, "data_resource"):
            if resource.get("type") != "AWS::S3::Object":
                continue
            for purpose, prefix in objects.items():
                if any(isinstance(v, str) and (v in ALL_S3 or prefix.startswith(v)) and v.startswith("arn:aws:s3")
                       for v in as_list(resource.get("values"))):
                    covered |= {(purpose, m) for m in modes}
    for selector in nested(trail, "advanced_event_selector"):
        fields = {f.get("field"): f for f in nested(selector, "field_selector")}
        if (_equals(fields.get("eventCategory")) != ["Data"]
                or _equals(fields.get("resources.type")) != ["AWS::S3::Object"]):
            continue
        if set(fields) - {"eventCategory", "resources.type", "resources.ARN", "readOnly"}:
            continue  # narrowed by event name, user, … : may miss events
        read_only = _equals(fields.get("readOnly"))
        modes = {None: ("read", "write"), "true": ("read",), "false": ("write",)}.get(
            str(read_only[0]).lower() if read_only and len(read_only) == 1 else None, ())
        arn = fields.get("resources.ARN")
        for purpose, prefix in objects.items():
            if arn is None or (set(arn) <= {"field", "starts_with"}
                               and any(prefix.startswith(p) for p in as_list(arn.get("starts_with")))):
                covered |= {(purpose, m) for m in modes}
    return covered


def _equals(field: dict | None) -> list | None:
    if field is None:
        return None
    return [str(v) for v in as_list(field.get("equal_to", field.get("equals")))]
