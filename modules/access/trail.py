"""The environment's CloudTrail trail.

Multi-region with global service events and log file validation; encrypted with the audit key and
delivered to the object-locked audit bucket under `cloudtrail/` (its bucket policy allows exactly
this trail); streamed to a KMS-encrypted log group for the security metric filters; S3 data events
for the datasets and model-artifact buckets, Lambda data events for this environment's functions;
Insights (API call and error rate) where the config turns them on (always in prod).
"""
from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from modules import aws
from modules.access.log_groups import EncryptedLogGroup, LogGroupProps
from modules.boundary import boundary_arn
from modules.config import EnvConfig
from modules.grants import write_log_streams
from modules.iam_doc import document, statement
from modules.lookups import data_key_arn
from modules.naming import TRAIL_DATA_EVENT_BUCKETS, TRAIL_PREFIX, Naming
from modules.suppress import suppress

DATA_EVENT_BUCKETS = TRAIL_DATA_EVENT_BUCKETS  # the Config rule list scopes its S3 data-events rule to these
INSIGHT_TYPES = ("ApiCallRateInsight", "ApiErrorRateInsight")


def delivery_trust(naming) -> str:
    """CloudTrail may assume the delivery role only for this trail (confused-deputy protection)."""
    return document(statement(
        "TrustCloudTrailForThisTrail", "Allow", "sts:AssumeRole", principal={"Service": "cloudtrail.amazonaws.com"},
        condition={"StringEquals": {"aws:SourceAccount": naming.account_id, "aws:SourceArn": naming.trail_arn()}}))


def delivery_policy(log_group_arn: str) -> str:
    return document(write_log_streams("DeliverTrailEvents", log_group_arn))


@dataclass(frozen=True)
class TrailProps:
    """- `env_name`: named in the delivery role's description;
    - `log_group`: the log group the trail streams to (for the security metric filters);
    - `lambda_data_events`: record invocations of this environment's functions (`access.trail`);
    - `insights`: API call and error rate Insights (`access.trail.insights`, default on in prod)."""

    naming: Naming
    env_name: str
    log_group: LogGroupProps
    lambda_data_events: bool
    insights: bool

    @classmethod
    def of(cls, config: EnvConfig) -> "TrailProps":
        naming = Naming.of(config)
        return cls(naming=naming, env_name=config.name,
                   log_group=LogGroupProps.of(config, naming.log_group("cloudtrail")),
                   lambda_data_events=config.access.trail.lambda_data_events,
                   insights=config.access.insights_enabled(config.tier))


class Trail(Construct):
    """Encrypted with the audit key of the stack it is in."""

    def __init__(self, scope: Construct, construct_id: str, props: TrailProps):
        super().__init__(scope, construct_id)
        naming = props.naming
        m = aws.cloudtrail
        self.name = naming.resource("trail")
        self.logs = EncryptedLogGroup(self, "log-group", props.log_group)
        self.role = aws.iam_role.IamRole(
            self, "delivery-role", name=naming.role("cloudtrail-logs"),
            description=f"CloudTrail delivery into the {props.env_name} trail log group",
            assume_role_policy=delivery_trust(naming), permissions_boundary=boundary_arn(naming))
        self.policy = aws.iam_role_policy.IamRolePolicy(self, "delivery-policy", name="deliver-trail-events", role=self.role.id,
                                          policy=delivery_policy(self.logs.arn))

        selectors = [m.CloudtrailAdvancedEventSelector(
            name="Management events", field_selector=[m.CloudtrailAdvancedEventSelectorFieldSelector(
                field="eventCategory", equal_to=["Management"])])]
        selectors.append(m.CloudtrailAdvancedEventSelector(
            name="Dataset and model artifact objects", field_selector=[
                m.CloudtrailAdvancedEventSelectorFieldSelector(field="eventCategory", equal_to=["Data"]),
                m.CloudtrailAdvancedEventSelectorFieldSelector(field="resources.type", equal_to=["AWS::S3::Object"]),
                m.CloudtrailAdvancedEventSelectorFieldSelector(
                    field="resources.ARN", starts_with=[f"{naming.bucket_arn(p)}/" for p in DATA_EVENT_BUCKETS]),
            ]))
        if props.lambda_data_events:
            selectors.append(m.CloudtrailAdvancedEventSelector(
                name="Lambda invocations", field_selector=[
                    m.CloudtrailAdvancedEventSelectorFieldSelector(field="eventCategory", equal_to=["Data"]),
                    m.CloudtrailAdvancedEventSelectorFieldSelector(
                        field="resources.type", equal_to=["AWS::Lambda::Function"]),
                    m.CloudtrailAdvancedEventSelectorFieldSelector(
                        field="resources.ARN",
                        starts_with=[f"arn:aws:lambda:{naming.region}:{naming.account_id}:function:{naming.prefix}-"]),
                ]))
        insights = [m.CloudtrailInsightSelector(insight_type=t) for t in INSIGHT_TYPES] if props.insights else None

        self.trail = m.Cloudtrail(
            self, "trail", name=self.name,
            s3_bucket_name=naming.bucket("audit"), s3_key_prefix=TRAIL_PREFIX,
            kms_key_id=data_key_arn(self, "audit"),
            is_multi_region_trail=True, include_global_service_events=True,
            enable_log_file_validation=True, enable_logging=True,
            cloud_watch_logs_group_arn=f"{self.logs.arn}:*", cloud_watch_logs_role_arn=self.role.arn,
            advanced_event_selector=selectors, insight_selector=insights,
            # CloudTrail checks at creation that it can write to the log group through the role.
            depends_on=[self.logs.log_group, self.policy],
        )

    def watched_by(self, changes_alarm: object | None) -> None:
        """Without per-log-file notifications, delivery is watched through the CloudWatch Logs integration
        and changes raise `changes_alarm` (a metric filter on this trail's log group): only when that alarm
        exists may CKV_AWS_252 be suppressed."""
        if changes_alarm is None:
            return
        suppress(self.trail, "CKV_AWS_252",
                 "Per-log-file delivery notifications are not alerts and would flood the alert topic; delivery "
                 "is watched through the CloudWatch Logs integration, and trail changes raise the "
                 "cloudtrail-changes alarm", "2027-11-30")
