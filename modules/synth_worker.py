"""One parallel synth worker, started by modules/synth.py: reads (configs, stacks to build) as a pickle
on stdin and synthesizes those stacks into the folder named on the command line. On failure its last
line of output says why (the parent shows it) and it exits non-zero.

Pickle is safe here and nowhere else: the bytes come through a pipe from the parent that started this
process, never from a file, so only code that could run anything as you anyway can feed it (the
validated configs do not survive a JSON round trip as they are). Caches never hold pickle
(modules/cache.py); a test keeps it that way."""
from __future__ import annotations

import pickle
import sys


def main(argv: list[str]) -> int:
    configs, units = pickle.load(sys.stdin.buffer)
    try:
        from modules.app import build_app

        build_app(configs, argv[1], set(units)).synth()
    except Exception as exc:
        import traceback

        traceback.print_exc()
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
