"""Aegis generator: environment config → CDKTF stacks, one per pillar per environment."""
import os as _os

# jsii (under cdktf) runs on Node.js and prints a large end-of-life banner for Node versions that
# still work. It is noise for users; silence it before any jsii kernel starts.
for _variant in ("DEPRECATED", "UNTESTED"):
    _os.environ.setdefault(f"JSII_SILENCE_WARNING_{_variant}_NODE_VERSION", "1")
_os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", ",".join(str(v) for v in range(18, 41)))

# Preloaded into the jsii kernel's Node process through NODE_OPTIONS (it inherits them), so set before
# any kernel starts: the Node side of the lazy provider loading (modules/aws.py, lazy_provider.js: the
# provider's JS index then compiles only the resource modules an app uses), and the kernel cuts below,
# each left out when its variable is 1: token_traces.js (no JavaScript stack trace per token),
# kernel_pipes.js (the kernel talks on Python's pipes, not through jsii's relay process) and
# kernel_messages.js (no assertion message formatted for a value the kernel converts unless it fails).
# The eager baseline (AEGIS_EAGER_PROVIDER=1) runs plain Node, so the tests can compare the output with
# and without them.
_HERE = _os.path.dirname(_os.path.abspath(__file__))


def _require(name: str) -> str:
    return "--require " + '"' + _os.path.join(_HERE, name).replace("\\", "\\\\").replace('"', '\\"') + '"'


_LAZY_PROVIDER = _require("lazy_provider.js")
# Each kernel cut: its preload and the variable that leaves it out.
_KERNEL_CUTS = {"token_traces.js": "AEGIS_TOKEN_STACK_TRACES", "kernel_pipes.js": "AEGIS_JSII_RELAY",
                "kernel_messages.js": "AEGIS_EAGER_KERNEL_MESSAGES"}


def _node_options(current: str, eager: bool, left_out: frozenset[str] = frozenset()) -> str:
    """`current` without any of the preloads, then lazy_provider.js and the kernel cuts not `left_out`
    (file names), unless `eager`."""
    preloads = [_LAZY_PROVIDER] + [_require(name) for name in _KERNEL_CUTS if name not in left_out]
    without = current
    for preload in [_LAZY_PROVIDER, *map(_require, _KERNEL_CUTS)]:
        without = without.replace(preload, "")
    return " ".join([without.strip(), *([] if eager else preloads)]).strip()


_eager = _os.environ.get("AEGIS_EAGER_PROVIDER", "") == "1" or not _os.path.exists(
    _os.path.join(_HERE, "lazy_provider.js"))
# A missing file is left out too: Node would not start with a --require of it.
_options = _node_options(_os.environ.get("NODE_OPTIONS", ""), _eager, frozenset(
    name for name, variable in _KERNEL_CUTS.items()
    if _os.environ.get(variable, "") == "1" or not _os.path.exists(_os.path.join(_HERE, name))))
if _options:
    _os.environ["NODE_OPTIONS"] = _options
else:
    _os.environ.pop("NODE_OPTIONS", None)
