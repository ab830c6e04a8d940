"""The training execution role SageMaker training, processing and tuning jobs run as, and the log
groups those jobs write to (created here encrypted and with retention: otherwise SageMaker creates
them on first write, unencrypted and kept forever).

The role reads the datasets and writes its output and Spot checkpoints under `models/_training/` and
`models/_checkpoints/` of the model-artifacts bucket, nothing else (modules/training.py). The data-scientist persona and the Studio
roles pass it, to SageMaker only. Where the environment has a training data store, processing jobs
(not network-isolated, unlike training and tuning jobs) connect to it as the database user
`training_job` with an IAM token (`rds-db:connect`), through the training security group's rule on 5432.
"""
from __future__ import annotations

from constructs import Construct

from modules.platform.context import PlatformContext
from modules.platform.log_group import encrypted_log_group
from modules.platform.service_roles import ServiceRole
from modules.training import (
    JOB_DB_PERSONA,
    JOB_LOG_GROUPS,
    TRAINING_ROLE,
    connect_to_data_store,
    training_execution_statements,
)


class TrainingExecution(Construct):
    def __init__(self, scope: Construct, construct_id: str, ctx: PlatformContext, *, data_store: bool = False):
        super().__init__(scope, construct_id)
        n = ctx.naming
        self.role = ServiceRole(
            self, "role", naming=n, purpose=TRAINING_ROLE, service="sagemaker.amazonaws.com",
            description="SageMaker training and processing jobs: datasets in, models/ out",
            statements=[*training_execution_statements(n, f"arn:aws:kms:{n.region}:{n.account_id}:key/*"),
                        *([connect_to_data_store(n, JOB_DB_PERSONA)] if data_store else [])])
        self.log_groups = [
            encrypted_log_group(self, f"log-group-{i}", name=name, kms_key_arn=ctx.keys.audit,
                                retention_days=ctx.log_retention_days, protected=ctx.deletion_protection)
            for i, name in enumerate(JOB_LOG_GROUPS)]
