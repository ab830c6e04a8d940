"""Aegis generator: environment config → CDKTF stacks, one per pillar per environment."""
import os as _os

# jsii (under cdktf) runs on Node.js and prints a large end-of-life banner for Node versions that
# still work. It is noise for users; silence it before any jsii kernel starts.
for _variant in ("DEPRECATED", "UNTESTED"):
    _os.environ.setdefault(f"JSII_SILENCE_WARNING_{_variant}_NODE_VERSION", "1")
_os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", ",".join(str(v) for v in range(18, 41)))

# Preloaded into the jsii kernel's Node process through NODE_OPTIONS (it inherits them), so set before
# any kernel starts: the Node side of the lazy provider loading (modules/aws.py, lazy_provider.js: the
# provider's JS index then compiles only the resource modules an app uses), and token_traces.js (no
# JavaScript stack trace per token; AEGIS_TOKEN_STACK_TRACES=1 keeps them), and kernel_pipes.js (the
# kernel talks on Python's pipes, not through jsii's relay process; AEGIS_JSII_RELAY=1 keeps the relay).
# The eager baseline
# (AEGIS_EAGER_PROVIDER=1) runs plain Node, so the tests can compare the output with and without them.
_HERE = _os.path.dirname(_os.path.abspath(__file__))


def _require(name: str) -> str:
    return "--require " + '"' + _os.path.join(_HERE, name).replace("\\", "\\\\").replace('"', '\\"') + '"'


_LAZY_PROVIDER, _NO_TOKEN_TRACES = _require("lazy_provider.js"), _require("token_traces.js")
_KERNEL_PIPES = _require("kernel_pipes.js")


def _node_options(current: str, eager: bool, traces: bool = False, relay: bool = False) -> str:
    without = current
    for preload in (_LAZY_PROVIDER, _NO_TOKEN_TRACES, _KERNEL_PIPES):
        without = without.replace(preload, "")
    wanted = [] if eager else [_LAZY_PROVIDER] + ([] if traces else [_NO_TOKEN_TRACES]) + \
        ([] if relay else [_KERNEL_PIPES])
    return " ".join([without.strip(), *wanted]).strip()


_eager = _os.environ.get("AEGIS_EAGER_PROVIDER", "") == "1" or not _os.path.exists(
    _os.path.join(_HERE, "lazy_provider.js"))
_options = _node_options(_os.environ.get("NODE_OPTIONS", ""), _eager,
                         traces=_os.environ.get("AEGIS_TOKEN_STACK_TRACES", "") == "1"
                         or not _os.path.exists(_os.path.join(_HERE, "token_traces.js")),
                         relay=_os.environ.get("AEGIS_JSII_RELAY", "") == "1"
                         or not _os.path.exists(_os.path.join(_HERE, "kernel_pipes.js")))
if _options:
    _os.environ["NODE_OPTIONS"] = _options
else:
    _os.environ.pop("NODE_OPTIONS", None)
