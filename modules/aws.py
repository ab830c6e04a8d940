"""The single place that imports the AWS provider bindings.

`cdktf_cdktf_provider_aws/__init__.py` imports all ~2,200 submodules (about 22 s on two cores).
Each submodule only needs the package's `_jsii` assembly, so the package is registered as a bare
module with the real `__path__` and only the submodules the constructs touch are imported. The
output is byte-identical to the eager import (tests/test_provider_loading.py compares them).

Use it as `from modules import aws` then `aws.s3_bucket.S3Bucket(...)`. Setting
AEGIS_EAGER_PROVIDER=1 imports the whole package the usual way (for the comparison and the benchmark).
A switch to the CDK Terrain fork is a change of PACKAGE here.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

PACKAGE = "cdktf_cdktf_provider_aws"

def eager() -> bool:
    return os.environ.get("AEGIS_EAGER_PROVIDER", "") == "1"


def _package() -> types.ModuleType:
    loaded = sys.modules.get(PACKAGE)
    if loaded is not None:
        return loaded
    if eager():
        return importlib.import_module(PACKAGE)
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{PACKAGE} is not installed; run `make run` to set up")
    bare = types.ModuleType(PACKAGE)
    bare.__path__ = list(spec.submodule_search_locations)
    bare.__file__ = spec.origin
    bare.__spec__ = spec
    sys.modules[PACKAGE] = bare
    return bare


def submodule(name: str) -> types.ModuleType:
    """Import one provider submodule, e.g. `submodule("s3_bucket")`."""
    package = _package()
    module = getattr(package, name, None)
    if isinstance(module, types.ModuleType):
        return module
    module = importlib.import_module(f"{PACKAGE}.{name}")
    setattr(package, name, module)
    return module


def __getattr__(name: str) -> types.ModuleType:  # PEP 562: `aws.s3_bucket` imports on first use
    if name.startswith("__"):
        raise AttributeError(name)
    return submodule(name)
