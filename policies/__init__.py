"""Aegis policy engine: catalog, checkov custom checks, app-level checks, suppressions and the gate."""
