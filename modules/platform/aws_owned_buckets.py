"""AWS-owned S3 buckets that the VPC's workloads and agents download from, by region.

From a private subnet the S3 gateway endpoint is the only path to S3, so its policy must admit
these buckets (`s3:GetObject` only) or the download silently fails. Their requests are not made
by this account's principals: ECR signs image-layer URLs with its own account, and the agents'
downloads may be unauthenticated. So they cannot carry an `aws:PrincipalAccount` condition; the
bucket names are exact, never a wildcard that another account's bucket could match.

Sources (AWS documentation):
- ECR: "Minimum Amazon S3 bucket permissions for Amazon ECR" (Amazon ECR interface VPC endpoints);
  the presigned layer URLs: aws-samples/data-perimeter-policy-examples, vpc_endpoint_policies.
- SSM Agent: "SSM Agent communications with AWS managed S3 buckets" (Systems Manager user guide):
  Linux instances need amazon-ssm-, amazon-ssm-packages-, <region>-birdwatcher-prod (except
  af-south-1 and eu-south-1, which use aws-ssm-distributor-file-), aws-ssm-document-attachments-,
  patch-baseline-snapshot- (me-south-1 has its own name) and aws-ssm-.
- GuardDuty security agent for EC2: "Installing the security agent manually" (GuardDuty user guide):
  `<GuardDuty account>-<region>-guardduty-agent-{rpm,deb}-artifacts`; the owning account differs by
  region and only the regions below are known here (config validation refuses the others where
  the agent would have to come through the endpoint).
"""
from __future__ import annotations

# Regions whose SSM Distributor packages come from aws-ssm-distributor-file-<region>, not birdwatcher.
_DISTRIBUTOR_FILE_REGIONS = ("af-south-1", "eu-south-1")
_PATCH_SNAPSHOT_EXCEPTIONS = {"me-south-1": "patch-baseline-snapshot-me-south-1-uduvl7q8"}

# The AWS account that owns the GuardDuty agent buckets of each region. eu-west-1 is the value of the
# GuardDuty user guide's example; the others are the same buckets as used by public install scripts.
GUARDDUTY_AGENT_BUCKET_OWNERS = {
    "ap-southeast-2": "005257825471",
    "eu-central-1": "323658145986",
    "eu-west-1": "694911143906",
    "us-east-1": "593207742271",
    "us-east-2": "307168627858",
    "us-west-2": "733349766148",
}


def ecr_layer_bucket(region: str) -> str:
    return f"prod-{region}-starport-layer-bucket"


def ssm_agent_buckets(region: str) -> list[str]:
    distributor = (f"aws-ssm-distributor-file-{region}" if region in _DISTRIBUTOR_FILE_REGIONS
                   else f"{region}-birdwatcher-prod")
    return [f"amazon-ssm-{region}", f"amazon-ssm-packages-{region}", distributor,
            f"aws-ssm-document-attachments-{region}",
            _PATCH_SNAPSHOT_EXCEPTIONS.get(region, f"patch-baseline-snapshot-{region}"), f"aws-ssm-{region}"]


def guardduty_agent_buckets(region: str) -> list[str]:
    """Both package formats: the agent's installer picks the one of the instance's distribution."""
    owner = GUARDDUTY_AGENT_BUCKET_OWNERS.get(region)
    if owner is None:
        raise ValueError(f"the GuardDuty agent bucket of region {region} is not known")
    return [f"{owner}-{region}-guardduty-agent-{kind}-artifacts" for kind in ("deb", "rpm")]


def objects(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}/*"
