"""The pinned checkov, imported offline, and the checks it has loaded: its own and an external dir's.

In-process (not a subprocess per stack) so its start-up (importing ~1,000 check modules) is paid
once. A check that fails to load is an error here, never a silently smaller scan.
"""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from policies.scan import patches
from policies.scan.result import ScanError

# Offline: no update check, no platform mapping download, no SCA. Set before checkov is imported.
OFFLINE_ENV = {
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "CHECKOV_ENABLE_DATAS_FOREACH_HANDLING": "false",
}
for _key, _value in OFFLINE_ENV.items():
    os.environ.setdefault(_key, _value)

CHECKOV_VERSION = "3.3.30"

_external_loaded: dict[str, dict[str, str]] = {}


def import_checkov():
    """Import the pinned checkov with Aegis's patches installed; return its terraform_json runner class."""
    try:
        import checkov.version
        from checkov.terraform_json import parser
        from checkov.terraform_json.runner import TerraformJsonRunner
    except Exception as exc:  # ImportError, or a broken install
        raise ScanError(f"checkov {CHECKOV_VERSION} is not importable ({exc}); run `make setup`") from exc
    if checkov.version.version != CHECKOV_VERSION:
        raise ScanError(f"checkov {checkov.version.version} is installed; Aegis is pinned to {CHECKOV_VERSION} "
                        "(run `make setup`)")
    patches.install(parser)
    return TerraformJsonRunner


class _LoadErrors(logging.Handler):
    """Collects what checkov only logs while loading checks (a broken check is skipped, silently)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += f": {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        self.messages.append(message)


def registries():
    """checkov's Terraform check registries: resource, data, provider, module and graph (its checks loaded)."""
    from checkov.common.bridgecrew.check_type import CheckType
    from checkov.common.checks_infra.registry import get_graph_checks_registry
    from checkov.terraform.checks.data.registry import data_registry
    from checkov.terraform.checks.module.registry import module_registry
    from checkov.terraform.checks.provider.registry import provider_registry
    from checkov.terraform.checks.resource.registry import resource_registry

    graph = get_graph_checks_registry(CheckType.TERRAFORM)
    graph.load_checks()
    return resource_registry, data_registry, provider_registry, module_registry, graph


def _origin(check) -> str:
    """Absolute path of the file a check came from (its YAML, or its Python module)."""
    path = getattr(check, "check_path", "")
    if not path:
        module = sys.modules.get(type(check).__module__)
        path = getattr(module, "__file__", "") or ""
    return os.path.abspath(path) if path else ""


def registered_checks() -> dict[str, tuple[str, str]]:
    """Every Terraform check registered now: id → (name, file it came from)."""
    import_checkov()
    resource, data, provider, module, graph = registries()
    out: dict[str, tuple[str, str]] = {}
    for registry in (resource, data, provider, module):  # module: CKV_TF_1/2 (sources pinned), on HCL only
        for checks in list(registry.checks.values()) + list(registry.wildcard_checks.values()):
            for check in checks:
                if check.id not in out:
                    out[check.id] = (check.name, _origin(check))
    for check in graph.checks:
        out[check.id] = (check.name, _origin(check))
    return out


def _under(path: str, directory: str) -> bool:
    return path.startswith(directory.rstrip(os.sep) + os.sep)


_builtin: dict[str, str] = {}


def builtin_checks() -> dict[str, str]:
    """checkov's own Terraform checks (those whose source is inside the checkov package): id → name."""
    if not _builtin:
        import checkov

        root = os.path.dirname(os.path.abspath(checkov.__file__))
        _builtin.update({i: name for i, (name, origin) in registered_checks().items() if _under(origin, root)})
    return _builtin


def load_external(directory: Path) -> dict[str, str]:
    """Load a checkov external checks dir (once per process); return its checks: id → name."""
    directory = directory.resolve()
    key = str(directory)
    if key not in _external_loaded:
        import_checkov()
        builtin_checks()  # fixed before anything external registers
        resource, _data, _provider, _module, graph = registries()
        if not (directory / "__init__.py").is_file():
            raise ScanError(f"{directory.name}/ has no __init__.py: checkov would load no check from it")
        handler = _LoadErrors()
        logger = logging.getLogger("checkov")
        logger.addHandler(handler)
        try:
            resource.load_external_checks(key)
            graph.load_external_checks(key)
        except Exception as exc:
            raise ScanError(f"loading custom checks from {directory.name}/ failed: {exc}") from exc
        finally:
            logger.removeHandler(handler)
        if handler.messages:
            raise ScanError(f"custom checks in {directory.name}/ did not load: " + "; ".join(handler.messages))
        _external_loaded[key] = {i: name for i, (name, origin) in registered_checks().items() if _under(origin, key)}
    return dict(_external_loaded[key])


def pack_traits(directory: Path) -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """Of an external dir's loaded checks (policies/checks/aegis_checklib.py): the IDs that run on Aegis's
    own output only, and the checkov built-ins each one duplicates (id → their IDs)."""
    external = load_external(directory)
    resource = registries()[0]
    output_only: set[str] = set()
    duplicates: dict[str, tuple[str, ...]] = {}
    for checks in list(resource.checks.values()) + list(resource.wildcard_checks.values()):
        for check in checks:
            if check.id in external:
                if getattr(check, "aegis_output_only", False):
                    output_only.add(check.id)
                if getattr(check, "duplicates", ()):
                    duplicates[check.id] = tuple(check.duplicates)
    return frozenset(output_only), duplicates
