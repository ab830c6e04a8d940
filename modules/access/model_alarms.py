"""Per-model alarms, by the metric family of the model's serving kind (modules/serving.py), and one
composite alarm per model. All notify the alert topic.

- SageMaker endpoints (real-time and serverless): p99 ModelLatency, 5XX and 4XX error rates, and
  invocations outside an anomaly-detection band.
- Lambda functions: error rate, throttles, p99 duration, concurrency against the reserved concurrency.
- EC2 fleets behind an ALB: 5XX count, p99 target response time, unhealthy hosts. The ALB and target
  group are found by their conventional names (`data "aws_lb"`, `data "aws_lb_target_group"`), so
  no cross-stack reference is needed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from constructs import Construct

from modules import aws
from modules.access.settings import ModelAlarmSettings
from modules.config import EnvConfig
from modules.monitoring import DATA_METRICS_NAMESPACE, DRIFT_ALARM_KEY, DriftWatch, drift_metric, drift_watch
from modules.naming import Naming
from modules.serving import KINDS


@dataclass(frozen=True)
class ModelMetrics:
    """Where one model's serving health is published: its serving kind and CloudWatch dimensions."""

    name: str
    kind: str
    dimensions: Mapping[str, str]
    drift: DriftWatch | None = None  # Model Monitor's drift metrics of the model, if it alarms on them


@dataclass(frozen=True)
class ModelAlarmsProps:
    """- `settings`: thresholds, periods and datapoints (`access.model_alarms`);
    - `kind`: the model's serving kind, which picks the alarm set;
    - `reserved_concurrency`: a Lambda model's reserved concurrency (None: the model sets none, the
      settings' `lambda_reserved_concurrency` applies);
    - `env_name`: named in the composite alarm's description;
    - `drift`: the Model Monitor drift the model alarms on (modules/monitoring.py), if any."""

    naming: Naming
    env_name: str
    settings: ModelAlarmSettings
    model_name: str
    kind: str
    topic_arn: str
    reserved_concurrency: int | None = None
    drift: DriftWatch | None = None

    @classmethod
    def per_model(cls, config: EnvConfig, topic_arn: str) -> list["ModelAlarmsProps"]:
        """One for each model of the environment, in config order."""
        naming = Naming.of(config)
        return [cls(naming=naming, env_name=config.name, settings=config.access.model_alarms, model_name=m.name,
                    kind=m.serving, topic_arn=topic_arn,
                    reserved_concurrency=m.function.reserved_concurrency if m.function else None,
                    drift=drift_watch(naming, m))
                for m in config.platform.models]


