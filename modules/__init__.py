"""Aegis generator: environment config → CDKTF stacks, one per pillar per environment."""
import os as _os

# jsii (under cdktf) runs on Node.js and prints a large end-of-life banner for Node versions that
# still work. It is noise for users; silence it before any jsii kernel starts.
for _variant in ("DEPRECATED", "UNTESTED"):
    _os.environ.setdefault(f"JSII_SILENCE_WARNING_{_variant}_NODE_VERSION", "1")
_os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", ",".join(str(v) for v in range(18, 41)))
