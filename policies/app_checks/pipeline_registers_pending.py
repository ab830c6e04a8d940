"""AEGIS_PIPELINE_REGISTERS_PENDING: a SageMaker Pipeline registers model versions
PendingManualApproval, never Approved.

Approval is the model-approver's decision (AEGIS_MODEL_APPROVAL_SEPARATED). A RegisterModel step whose
`ModelApprovalStatus` is `Approved`, is left out (the API's default for a versioned package is
PendingManualApproval, but a default is not a decision), or comes from a pipeline parameter (whoever
starts an execution could pass `Approved`) would let a pipeline approve its own output, or try to:
the status must be the literal `PendingManualApproval`. A pipeline with no RegisterModel step passes
(it registers nothing); one whose definition cannot be read fails (not judged).
"""
from __future__ import annotations

from typing import Iterator

from modules.training import PENDING_APPROVAL
from policies.app_checks.base import app_check, judge
from policies.app_checks.pipeline_steps import Unreadable, definition_of, steps
from policies.app_checks.view import AppView


@app_check("AEGIS_PIPELINE_REGISTERS_PENDING",
           "SageMaker Pipeline registers model versions PendingManualApproval, never Approved")
def pipeline_registers_pending(app: AppView):
    for env in app.envs:
        for stack, name, conf in env.resources("aws_sagemaker_pipeline"):
            yield judge(stack.name, f"aws_sagemaker_pipeline.{name}", _problems(conf),
                        "registers versions pending manual approval only")


def _problems(conf: dict) -> Iterator[str]:
    try:
        definition = definition_of(conf)
    except Unreadable as exc:
        yield str(exc)
        return
    for step in steps(definition):
        if step.get("Type") != "RegisterModel":
            continue
        status = (step.get("Arguments") or {}).get("ModelApprovalStatus")
        if status != PENDING_APPROVAL:
            shown = "left out" if status is None else f"{status!r}"
            yield f"step {step.get('Name')!r} registers with ModelApprovalStatus {shown}, not {PENDING_APPROVAL!r}"
