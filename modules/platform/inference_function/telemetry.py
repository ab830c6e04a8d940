"""Structured JSON logs and CloudWatch embedded-metric-format (EMF) records, one JSON object a line.

Logs never contain payload data: callers pass only identifiers, counts, error codes and digests,
and every value is reduced to a short scalar before it is written.
"""
from __future__ import annotations

import json
import sys
import time
from typing import IO, Any

MAX_FIELD_CHARS = 512  # an object key is the longest thing a log line carries


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)[:MAX_FIELD_CHARS]


class Telemetry:
    def __init__(self, model: str, namespace: str, request_id: str = "", stream: IO[str] | None = None,
                 clock=time.time):
        self.model = model
        self.namespace = namespace
        self.request_id = request_id
        self._stream = stream
        self._clock = clock

    @property
    def stream(self) -> IO[str]:
        return self._stream or sys.stdout

    def _write(self, record: dict) -> None:
        self.stream.write(json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n")
        self.stream.flush()

    def log(self, level: str, event: str, **fields: Any) -> None:
        record = {"level": level, "event": event, "model": self.model, "request_id": self.request_id}
        record.update({k: _scalar(v) for k, v in fields.items()})
        self._write(record)

    def security_event(self, kind: str, **fields: Any) -> None:
        """A security-relevant refusal: CRITICAL, with a stable `security.<kind>` event name to alarm on."""
        self.log("CRITICAL", f"security.{kind}", security_event=True, **fields)

    def metrics(self, **counts: int) -> None:
        """One EMF record: CloudWatch turns it into metrics (dimension Model) without a PutMetricData call."""
        record: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(self._clock() * 1000),
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [["Model"]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for name in sorted(counts)],
                }],
            },
            "Model": self.model,
        }
        record.update({name: int(value) for name, value in counts.items()})
        self._write(record)
