"""The capabilities the access matrix speaks of, and the requests that prove each one.

A capability is something a principal can do to the app that matters for security: read or write
a data class, use a data-class key, deploy or change serving, approve models, switch off or
reconfigure security services, and pass or assume another declared principal's role. Each static
capability names the API calls that exercise it and the resources they act on (as ARN templates
of the environment); it is effective when any of those calls is allowed on any such resource.

Data classes are buckets (`read:<class>`, `write:<class>`: the S3 call and the KMS call S3 makes on
the bucket's key with the caller's credentials); `use-key:<class>` is a direct or service-mediated
`kms:Decrypt` / `kms:Encrypt` / `kms:GenerateDataKey` on a key of that class.
"""
from __future__ import annotations

from dataclasses import dataclass

# Bucket purpose (modules/naming.py BUCKETS, plus the state bucket) for each data class.
DATA_CLASSES = {"datasets": "datasets", "model-artifacts": "model-artifacts", "inference": "inference",
                "audit": "audit", "state": "tfstate"}
KEY_CLASSES = ("training", "model", "inference", "audit", "state")
KEY_USE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")

# Edges between principals: `pass-role:<principal>` / `assume-role:<principal>` (a declared name).
EDGE_KINDS = ("pass-role", "assume-role")


@dataclass(frozen=True)
class ApiCapability:
    """A capability shown by any of `actions` on any resource from `resources` (templates with
    {region}, {account}, {prefix}; a `*` is a wildcard the witness resources of the policies fill)."""

    name: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    title: str
    # Request context that makes a call this capability (approving is UpdateModelPackage *to* Approved).
    context: tuple[tuple[str, str], ...] = ()


API_CAPABILITIES: tuple[ApiCapability, ...] = (
    ApiCapability("deploy", ("sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint",
                             "sagemaker:UpdateEndpointWeightsAndCapacities", "lambda:UpdateFunctionCode",
                             "lambda:UpdateAlias", "lambda:PublishVersion", "lambda:UpdateFunctionConfiguration"),
                  ("arn:aws:sagemaker:{region}:{account}:endpoint/{prefix}-*",
                   "arn:aws:lambda:{region}:{account}:function:{prefix}-*"),
                  "deploy or change serving (endpoints, functions)"),
    ApiCapability("approve-models", ("sagemaker:UpdateModelPackage",),
                  ("arn:aws:sagemaker:{region}:{account}:model-package/{prefix}-*/*",),
                  "approve a model package for deployment",
                  (("sagemaker:ModelApprovalStatus", "Approved"),)),
    ApiCapability("disable-security", (
        "cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail", "cloudtrail:PutEventSelectors",
        "guardduty:DeleteDetector", "guardduty:UpdateDetector", "guardduty:DisassociateFromAdministratorAccount",
        "config:StopConfigurationRecorder", "config:DeleteConfigurationRecorder", "config:PutConfigurationRecorder",
        "config:DeleteDeliveryChannel", "securityhub:DisableSecurityHub", "securityhub:BatchDisableStandards",
        "macie2:DisableMacie", "inspector2:Disable", "access-analyzer:DeleteAnalyzer", "kms:DisableKey",
        "kms:ScheduleKeyDeletion", "logs:DeleteLogGroup", "sns:DeleteTopic", "sns:SetTopicAttributes"),
        ("arn:aws:cloudtrail:{region}:{account}:trail/{prefix}-trail",
         "arn:aws:guardduty:{region}:{account}:detector/*",
         "arn:aws:config:{region}:{account}:configuration-recorder/*",
         "arn:aws:securityhub:{region}:{account}:hub/default",
         "arn:aws:access-analyzer:{region}:{account}:analyzer/*",
         "arn:aws:kms:{region}:{account}:key/*",
         "arn:aws:logs:{region}:{account}:log-group:*",
         "*"),
        "switch off or reconfigure CloudTrail, GuardDuty, Config, Security Hub, Macie, Inspector, "
        "Access Analyzer, keys, log groups or the alert topics"),
)


def static_capabilities() -> list[str]:
    """Every capability that needs no declared principal, in matrix column order."""
    out = []
    for data_class in DATA_CLASSES:
        out += [f"read:{data_class}", f"write:{data_class}"]
    out += [f"use-key:{key_class}" for key_class in KEY_CLASSES]
    out += [c.name for c in API_CAPABILITIES]
    return out


def edge_capability(kind: str, principal: str) -> str:
    return f"{kind}:{principal}"


def is_capability(name: str, principals: set[str]) -> bool:
    kind, _, target = name.partition(":")
    if kind in EDGE_KINDS:
        return target in principals
    return name in STATIC


STATIC = frozenset(static_capabilities())
