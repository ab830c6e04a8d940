"""Service execution roles: named `<project>-<env>-<purpose>`, bounded, trusting one AWS service of
this account only, with one inline policy that lists exactly what the workload needs."""
from __future__ import annotations

import functools
from typing import Any

from constructs import Construct

from modules import aws
from modules.boundary import boundary_arn
from modules.iam_doc import Statement, document, service_trust, statement
from modules.naming import Naming


def plain_trust(service: str) -> str:
    return document(statement("TrustService", "Allow", "sts:AssumeRole", principal={"Service": service}))


class ServiceRole(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, naming: Naming, purpose: str, service: str,
                 statements: list[Statement], description: str, instance_profile: bool = False):
        """`instance_profile`: an EC2 role. EC2 does not pass aws:SourceAccount when it delivers
        instance-profile credentials, so that trust cannot carry the condition; who may attach the
        role is bounded by iam:PassRole scoping instead."""
        super().__init__(scope, construct_id)
        self.role = aws.iam_role.IamRole(
            self, "role", name=naming.role(purpose), description=description,
            assume_role_policy=(plain_trust(service) if instance_profile
                                else service_trust(service, naming.account_id)),
            permissions_boundary=boundary_arn(naming), max_session_duration=3600)
        self.policy: Any = self.add_policy(statements) if statements else None
        self.profile = None
        if instance_profile:
            self.profile = aws.iam_instance_profile.IamInstanceProfile(
                self, "instance-profile", name=naming.role(purpose), role=self.name)

    def add_policy(self, statements: list[Statement]):
        """The role's one inline policy; created later when it names resources made with the role's ARN."""
        self.policy = aws.iam_role_policy.IamRolePolicy(
            self, "policy", role=self.role.id, name="least-privilege", policy=document(*statements))
        return self.policy

    # Read once: each attribute read is a jsii round trip.
    @functools.cached_property
    def arn(self) -> str:
        return self.role.arn

    @functools.cached_property
    def name(self) -> str:
        return self.role.name
