"""The AWS service-linked roles that the data keys name as principals, in place before the keys.

KMS refuses a key policy whose principal is a role that does not exist (MalformedPolicyDocument),
and these roles appear only when their service first needs them: Auto Scaling's when the first
group launches (after `<env>-platform`), Macie's when Macie is enabled (`<env>-governance`). So
`<env>-data` creates them, or, where the account already has them, looks them up (a missing role
then stops the plan); each key that names a role depends on it.
"""
from __future__ import annotations

from constructs import Construct

from modules import aws
from modules.data.key_users import AUTOSCALING, MACIE, SERVICE_LINKED_KEYS, ServiceLinkedRole
from modules.data.settings import ServiceLinkedRoleSettings

DESCRIPTIONS = {
    AUTOSCALING: "EC2 Auto Scaling: named in the EBS key policy for the GPU fleet's encrypted volumes",
    MACIE: "Amazon Macie: named in the datasets and inference key policies for the classification job",
}


class ServiceLinkedRoles(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: ServiceLinkedRoleSettings):
        super().__init__(scope, construct_id)
        self.resources: dict[ServiceLinkedRole, object] = {}
        for role, mode in ((AUTOSCALING, settings.autoscaling), (MACIE, settings.macie)):
            construct_id = role.service.split(".", 1)[0]
            if mode == "create":
                self.resources[role] = aws.iam_service_linked_role.IamServiceLinkedRole(
                    self, construct_id, aws_service_name=role.service, description=DESCRIPTIONS[role])
            else:
                self.resources[role] = aws.data_aws_iam_role.DataAwsIamRole(self, construct_id, name=role.name)

    def needed_by(self, key_class: str) -> list:
        """What a key of this class must depend on: the roles its policy names."""
        return [self.resources[role] for role, classes in SERVICE_LINKED_KEYS.items() if key_class in classes]
