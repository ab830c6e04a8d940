"""How Aegis's own Python checks register: app-level checks (policies/app_checks) and plan checks
(policies/plan/plan_checks) alike.

Each check module registers its check with its kind's decorator when it is imported; `load()`
imports every module of the kind's package first, so a new file cannot be left out. Fail closed:
a module that fails to import raises (the gate turns that into an error, never a skipped check),
and an ID registered twice, or not shaped like the kind's IDs, is refused. That every catalogued
check is registered is the gate's rule (it knows the catalog).
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from typing import Any, Callable


class CheckRegistry(dict):
    """Check ID → check, for one kind of check."""

    def __init__(self, kind: str, package: str, id_pattern: str, id_shape: str,
                 origin: Callable[[Any], Any]) -> None:
        super().__init__()
        self.kind = kind  # "app check", "plan check": how messages name it
        self.package = package  # the package whose modules define the checks
        self.id_pattern = re.compile(id_pattern)
        self.id_shape = id_shape  # the pattern as people read it: AEGIS_<NAME>
        self.origin = origin  # what defined a check (its function, its class): the same one may register again

    def check_id(self, check_id: str) -> str:
        if not self.id_pattern.fullmatch(check_id):
            raise ValueError(f"{self.kind} ID '{check_id}' must look like {self.id_shape}")
        return check_id

    def add(self, check_id: str, check: Any) -> None:
        self.check_id(check_id)
        if check_id in self and self.origin(self[check_id]) is not self.origin(check):
            raise ValueError(f"{self.kind} ID {check_id} is registered twice")
        self[check_id] = check

    def load(self) -> list:
        """Import every module of the package (once), then every registered check, by ID."""
        package = importlib.import_module(self.package)
        for name in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
            importlib.import_module(f"{self.package}.{name}")
        return [self[i] for i in sorted(self)]
