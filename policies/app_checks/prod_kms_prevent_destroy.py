"""AEGIS_PROD_KMS_PREVENT_DESTROY: every KMS key of a prod environment carries `lifecycle.prevent_destroy`.

Deleting a key destroys every object, log and backup encrypted with it once the deletion window ends;
a `terraform destroy` or a replacement by a renamed construct schedules exactly that. In prod Terraform
must refuse any plan that deletes a key: the data keys, the DR keys, the state key and the edge key in
us-east-1 alike (the edge key once lacked it). A 30-day window only delays the loss. Other tiers are not
judged.
"""
from __future__ import annotations

from policies.app_checks.base import app_check, judge
from policies.app_checks.view import AppView, one
from policies.checks.aegis_values import is_true


@app_check("AEGIS_PROD_KMS_PREVENT_DESTROY", "Every KMS key in prod has lifecycle.prevent_destroy")
def prod_kms_prevent_destroy(app: AppView):
    for env in app.envs:
        if not env.prod:
            continue
        for stack, name, conf in env.resources("aws_kms_key"):
            protected = is_true((one(conf, "lifecycle") or {}).get("prevent_destroy"))
            yield judge(stack.name, f"aws_kms_key.{name}",
                        [] if protected else ["no lifecycle.prevent_destroy: a destroy or replacement would schedule "
                                              "the key (and everything encrypted with it) for deletion"],
                        "Terraform refuses to delete it")
