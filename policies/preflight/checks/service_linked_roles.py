"""The service-linked roles the key policies name (Auto Scaling, Macie) and AWS Config's recorder role.

The stacks either create each role (`create`: fails when it already exists) or look it up (`existing`: the
plan stops when it is missing), so the setting must say what the account holds. Where the account already
has the role, creating it fails with "has been taken in this account"."""
from __future__ import annotations

from botocore.exceptions import ClientError

from modules.data.key_users import AUTOSCALING, MACIE
from policies.preflight.aws import error_code
from policies.preflight.context import Context, attempt
from policies.preflight.model import Check

CONFIG_ROLE = "AWSServiceRoleForConfig"


def _exists(ctx: Context, name: str) -> bool:
    try:
        ctx.aws.client("iam", "us-east-1").get_role(RoleName=name)  # IAM is global
    except ClientError as exc:
        if error_code(exc) == "NoSuchEntity":
            return False
        raise
    return True


def service_linked_roles(ctx: Context) -> list[Check]:
    data = ctx.config.data.service_linked_roles
    governance = ctx.config.governance
    wanted: list[tuple[str, str, bool, object, object]] = [(AUTOSCALING.name, "data.service_linked_roles.autoscaling", data.autoscaling == "create",
               "create", "existing"),
              (MACIE.name, "data.service_linked_roles.macie", data.macie == "create", "create", "existing")]
    if not governance.is_central("config"):
        wanted.append((CONFIG_ROLE, "governance.recorder.create_service_linked_role",
                       governance.recorder.create_service_linked_role, True, False))
    checks: list[Check] = []
    for name, key, creates, create_value, existing_value in wanted:
        check_id, title = f"service-linked-role.{name}", f"{name} is created or referenced as the account holds it"

        def judge(name=name, key=key, creates=creates, create_value=create_value,
                  existing_value=existing_value, check_id=check_id, title=title) -> Check:
            exists = _exists(ctx, name)
            if exists and creates:
                return Check(check_id, title, "fail", f"{name} exists, and {key} asks to create it: that fails",
                             f"set {key}: {_yaml(existing_value)}", ((key, existing_value),))
            if not exists and not creates:
                return Check(check_id, title, "fail", f"{name} does not exist, and {key} expects it: the plan stops",
                             f"set {key}: {_yaml(create_value)}", ((key, create_value),))
            return Check(check_id, title, "pass",
                         f"{name} {'exists and is referenced' if exists else 'is missing and will be created'}")

        checks += attempt(check_id, title, judge)
    return checks


def _yaml(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


PROBES = [("service-linked-role", "Service-linked roles", service_linked_roles)]
