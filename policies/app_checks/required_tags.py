"""AEGIS_REQUIRED_TAGS: every taggable resource carries the required tags with the environment's values.

Environment, Project, OwnerTeam, CostCenter, DataClassification and ManagedBy drive cost
allocation, ABAC conditions and the SageMaker governance conformance rules. They reach every
taggable resource through the provider's `default_tags`, so each AWS provider configuration of
every stack must set all of them to the environment's values (modules/naming.py `default_tags`),
and no resource may override one with another value. Default tags do not reach instances that an
Auto Scaling group launches: each group must propagate the tags at launch (`tag` blocks with
`propagate_at_launch`) or its launch template must tag instances and volumes.
"""
from __future__ import annotations

from modules.naming import default_tags
from policies.app_checks.base import app_check, fail, judge, ok
from policies.app_checks.view import AppView, nested, one
from policies.checks.aegis_values import is_true


@app_check("AEGIS_REQUIRED_TAGS", "Required tags reach every taggable resource with the environment's values")
def required_tags(app: AppView):
    for env in app.envs:
        required = default_tags(env.config)
        for stack in env.stacks.values():
            providers = nested(stack.doc.get("provider") or {}, "aws")
            problems = []
            if not providers:
                problems.append("the stack has no AWS provider configuration")
            for provider in providers:
                label = f"provider aws{'.' + provider['alias'] if provider.get('alias') else ''}"
                tags = (one(provider, "default_tags") or {}).get("tags") or {}
                problems += [f"{label} default_tags {key}={tags.get(key)!r}, expected {value!r}"
                             for key, value in required.items() if tags.get(key) != value]
            if problems:
                yield fail(stack.name, "", "; ".join(problems))
            else:
                yield ok(stack.name, "", "every provider tags resources with the required tags")
            for rtype in stack.resource_types():
                for name, conf in sorted(stack.resources(rtype).items()):
                    tags = conf.get("tags") if isinstance(conf.get("tags"), dict) else {}
                    wrong = [k for k, v in required.items() if k in tags and tags[k] != v]
                    if wrong:
                        yield fail(stack.name, f"{rtype}.{name}", f"tags override {', '.join(wrong)} with other values")
            for name, conf in sorted(stack.resources("aws_autoscaling_group").items()):
                yield judge(stack.name, f"aws_autoscaling_group.{name}", _asg_problems(stack, conf, required),
                            "instances and volumes the group launches carry the required tags")


def _asg_problems(stack, conf, required):
    """Instances get tags from the group (propagate_at_launch) or the template; volumes only from the template."""
    propagated = {t.get("key"): t.get("value") for t in nested(conf, "tag") if is_true(t.get("propagate_at_launch"))}
    launch = one(conf, "launch_template") or one(one(one(conf, "mixed_instances_policy"), "launch_template"),
                                                  "launch_template_specification") or {}
    template = stack.target(launch.get("id") or launch.get("launch_template_id"), "aws_launch_template")
    if template is None:
        return ["the group's launch template is not a resource of this stack: volume tags cannot be judged"]
    specs = {s.get("resource_type"): s.get("tags") or {} for s in nested(template[1], "tag_specifications")}
    problems = []
    sources_of = {"instance": (propagated, specs.get("instance", {})), "volume": (specs.get("volume", {}),)}
    for kind, sources in sources_of.items():
        missing = [k for k, v in required.items() if not any(src.get(k) == v for src in sources)]
        if missing:
            problems.append(f"launched {kind}s lack {', '.join(missing)}")
    return problems
