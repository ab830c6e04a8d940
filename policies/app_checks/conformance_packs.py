"""AEGIS_CONFORMANCE_PACKS: a Config conformance pack exists for every framework the environment lists.

`compliance` in the environment file (hipaa, gdpr, nist-800-53, pci-dss, cis, iso27001) is a promise
to auditors; each listed framework needs a conformance pack (name containing the framework key, with a
template) so Config evaluates and reports it continuously, except those that something else evaluates
in the account (WITHOUT_PACK: CIS through Security Hub's standard).
"""
from __future__ import annotations

from modules.governance.conformance.catalog import packed
from policies.app_checks.base import app_check, fail, judge
from policies.app_checks.view import AppView


@app_check("AEGIS_CONFORMANCE_PACKS",
           "A conformance pack exists for every listed compliance framework that has a Config rule list")
def conformance_packs(app: AppView):
    for env in app.envs:
        packs = list(env.resources("aws_config_conformance_pack"))
        for framework in packed(list(env.config.compliance)):
            matching = [(s, n, c) for s, n, c in packs if framework in str(c.get("name", ""))]
            if not matching:
                yield fail(env.home_stack("governance"), "", f"no conformance pack for {framework}")
                continue
            stack, name, conf = matching[0]
            problems = [] if (conf.get("template_body") or conf.get("template_s3_uri")) else [
                f"the {framework} pack has no template"]
            yield judge(stack.name, f"aws_config_conformance_pack.{name}", problems,
                        f"conformance pack for {framework}")
