"""Shared pydantic building blocks: strict models (unknown keys rejected) and common field types."""
from __future__ import annotations

from typing import Annotated, Iterator

from pydantic import BaseModel, ConfigDict, StringConstraints

# DNS-safe: lower-case letters, digits and hyphens; starts with a letter, ends alphanumeric, ≤ 30 chars.
DnsName = Annotated[str, StringConstraints(pattern=r"^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$")]
AccountId = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]

# One problem found by a cross-field rule: (dotted key path, message).
Problem = tuple[str, str]


class Strict(BaseModel):
    """Every config model: unknown keys are errors, values are not coerced silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, validate_default=True)

    def problems(self, env: "object") -> Iterator[Problem]:  # pragma: no cover - default has none
        """Cross-field rules that need the whole environment. Paths are relative to this section."""
        return iter(())
