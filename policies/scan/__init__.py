"""checkov, run in this process by the gate; `policies.scanner` is the API the rest of Aegis calls.

- `registry`: the pinned checkov, imported offline, and the checks it has loaded (built-in, external);
- `patches`: what Aegis changes in checkov's behaviour, each change pinned by a test;
- `passes`: the checkov runs of one scan, shared among forked workers (a big stack's two passes apart);
- `result`: what a scan hands the gate.
"""