class ModelAlarms(Construct):
    def __init__(self, scope: Construct, construct_id: str, props: ModelAlarmsProps):
        super().__init__(scope, construct_id)
        self.props = props
        self.naming, self.settings, self.topic_arn = props.naming, props.settings, props.topic_arn
        self.resource = self.naming.model_resource(props.model_name)
        self.source = KINDS[props.kind].metrics  # where CloudWatch publishes the model's health
        self.alarms: dict[str, object] = {}
        self.dimensions: dict[str, str] = {}  # the model's dimensions, set by its alarm set
        self._ALARM_SETS[self.source.family](self)
        if props.drift is not None:
            self._drift(props.drift)
        self.metrics = ModelMetrics(props.model_name, props.kind, self.dimensions, props.drift)
        self.alarm_names = [self._name(key) for key in self.alarms]
        self.composite_name = self.naming.alarm("model", props.model_name, "health")
        self.composite = aws.cloudwatch_composite_alarm.CloudwatchCompositeAlarm(
            self, "health", alarm_name=self.composite_name,
            alarm_description=f"Any alarm of model {props.model_name} ({props.kind}) in {props.env_name}",
            alarm_rule=" OR ".join(f'ALARM("{n}")' for n in self.alarm_names),
            alarm_actions=[self.topic_arn], ok_actions=[self.topic_arn], depends_on=list(self.alarms.values()))

    # --- helpers ---------------------------------------------------------------------------------

    def _name(self, key: str) -> str:
        return self.naming.alarm("model", self.props.model_name, key)

    def _common(self) -> dict:
        s = self.settings
        return dict(evaluation_periods=s.evaluation_periods, datapoints_to_alarm=s.datapoints_to_alarm,
                    treat_missing_data="notBreaching", alarm_actions=[self.topic_arn])

    def _metric(self, key: str, description: str, *, namespace: str, metric: str, dimensions: dict,
                threshold: float, statistic: str | None = None, extended: str | None = None,
                comparison: str = "GreaterThanThreshold") -> None:
        self.alarms[key] = aws.cloudwatch_metric_alarm.CloudwatchMetricAlarm(
            self, key, alarm_name=self._name(key), alarm_description=description,
            namespace=namespace, metric_name=metric, dimensions=dimensions, period=self.settings.period_seconds,
            statistic=statistic, extended_statistic=extended, threshold=threshold,
            comparison_operator=comparison, **self._common())

    def _query(self, query_id: str, namespace: str, metric: str, dimensions: dict, stat: str,
               return_data: bool = False):
        m = aws.cloudwatch_metric_alarm
        return m.CloudwatchMetricAlarmMetricQuery(
            id=query_id, return_data=return_data, metric=m.CloudwatchMetricAlarmMetricQueryMetric(
                namespace=namespace, metric_name=metric, dimensions=dimensions, stat=stat,
                period=self.settings.period_seconds))

    def _expression(self, key: str, description: str, queries: list, expression: str, threshold: float,
                    label: str) -> None:
        m = aws.cloudwatch_metric_alarm
        result = m.CloudwatchMetricAlarmMetricQuery(id="e1", expression=expression, label=label, return_data=True)
        self.alarms[key] = m.CloudwatchMetricAlarm(
            self, key, alarm_name=self._name(key), alarm_description=description,
            metric_query=[*queries, result], threshold=threshold, comparison_operator="GreaterThanThreshold",
            **self._common())

    def _error_rate(self, key: str, description: str, namespace: str, errors: str, total: str, dims: dict,
                    threshold: float) -> None:
        self._expression(key, description,
                         [self._query("errors", namespace, errors, dims, "Sum"),
                          self._query("total", namespace, total, dims, "Sum")],
                         "IF(total > 0, 100 * errors / total, 0)", threshold, f"{errors} %")

    # --- alarm sets, by metric family ----------------------------------------------------------

    def _endpoint(self) -> None:
        s, ns = self.settings, self.source.namespace
        self.dimensions = dims = self.source.dimensions(self.resource)
        self._metric("latency-p99", f"p99 model latency above {s.latency_p99_ms} ms", namespace=ns,
                     metric="ModelLatency", dimensions=dims, extended="p99",
                     threshold=s.latency_p99_ms * 1000)  # ModelLatency is in microseconds
        self._error_rate("5xx-rate", f"5XX errors above {s.error_rate_5xx_percent}% of invocations", ns,
                         "Invocation5XXErrors", "Invocations", dims, s.error_rate_5xx_percent)
        self._error_rate("4xx-rate", f"4XX errors above {s.error_rate_4xx_percent}% of invocations", ns,
                         "Invocation4XXErrors", "Invocations", dims, s.error_rate_4xx_percent)
        m = aws.cloudwatch_metric_alarm
        band = m.CloudwatchMetricAlarmMetricQuery(
            id="band", expression=f"ANOMALY_DETECTION_BAND(invocations, {s.anomaly_band_width:g})",
            label="Invocations (expected)", return_data=True)
        invocations = self._query("invocations", ns, "Invocations", dims, "Sum", return_data=True)
        self.alarms["invocations-anomaly"] = m.CloudwatchMetricAlarm(
            self, "invocations-anomaly", alarm_name=self._name("invocations-anomaly"),
            alarm_description=f"Invocations outside the expected band ({s.anomaly_band_width:g} standard deviations)",
            metric_query=[invocations, band], threshold_metric_id="band",
            comparison_operator="LessThanLowerOrGreaterThanUpperThreshold", **self._common())

    def _function(self) -> None:
        s, ns = self.settings, self.source.namespace
        self.dimensions = dims = self.source.dimensions(self.resource)
        self._error_rate("error-rate", f"errors above {s.lambda_errors_percent}% of invocations", ns,
                         "Errors", "Invocations", dims, s.lambda_errors_percent)
        self._metric("throttles", "invocations throttled", namespace=ns, metric="Throttles", dimensions=dims,
                     statistic="Sum", threshold=0)
        self._metric("duration-p99", f"p99 duration above {s.lambda_duration_p99_ms} ms", namespace=ns,
                     metric="Duration", dimensions=dims, extended="p99", threshold=s.lambda_duration_p99_ms)
        reserved = self.props.reserved_concurrency
        if reserved is None:
            reserved = s.lambda_reserved_concurrency
        self._expression("concurrency", f"concurrency above {s.lambda_concurrency_percent:g}% of the reserved {reserved}",
                         [self._query("concurrent", ns, "ConcurrentExecutions", dims, "Maximum")],
                         f"100 * concurrent / {reserved}", s.lambda_concurrency_percent, "Reserved concurrency used %")

    def _load_balancer(self) -> None:
        s, ns = self.settings, self.source.namespace
        lb = aws.data_aws_lb.DataAwsLb(self, "alb", name=self.naming.load_balancer(self.props.model_name))
        tg = aws.data_aws_lb_target_group.DataAwsLbTargetGroup(
            self, "target-group", name=self.naming.target_group(self.props.model_name))
        self.dimensions = lb_dims = self.source.dimensions(lb.arn_suffix)
        tg_dims = {**lb_dims, "TargetGroup": tg.arn_suffix}
        self._expression("5xx", f"more than {s.alb_5xx_count} 5XX responses (targets and load balancer)",
                         [self._query("target", ns, "HTTPCode_Target_5XX_Count", lb_dims, "Sum"),
                          self._query("elb", ns, "HTTPCode_ELB_5XX_Count", lb_dims, "Sum")],
                         "FILL(target, 0) + FILL(elb, 0)", s.alb_5xx_count, "5XX responses")
        self._metric("response-time-p99", f"p99 target response time above {s.target_response_time_p99_s:g} s",
                     namespace=ns, metric="TargetResponseTime", dimensions=tg_dims, extended="p99",
                     threshold=s.target_response_time_p99_s)
        self._metric("unhealthy-hosts", "unhealthy targets behind the load balancer", namespace=ns,
                     metric="UnHealthyHostCount", dimensions=tg_dims, statistic="Maximum", threshold=0)

    def _drift(self, drift: DriftWatch) -> None:
        """The largest drift of the watched features from the baseline, per monitoring run. A run that
        publishes nothing (no traffic captured) is no evidence of drift."""
        m = aws.cloudwatch_metric_alarm
        ids = [f"d{i}" for i in range(len(drift.features))]
        queries = [m.CloudwatchMetricAlarmMetricQuery(
            id=query_id, return_data=False, metric=m.CloudwatchMetricAlarmMetricQueryMetric(
                namespace=DATA_METRICS_NAMESPACE, metric_name=drift_metric(feature), dimensions=drift.dimensions,
                stat="Maximum", period=drift.period_seconds)) for query_id, feature in zip(ids, drift.features, strict=True)]
        result = m.CloudwatchMetricAlarmMetricQuery(
            id="e1", expression=f"MAX([{', '.join(ids)}])", label="Largest feature drift", return_data=True)
        self.alarms[DRIFT_ALARM_KEY] = m.CloudwatchMetricAlarm(
            self, DRIFT_ALARM_KEY, alarm_name=self._name(DRIFT_ALARM_KEY),
            alarm_description=(f"Model Monitor: drift of {', '.join(drift.features)} from the baseline above "
                               f"{drift.threshold:g} (schedule {drift.schedule})"),
            metric_query=[*queries, result], threshold=drift.threshold, comparison_operator="GreaterThanThreshold",
            evaluation_periods=1, datapoints_to_alarm=1, treat_missing_data="notBreaching",
            alarm_actions=[self.topic_arn], ok_actions=[self.topic_arn])

    _ALARM_SETS = {"endpoint": _endpoint, "function": _function, "load-balancer": _load_balancer}
