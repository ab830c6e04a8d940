"""Aegis generator: environment config → CDKTF stacks, one per pillar per environment."""
import os as _os

# jsii (under cdktf) runs on Node.js and prints a large end-of-life banner for Node versions that
# still work. It is noise for users; silence it before any jsii kernel starts.
for _variant in ("DEPRECATED", "UNTESTED"):
    _os.environ.setdefault(f"JSII_SILENCE_WARNING_{_variant}_NODE_VERSION", "1")
_os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", ",".join(str(v) for v in range(18, 41)))

# Node side of the lazy provider loading (modules/aws.py, modules/lazy_provider.js): the provider's JS
# index then compiles only the resource modules an app uses. Set before any jsii kernel starts (the
# kernel's Node process inherits NODE_OPTIONS). The eager baseline (AEGIS_EAGER_PROVIDER=1) runs plain Node.
_PRELOAD = "--require " + '"' + _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "lazy_provider.js") \
    .replace("\\", "\\\\").replace('"', '\\"') + '"'


def _node_options(current: str, eager: bool) -> str:
    without = current.replace(_PRELOAD, "").strip()
    return without if eager else f"{without} {_PRELOAD}".strip()


_eager = _os.environ.get("AEGIS_EAGER_PROVIDER", "") == "1" or not _os.path.exists(
    _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "lazy_provider.js"))
_options = _node_options(_os.environ.get("NODE_OPTIONS", ""), _eager)
if _options:
    _os.environ["NODE_OPTIONS"] = _options
else:
    _os.environ.pop("NODE_OPTIONS", None)
