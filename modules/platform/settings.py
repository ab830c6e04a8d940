"""Settings of the Scalable Infrastructure pillar (`platform:` in an environment file).

The platform issue extends this; other pillars read `config.platform.models` (name + serving kind)
and derive resource names from modules/naming.py.
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from modules.schema_base import DnsName, Strict

ServingKind = Literal["sagemaker", "sagemaker-serverless", "lambda", "ec2"]


class ModelSettings(Strict):
    name: DnsName
    serving: ServingKind


class PlatformSettings(Strict):
    models: list[ModelSettings] = Field(default_factory=list)

    @field_validator("models")
    @classmethod
    def _unique_model_names(cls, models: list[ModelSettings]) -> list[ModelSettings]:
        names = [m.name for m in models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"model names must be unique (repeated: {', '.join(duplicates)})")
        return models
