"""The single place that imports the AWS provider bindings.

`cdktf_cdktf_provider_aws/__init__.py` imports all ~2,200 submodules (about 22 s on two cores).
Each submodule only needs the package's `_jsii` assembly, so the package is registered as a bare
module with the real `__path__` and only the submodules the constructs touch are imported. The
output is byte-identical to the eager import (tests/modules/test_provider_loading.py compares them).

It also decides the Python argument checks of the jsii bindings (the provider's, cdktf's and
constructs'): off, since the jsii kernel checks the same values (AEGIS_BINDING_TYPE_CHECKS=1 keeps them).

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
import typing

PACKAGE = "cdktf_cdktf_provider_aws"

def eager() -> bool:
    return os.environ.get("AEGIS_EAGER_PROVIDER", "") == "1"


_type_hints: dict[object, dict] = {}


def _cached_type_hints(obj, globalns=None, localns=None, include_extras=False):
    """`typing.get_type_hints` for the bindings' argument checks, evaluated once per signature.

    Every generated constructor and setter re-evaluates the string annotations of its signature stub
    before checking its arguments (~15% of the Python time of a synth). The stubs are module
    constants, so their hints never change: the checks still run, on hints computed once."""
    if globalns is not None or localns is not None or include_extras:
        return typing.get_type_hints(obj, globalns, localns, include_extras)
    hints = _type_hints.get(obj)
    if hints is None:
        hints = _type_hints[obj] = typing.get_type_hints(obj)
    return hints


def _checked_by_the_kernel(argname: str, value: object, expected_type: typing.Any) -> None:
    """Stands in for the bindings' own `check_type` (typeguard), which checks every argument of every
    call in Python before jsii sends it to Node. The jsii kernel checks the same values against the
    provider's type system as it deserializes them and refuses a wrong one, naming the key, the value
    and the expected type (tests/modules/test_provider_loading.py shows both). The Python pass was about
    a fifth of the Python time of a large synth and changed nothing that reaches the output;
    AEGIS_BINDING_TYPE_CHECKS=1 keeps it (earlier errors, naming the Python argument)."""


def python_type_checks() -> bool:
    return os.environ.get("AEGIS_BINDING_TYPE_CHECKS", "") == "1"


class _UnreadHints(dict):
    """The type hints handed to `_checked_by_the_kernel`, which never reads them: any name, nothing evaluated."""

    def __missing__(self, key: str) -> object:
        return typing.Any


_UNREAD_HINTS = _UnreadHints()


def _unread_type_hints(obj, globalns=None, localns=None, include_extras=False):
    """`typing.get_type_hints` for the bindings' argument checks when the Python pass is off: the hints go
    only to `_checked_by_the_kernel`, so the signature's annotations are not resolved at all (the first
    resolution of each signature compiles and evaluates every annotation of it: a cost paid again for
    every resource type a stack uses first)."""
    return _UNREAD_HINTS


def _typing_with(get_type_hints) -> types.ModuleType:
    """What the bindings see as `typing`: the real module but for `get_type_hints`."""
    module = types.ModuleType("typing", typing.__doc__)
    module.__dict__.update({k: v for k, v in vars(typing).items() if not k.startswith("__")},
                           get_type_hints=get_type_hints)
    return module


_TYPING_WITH_CACHED_HINTS = _typing_with(_cached_type_hints)
_TYPING_WITHOUT_HINTS = _typing_with(_unread_type_hints)

# The CDKTF core and constructs are jsii bindings too, with the same Python pass on every call: for the
# lifecycle blocks, pre- and postconditions, outputs, Fn and the construct tree of every resource.
_CORE_BINDINGS = ("cdktf", "constructs")


def _binding_typing() -> types.ModuleType:
    return _TYPING_WITH_CACHED_HINTS if python_type_checks() else _TYPING_WITHOUT_HINTS


def _reference_for_native(kernel: typing.Any, value: typing.Any) -> typing.Any:
    """jsii's `_make_reference_for_native` (what a Python argument becomes in a kernel request), reading a
    struct's fields from the dict its constructor filled instead of through its typed getters. Each getter
    evaluates its return annotation (`typing.cast(typing.Optional[typing.Union[...]], ...)`) on every read
    and a request reads every field of every struct it carries, set or not: about a quarter of the
    Python time of building the platform stack. The request is the same (a getter returns that dict's
    value, None when unset; the kernel refuses a missing required field). Anything but a struct, a list or
    a dict goes to jsii's own function."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, dict):
        return {"$jsii.map": {k: _reference_for_native(kernel, v) for k, v in value.items()}}
    if isinstance(value, list):
        return [_reference_for_native(kernel, v) for v in value]
    mapping = getattr(type(value), "__jsii_name_mapping__", None)
    fields = getattr(value, "_values", None)
    if mapping is not None and isinstance(fields, dict):
        return {"$jsii.struct": {"fqn": value.__jsii_type__, "data": {
            jsii_name: _reference_for_native(kernel, fields.get(name)) for name, jsii_name in mapping.items()}}}
    return _stock_reference_for_native(kernel, value)


def _stock_reference_for_native(kernel: typing.Any, value: typing.Any) -> typing.Any:
    raise AssertionError("replaced by jsii's own function when structs are read from their fields")


def _structs_read_from_values() -> None:
    """Structs serialized from their fields (`_reference_for_native`), unless the Python pass is kept or
    the baseline runs stock (AEGIS_EAGER_PROVIDER=1, which the tests compare the output with); idempotent.
    jsii is loaded by then (the provider submodule imported it)."""
    global _stock_reference_for_native
    import jsii._kernel as jsii_kernel

    if python_type_checks() or eager() or jsii_kernel._make_reference_for_native is _reference_for_native:
        return
    _stock_reference_for_native = jsii_kernel._make_reference_for_native
    jsii_kernel._make_reference_for_native = _reference_for_native


def _core_checked_by_the_kernel() -> None:
    """The Python pass of the core bindings off too (unless AEGIS_BINDING_TYPE_CHECKS=1); idempotent."""
    if python_type_checks():
        return
    for name in _CORE_BINDINGS:
        published = sys.modules.get(name)
        if published is None:
            continue
        core: typing.Any = getattr(published, "_private", published)  # its own namespace, as for the provider
        if getattr(core, "typing", None) is typing:
            core.typing = _TYPING_WITHOUT_HINTS
        if callable(getattr(core, "check_type", None)):
            core.check_type = _checked_by_the_kernel


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
    private: typing.Any = getattr(module, "_private", module)  # the module's own namespace (it is `publication`-published)
    if getattr(private, "typing", None) is typing:
        private.typing = _binding_typing()
    if callable(getattr(private, "check_type", None)) and not python_type_checks():
        private.check_type = _checked_by_the_kernel
    setattr(package, name, module)
    _core_checked_by_the_kernel()  # imported with the first provider submodule
    _structs_read_from_values()
    return module


def __getattr__(name: str) -> types.ModuleType:  # PEP 562: `aws.s3_bucket` imports on first use
    if name.startswith("__"):
        raise AttributeError(name)
    return submodule(name)
