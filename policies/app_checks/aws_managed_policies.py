"""The documents of the AWS managed policies the app attaches, so the gate judges them like inline ones.

An AWS managed policy's document is not in the synthesized JSON; without its content a check that
must read every policy of a role cannot judge the role (NotJudged). Each document here is the default
version named beside it, copied from the AWS Managed Policy Reference; a newer default version at
AWS is what the role really gets, so keep the version noted and update both together.
"""
from __future__ import annotations

# AmazonSSMManagedInstanceCore, version v2 (the default since 2019-05-23).
SSM_MANAGED_INSTANCE_CORE = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Resource": "*", "Action": [
            "ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument",
            "ssm:DescribeDocument", "ssm:GetManifest", "ssm:GetParameter", "ssm:GetParameters",
            "ssm:ListAssociations", "ssm:ListInstanceAssociations", "ssm:PutInventory", "ssm:PutComplianceItems",
            "ssm:PutConfigurePackageResult", "ssm:UpdateAssociationStatus", "ssm:UpdateInstanceAssociationStatus",
            "ssm:UpdateInstanceInformation"]},
        {"Effect": "Allow", "Resource": "*", "Action": [
            "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel"]},
        {"Effect": "Allow", "Resource": "*", "Action": [
            "ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage",
            "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply"]},
    ],
}

KNOWN = {"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore": SSM_MANAGED_INSTANCE_CORE}
