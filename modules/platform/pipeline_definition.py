"""A model family's SageMaker Pipeline definition, rendered from `templates/model_pipeline.json.j2`.

Every job step starts from the environment's training job template (modules/platform/training_template.py
`job_template`): the private subnets and training security group, network isolation, inter-container
traffic encryption, the training key on volumes (left out on local-storage instance types, as the
boundary allows), the model key on outputs, managed Spot with a checkpoint location. What the pipeline
changes is the role (the pipeline-jobs role, not the training role) and where each step writes, per
model and per execution: `models/_pipelines/<model>/` (training output, checkpoints, evaluation
reports) and `models/_baselines/<model>/` of the model-artifacts bucket, the only prefixes that role
writes and that only it may rewrite. A registered version's ModelDataUrl is therefore under
`models/_pipelines/<model>/training/`, which the registry serving path accepts
(modules/platform/registered.py).

The rendered text is parsed and written back with sorted keys, so the same configuration always gives
the same bytes, and a template mistake fails synth instead of reaching SageMaker.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2

from modules.naming import Naming
from modules.platform.training_settings import PipelineSettings
from modules.training import (
    BASELINE_PREFIX,
    PENDING_APPROVAL,
    has_local_storage,
    package_group,
    pipeline_folder,
    pipeline_jobs_role_arn,
    pipeline_name,
    pipeline_training_folder,
)

TEMPLATE = "model_pipeline.json.j2"
# The Evaluate step's script: `code/<it>` of the pipeline's folder, run from /opt/ml/processing/code/.
EVALUATION_SCRIPT = "evaluate.py"


@dataclass(frozen=True)
class PipelineInputs:
    """What a definition is built from: `job` is the training job template of the environment with its
    training key (`job_template(..., training_key=...)`), `training_key` that key's ARN, and
    `analyzer_image` the region's Model Monitor analyzer image."""

    naming: Naming
    model: str
    settings: PipelineSettings
    job: dict
    training_key: str
    analyzer_image: str


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
                             undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
    return env.get_template(TEMPLATE)


def pipeline_definition(inputs: PipelineInputs) -> str:
    n, model, s, job = inputs.naming, inputs.model, inputs.settings, inputs.job
    artifacts, datasets = f"s3://{n.bucket('model-artifacts')}/", f"s3://{n.bucket('datasets')}/{model}/"
    own = f"{artifacts}{pipeline_folder(model)}"
    volume_key = {} if has_local_storage(s.training_instance_type) else {"VolumeKmsKeyId": inputs.training_key}
    cluster_key = {} if has_local_storage(s.processing_instance_type) else {"VolumeKmsKeyId": inputs.training_key}
    text = _template().render(
        pipeline=pipeline_name(n, model), package_group=package_group(n, model), approval_status=PENDING_APPROVAL,
        job=job, role=pipeline_jobs_role_arn(n), evaluation_script=EVALUATION_SCRIPT, analyzer_image=inputs.analyzer_image, evaluation=s.evaluation,
        processing_max_run_seconds=s.processing_max_run_seconds,
        training_resources={"InstanceType": s.training_instance_type, "InstanceCount": s.training_instance_count,
                            "VolumeSizeInGB": s.volume_size_gb, **volume_key},
        processing_cluster={"InstanceType": s.processing_instance_type, "InstanceCount": 1,
                            "VolumeSizeInGB": s.volume_size_gb, **cluster_key},
        network={"VpcConfig": job["VpcConfig"], "EnableNetworkIsolation": True,
                 "EnableInterContainerTrafficEncryption": job["EnableInterContainerTrafficEncryption"]},
        data={"train": f"{datasets}train/", "test": f"{datasets}test/", "baseline": f"{datasets}baseline/"},
        paths={"training_output": f"{artifacts}{pipeline_training_folder(model)}", "checkpoints": f"{own}checkpoints/",
               # The script's own key, not the code/ folder: S3Prefix then fetches only keys that start
               # with it, so a module added next to it cannot shadow what the script imports.
               "code": f"{own}code/{EVALUATION_SCRIPT}", "evaluation": f"{own}evaluation/",
               "baseline": f"{artifacts}{BASELINE_PREFIX}{model}/"})
    return json.dumps(json.loads(text), sort_keys=True)
