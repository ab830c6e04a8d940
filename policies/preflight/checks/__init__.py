"""Preflight checks, one module per group. Each module's `PROBES` lists (id, title, function); a function
takes the `Context` and returns the `Check`s it judged (policies/preflight/runner.py runs them in order)."""
