"""What the pipeline checks share: the steps of a SageMaker Pipeline definition, nested ones included.

A definition is the JSON text of `aws_sagemaker_pipeline.pipeline_definition`; a Condition step holds
further steps in `IfSteps` and `ElseSteps`. A definition that is not literal JSON (or is kept in S3,
`pipeline_definition_s3_location`) cannot be read: the checks fail it, never pass it.
"""
from __future__ import annotations

import json
from typing import Any, Iterator


class Unreadable(Exception):
    """The pipeline's definition cannot be judged (not literal JSON, or not in the configuration)."""


def definition_of(conf: dict) -> dict:
    raw = conf.get("pipeline_definition")
    if not isinstance(raw, str):
        where = "in S3 (pipeline_definition_s3_location)" if conf.get("pipeline_definition_s3_location") else "absent"
        raise Unreadable(f"the pipeline definition is {where}: not judged")
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise Unreadable(f"the pipeline definition is not JSON ({exc.msg} at character {exc.pos}): not judged") from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("Steps"), list):
        raise Unreadable("the pipeline definition has no Steps list: not judged")
    return parsed


def steps(definition: dict) -> Iterator[dict]:
    """Every step, depth first (a Condition step, then its IfSteps and ElseSteps)."""
    pending: list[Any] = list(definition.get("Steps") or [])
    while pending:
        step = pending.pop(0)
        if not isinstance(step, dict):
            continue
        yield step
        if step.get("Type") == "Condition":
            arguments = step.get("Arguments") or {}
            pending[:0] = [*(arguments.get("IfSteps") or []), *(arguments.get("ElseSteps") or [])]
