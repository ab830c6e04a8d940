"""CKV_AEGIS_41: a container started by a launch template is never handed AWS resources it cannot reach.

With IMDSv2 and `http_put_response_hop_limit = 1` (CKV_AEGIS_5), a container on Docker's bridge
network is one network hop too far from the instance metadata service: it gets no instance-role
credentials. That is the point of hop limit 1, but a container handed an `s3://` location (or an
`arn:aws:` resource) to fetch itself then fails at boot and the instance never serves. The host,
which can reach the credentials, must stage what the container needs and mount it (the GPU fleet's
boot script does); otherwise the container needs `--network host` (or hop limit 2, which CKV_AEGIS_5
refuses). A check cannot see inside the image, so it judges what the user data hands the container.
User data that cannot be read fails (not judged); a template that runs no container is not judged
(UNKNOWN). Not environment-dependent.
"""
from checkov.common.models.enums import CheckCategories, CheckResult

try:
    from policies.checks.aegis_checklib import AegisCheck, as_int, block, value
    from policies.checks.aegis_user_data import container_runs, script
except ImportError:  # loaded by plain checkov from this folder
    from aegis_checklib import AegisCheck, as_int, block, value
    from aegis_user_data import container_runs, script

AWS_LOCATIONS = ("s3://", "arn:aws:", "arn:aws-")
DEFAULT_HOP_LIMIT = 1  # launch templates that leave it unset get EC2's default of 1


class LaunchTemplateContainerCredentials(AegisCheck):
    def __init__(self) -> None:
        super().__init__(
            "CKV_AEGIS_41", "A container in launch template user data is not handed AWS resources it has no credentials for",
            ["aws_launch_template"], [CheckCategories.IAM, CheckCategories.AI_AND_ML])

    def evaluate(self, conf):
        self.evaluated_keys = ["user_data", "metadata_options"]
        raw = value(conf, "user_data")
        if raw is None:
            return self.not_applicable()
        text = script(raw)
        if text is None:
            return self.unreadable(raw, "user_data is not a literal script this check can read: its containers")
        runs = container_runs(text)
        if not runs:
            return self.not_applicable()
        metadata = block(conf, "metadata_options") or {}
        imds_on = value(metadata, "http_endpoint", "enabled") != "disabled"
        hops = as_int(value(metadata, "http_put_response_hop_limit", DEFAULT_HOP_LIMIT)) or DEFAULT_HOP_LIMIT
        for run in runs:
            if imds_on and (hops >= 2 or run.host_network):
                continue  # the container reaches the instance role's credentials
            handed = [arg for arg in run.args if any(loc in arg for loc in AWS_LOCATIONS)]
            if handed:
                why = "the metadata service is off" if not imds_on else (
                    f"on Docker's bridge network with hop limit {hops} it cannot reach the instance role's credentials")
                return self.fail(f"container {run.image or '?'} is handed {handed[0]!r}, but {why}: stage it on the "
                                 "host and mount it read-only")
        return CheckResult.PASSED


check = LaunchTemplateContainerCredentials()
