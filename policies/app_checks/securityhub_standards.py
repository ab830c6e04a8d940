"""AEGIS_SECURITYHUB_STANDARDS: Security Hub is enabled and subscribed to the standards the
environment's config asks for.

AWS Foundational Security Best Practices and the CIS AWS Foundations Benchmark always; NIST SP
800-53 rev 5 when `compliance` lists nist-800-53; PCI DSS when it lists pci-dss. checkov has no
Security Hub check. Standards are recognised by their ARN path (`standards/<name>/v/…` or the
CIS `ruleset/cis-aws-foundations-benchmark/…`).
"""
from __future__ import annotations

from policies.app_checks.base import app_check, fail, judge, provided_centrally
from policies.app_checks.view import AppView

ALWAYS = {"AWS Foundational Security Best Practices": "aws-foundational-security-best-practices",
          "CIS AWS Foundations Benchmark": "cis-aws-foundations-benchmark"}
BY_FRAMEWORK = {"nist-800-53": ("NIST SP 800-53 rev 5", "nist-800-53"), "pci-dss": ("PCI DSS v4.0.1", "pci-dss")}


@app_check("AEGIS_SECURITYHUB_STANDARDS", "Security Hub is enabled with the standards the config asks for")
def securityhub_standards(app: AppView):
    for env in app.envs:
        central = provided_centrally(env, "securityhub", "governance", "Security Hub with its standards")
        if central:
            yield central
            continue
        accounts = list(env.resources("aws_securityhub_account"))
        if not accounts:
            yield fail(env.home_stack("governance"), "", f"Security Hub is not enabled in {env.name}")
            continue
        arns = [str(c.get("standards_arn", "")) for _, _, c in env.resources("aws_securityhub_standards_subscription")]
        wanted = dict(ALWAYS)
        for framework in env.config.compliance:
            if framework in BY_FRAMEWORK:
                label, key = BY_FRAMEWORK[framework]
                wanted[label] = key
        missing = [label for label, key in wanted.items()
                   if not any(f"standards/{key}/" in a or f"ruleset/{key}/" in a for a in arns)]
        stack, name, _ = accounts[0]
        yield judge(stack.name, f"aws_securityhub_account.{name}",
                    [f"no subscription to {label}" for label in missing],
                    f"subscribed to {', '.join(wanted)}")
