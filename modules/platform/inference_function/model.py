"""The built-in reference model, its integrity check and the request schema.

The model is a logistic scorer stored as JSON (no heavy runtime dependency):

    {"format": "aegis-logistic-v1", "features": ["f1", ...], "weights": [w1, ...],
     "bias": b, "threshold": 0.5}

The artifact is trusted only after its SHA-256 matches the digest recorded with it: the object's
`x-amz-meta-sha256` metadata, written when the artifact is published into the object-locked
model-artifacts bucket. Metadata and body come from the same GET, so they belong to the same
object version.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from dataclasses import dataclass

MODEL_FORMAT = "aegis-logistic-v1"
REQUEST_SCHEMA = "aegis.inference.v1"
DIGEST_METADATA_KEY = "sha256"
MAX_MODEL_BYTES = 8 * 1024 * 1024
MAX_FEATURES = 10_000
MAX_INSTANCES = 10_000
_HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class ModelIntegrityError(Exception):
    """The artifact's digest does not match the recorded one (or none was recorded)."""

    def __init__(self, recorded: str | None, actual: str):
        self.recorded = recorded
        self.actual = actual
        super().__init__("model artifact digest does not match the recorded SHA-256")


class ModelFormatError(Exception):
    """The artifact passed the integrity check but is not a valid reference model."""


class InputError(Exception):
    """A request that can never succeed: recorded as an error record, not retried."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def verify_digest(data: bytes, recorded: str | None) -> str:
    """Return the artifact's SHA-256 if it equals the recorded digest; raise otherwise."""
    actual = hashlib.sha256(data).hexdigest()
    expected = (recorded or "").strip().lower()
    if not _HEX_DIGEST.match(expected) or not hmac.compare_digest(expected, actual):
        raise ModelIntegrityError(recorded if recorded else None, actual)
    return actual


def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ReferenceModel:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    @classmethod
    def from_bytes(cls, data: bytes) -> "ReferenceModel":
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise ModelFormatError("model artifact is not UTF-8 JSON") from None
        if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
            raise ModelFormatError(f"model artifact format must be {MODEL_FORMAT}")
        features, weights = doc.get("features"), doc.get("weights")
        if not (isinstance(features, list) and isinstance(weights, list)
                and 0 < len(features) == len(weights) <= MAX_FEATURES):
            raise ModelFormatError("model needs as many weights as features (1..10000)")
        if not all(isinstance(f, str) for f in features) or not all(_finite_number(w) for w in weights):
            raise ModelFormatError("feature names must be strings and weights finite numbers")
        bias, threshold = doc.get("bias", 0.0), doc.get("threshold", 0.5)
        if not _finite_number(bias) or not (_finite_number(threshold) and 0.0 < threshold < 1.0):
            raise ModelFormatError("bias must be a finite number and threshold within (0, 1)")
        return cls(tuple(features), tuple(float(w) for w in weights), float(bias), float(threshold))

    def score(self, row: list[float]) -> float:
        z = self.bias + math.fsum(w * x for w, x in zip(self.weights, row))
        # Numerically stable logistic function.
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    def predict(self, rows: list[list[float]]) -> list[dict]:
        out = []
        for row in rows:
            s = self.score(row)
            out.append({"score": round(s, 6), "label": int(s >= self.threshold)})
        return out


def _reject_constant(name: str):
    raise ValueError(f"{name} is not allowed")


def parse_request(data: bytes, feature_count: int) -> list[list[float]]:
    """Validate a request document completely before anything is computed or written.

    Messages name positions and counts only, never values from the payload.
    """
    try:
        doc = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise InputError("invalid_json", "the object is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InputError("invalid_json", f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except ValueError:
        raise InputError("invalid_json", "NaN and Infinity are not valid JSON numbers") from None
    if not isinstance(doc, dict):
        raise InputError("invalid_schema", "the document must be a JSON object")
    unknown = sorted(set(doc) - {"schema", "instances"})
    if doc.get("schema") != REQUEST_SCHEMA:
        raise InputError("invalid_schema", f"'schema' must be '{REQUEST_SCHEMA}'")
    if unknown:
        raise InputError("invalid_schema", f"unknown top-level keys: {len(unknown)}")
    rows = doc.get("instances")
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_INSTANCES:
        raise InputError("invalid_schema", f"'instances' must be a list of 1..{MAX_INSTANCES} rows")
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != feature_count:
            raise InputError("invalid_schema", f"instances[{i}] must be a list of {feature_count} numbers")
        if not all(_finite_number(x) for x in row):
            raise InputError("invalid_schema", f"instances[{i}] contains a value that is not a finite number")
    return rows
