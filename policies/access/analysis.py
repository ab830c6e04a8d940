"""Effective access of every principal of an environment, against the declared intent.

For each role, its own capabilities come from the AWS evaluation logic (policies/iam_eval.py) over
everything that decides them: identity policies, the permission boundary, the SCPs, and the
resource's own policy (bucket and key policies; KMS needs the key policy to allow, S3 does not).
Then the chains: a role that may `iam:PassRole` another role to a service the other trusts, or
`sts:AssumeRole` it under its trust policy, gains what that role can do; reachability is followed
to a fixed point (breadth first, so each capability carries its shortest path as evidence).
Passing is judged on `iam:PassRole` alone, not on the create call that goes with it (CreateTrainingJob,
CreateFunction, RunInstances): an over-approximation, so a PassRole grant is never excused by a
missing create permission that another edit could add.

Requests are made as the principal would make them at best: with MFA for people, over TLS 1.3, in the
environment's region, through the environment's VPC and endpoints for workloads, with the headers
the bucket asks for, and for keys directly and through every service a policy names in
`kms:ViaService`. A capability is effective when any such request is allowed on any resource it
covers: the resources tried are a probe of each covered pattern plus one concrete resource from
each Allow statement that could grant it (so a grant scoped to one prefix is found).

A statement that applies by action and uses what the evaluator does not model (an unresolved
reference, a condition key no request sets, an unsupported operator) makes the cell "cannot judge",
with the document it is in: the gate errors on it rather than guess.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

from policies.access.capabilities import (
    API_CAPABILITIES,
    DATA_CLASSES,
    EDGE_KINDS,
    KEY_CLASSES,
    KEY_USE,
    ApiCapability,
    static_capabilities,
)
from policies.access.intent import Intent
from policies.access.model import AccessModel, Bucket, Doc, Key, Role
from policies.checks.aegis_values import as_list
from policies.iam_eval import (
    Request,
    UnsupportedPolicy,
    evaluate,
    same_account_allowed,
    statements_for,
    wildcard_match,
)

# Condition keys the requests model (lower case; "*" ends a prefix). Request-shape keys the
# capabilities' calls never carry are listed as known and left out of the context, i.e. absent.
KNOWN_KEYS = frozenset({
    "aws:principalarn", "aws:principalaccount", "aws:principalisawsservice", "aws:principaltype",
    "aws:multifactorauthpresent", "aws:securetransport", "aws:requestedregion", "aws:sourcevpc", "aws:sourcevpce",
    "kms:calleraccount", "kms:viaservice", "kms:resourcealiases", "kms:grantisforawsresource",
    "kms:encryptioncontext:*", "iam:passedtoservice", "s3:tlsversion", "s3:x-amz-server-side-encryption",
    "s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:x-amz-acl", "sagemaker:modelapprovalstatus",
    "s3:if-none-match", "s3:objectcreationoperation",
})
PROBE = "aegis-probe"


@dataclass
class Cell:
    effective: bool | None  # None: cannot judge
    path: str = ""  # evidence: how the principal gets it (effective) or what could not be judged
    problem: str = ""


@dataclass
class RoleResult:
    role: Role
    own: dict[str, Cell] = field(default_factory=dict)
    edges: list[tuple[str, str, Role, str]] = field(default_factory=list)  # (kind, action text, target, via)
    cells: dict[str, Cell] = field(default_factory=dict)  # effective, chains included


@dataclass
class EnvAccess:
    model: AccessModel
    capabilities: list[str]
    results: list[RoleResult]
    milliseconds: float = 0.0

    def problems(self) -> list[str]:
        """Every cell that could not be judged, as "principal × capability: why"."""
        return [f"{self.model.env}: {r.role.name} × {cap}: {cell.problem}" for r in self.results
                for cap, cell in r.cells.items() if cell.effective is None]


def analyze(model: AccessModel, intent: Intent) -> EnvAccess:
    started = time.perf_counter()
    judge = _Judge(model)
    capabilities = static_capabilities() + [f"{kind}:{name}" for kind in EDGE_KINDS for name in intent.principals]
    results = [RoleResult(role) for role in model.roles]
    for result in results:
        result.own = judge.own(result.role)
        result.edges = judge.edges(result.role) if not result.role.unreadable else []
    by_name = {r.role.name: r for r in results}
    for result in results:
        result.cells = _reachable(result, by_name, capabilities)
    return EnvAccess(model, capabilities, results, (time.perf_counter() - started) * 1000)


def _label(role: Role) -> str:
    return role.declared or role.name


def _reachable(start: RoleResult, by_name: dict[str, RoleResult], capabilities: list[str]) -> dict[str, Cell]:
    """The start role's capabilities, through every role it can reach by passing or assuming (fixed point)."""
    cells: dict[str, Cell] = {}
    seen = {start.role.name: _label(start.role)}
    queue = deque([(start, _label(start.role))])
    def settle(cap: str, cell: Cell) -> None:
        # A path that grants settles the cell (the shortest, found first); one that cannot be judged
        # leaves it open to a later grant, but never reads as denied.
        known = cells.get(cap)
        if known is None or (known.effective is None and cell.effective):
            cells[cap] = cell

    while queue:
        current, prefix = queue.popleft()
        for cap in capabilities:
            own = current.own.get(cap)
            if own is not None and own.effective is None:
                settle(cap, Cell(None, f"{prefix} → …", own.problem))
            elif own is not None and own.effective:
                settle(cap, Cell(True, f"{prefix} → {own.path}"))
        if current.role.unreadable:
            for cap in capabilities:
                settle(cap, Cell(None, f"{prefix} → …", "; ".join(current.role.unreadable)))
        for kind, action, target, via in current.edges:
            step = f"{prefix} → {action} → {target.name}" + (f" (via {via})" if via else "")
            if target.declared:
                settle(f"{kind}:{target.declared}", Cell(True, step))
            if target.name not in seen:
                seen[target.name] = step
                queue.append((by_name[target.name], step))
    for cap in capabilities:
        cells.setdefault(cap, Cell(False))
    return cells


class _Judge:
    """Asks the evaluator one capability at a time, with the statements of every document indexed once."""

    def __init__(self, model: AccessModel) -> None:
        self.model = model
        self.scps = [d.policy for d in model.scps]
        self.via = self._via_services()
        self._grants: dict[tuple[str, str, str, int], bool] = {}
        self._witness_memo: dict[tuple, list[str]] = {}

    # --- requests ----------------------------------------------------------------------------------

    def context(self, role: Role, region: str, service: str | None = None, **extra) -> dict:
        ctx: dict = {"aws:PrincipalArn": role.arn, "aws:PrincipalAccount": self.model.account,
                     "aws:PrincipalIsAWSService": False, "aws:PrincipalType": "AssumedRole",
                     "aws:SecureTransport": "true", "aws:RequestedRegion": region, "kms:CallerAccount": self.model.account}
        if role.human:
            ctx["aws:MultiFactorAuthPresent"] = "true"
        elif role.workload and self.model.vpc:
            ctx["aws:SourceVpc"] = self.model.vpc
            if service and service in self.model.endpoints:
                ctx["aws:SourceVpce"] = self.model.endpoints[service]
        ctx.update(extra)
        return ctx

    def request(self, role: Role, action: str, resource: str, ctx: dict) -> Request:
        return Request(action, resource, ctx, {"AWS": role.arn}, KNOWN_KEYS)

    # --- a role's own capabilities -----------------------------------------------------------------

    def own(self, role: Role) -> dict[str, Cell]:
        cells: dict[str, Cell] = {}
        if role.unreadable:
            return cells
        for data_class in DATA_CLASSES:
            buckets = [b for b in self.model.buckets if b.data_class == data_class]
            cells[f"read:{data_class}"] = self._first(role, [(self._object, (role, b, "read")) for b in buckets])
            cells[f"write:{data_class}"] = self._first(role, [(self._object, (role, b, "write")) for b in buckets])
        for key_class in KEY_CLASSES:
            keys = [k for k in self.model.keys if k.key_class == key_class]
            cells[f"use-key:{key_class}"] = self._first(role, [(self._key_use, (role, k)) for k in keys])
        for capability in API_CAPABILITIES:
            cells[capability.name] = self._first(role, [(self._api, (role, capability, a)) for a in capability.actions])
        return cells

    def _first(self, role: Role, attempts) -> Cell:
        """Effective as soon as one attempt allows; cannot judge if none allows and one could not be judged."""
        unjudged = None
        for func, args in attempts:
            try:
                found = func(*args)
            except _NotJudged as exc:
                unjudged = unjudged or Cell(None, "", str(exc))
                continue
            if found:
                return Cell(True, found)
        return unjudged or Cell(False)

    def _object(self, role: Role, bucket: Bucket, mode: str) -> str:
        """Read (s3:GetObject + kms:Decrypt) or write (s3:PutObject + kms:GenerateDataKey) an object."""
        if bucket.key_problem:
            raise _NotJudged(bucket.key_problem)
        s3_action = "s3:GetObject" if mode == "read" else "s3:PutObject"
        docs = [d for d in role.identity] + ([bucket.policy] if bucket.policy else [])
        scope = f"{bucket.arn}/*"
        for resource in self._witnesses(docs, s3_action, (scope,)):
            if not self._may_grant(role, s3_action, resource, bucket.policy):
                continue
            extra: dict = {"s3:TlsVersion": "1.3"}
            if mode == "write":  # writing is creating a new object (write-once buckets refuse any other PUT)
                extra.update({"s3:if-none-match": "*", "s3:ObjectCreationOperation": True})
            if mode == "write" and bucket.key is not None:
                extra.update({"s3:x-amz-server-side-encryption": "aws:kms",
                              "s3:x-amz-server-side-encryption-aws-kms-key-id": bucket.key.arn})
            request = self.request(role, s3_action, resource, self.context(role, bucket.region, "s3", **extra))
            if not self._allowed(role, request, bucket.policy, policy_required=False):
                continue
            if bucket.key is None:
                return f"{s3_action} on {resource}"
            kms_action = "kms:Decrypt" if mode == "read" else "kms:GenerateDataKey"
            context = {"kms:ViaService": f"s3.{bucket.region}.amazonaws.com",
                       "kms:EncryptionContext:aws:s3:arn": bucket.arn if bucket.bucket_key else resource}
            if self._kms(role, bucket.key, kms_action, context):
                return f"{s3_action} on {resource} + {kms_action} on {_key_name(bucket.key)} via S3"
        return ""

    def _key_use(self, role: Role, key: Key) -> str:
        for action in KEY_USE:
            if not self._may_grant(role, action, key.arn, key.policy):
                continue
            for via in (None, *self.via.get(key.region, ())):
                if self._kms(role, key, action, {"kms:ViaService": via} if via else {}):
                    return f"{action} on {_key_name(key)}" + (f" via {via}" if via else "")
        return ""

    def _kms(self, role: Role, key: Key, action: str, extra: dict) -> bool:
        if not self._may_grant(role, action, key.arn, key.policy):
            return False
        ctx = self.context(role, key.region, "kms", **extra, **{"kms:ResourceAliases": list(key.aliases)})
        return self._allowed(role, self.request(role, action, key.arn, ctx), key.policy, policy_required=True)

    def _api(self, role: Role, capability: ApiCapability, action: str) -> str:
        if action.startswith("kms:"):
            for key in self.model.keys:
                if self._kms(role, key, action, {}):
                    return f"{action} on {_key_name(key)}"
            return ""
        if action.startswith("sns:"):  # topics have their own policy
            for topic in self.model.topics:
                if not self._may_grant(role, action, topic.arn, topic.policy):
                    continue
                request = self.request(role, action, topic.arn, self.context(role, topic.arn.split(":")[3], "sns"))
                if self._allowed(role, request, topic.policy, policy_required=False):
                    return f"{action} on {topic.arn}"
            return ""
        patterns = tuple(self._fill(t) for t in capability.resources)
        for resource in self._witnesses(role.identity, action, patterns):
            if not self._may_grant(role, action, resource, None):
                continue
            region = resource.split(":")[3] if resource.count(":") >= 3 and resource.split(":")[3] else self.model.region
            ctx = self.context(role, region, action.split(":")[0], **dict(capability.context))
            if self._allowed(role, self.request(role, action, resource, ctx), None, policy_required=False):
                return f"{action} on {resource}"
        return ""

    # --- edges ---------------------------------------------------------------------------------------

    def edges(self, role: Role) -> list[tuple[str, str, Role, str]]:
        try:
            return self._edges(role)
        except _NotJudged as exc:
            role.unreadable.append(f"passing or assuming roles cannot be judged: {exc}")
            return []

    def _edges(self, role: Role) -> list[tuple[str, str, Role, str]]:
        out = []
        for target in self.model.roles:
            if target is role or not target.arn:
                continue
            for service in target.services:
                ctx = self.context(role, self.model.region, "iam", **{"iam:PassedToService": service})
                request = self.request(role, "iam:PassRole", target.arn, ctx)
                if self._allowed(role, request, None, policy_required=False, edge=True):
                    out.append(("pass-role", "iam:PassRole", target, service))
                    break
            if target.trust is not None:
                request = self.request(role, "sts:AssumeRole", target.arn, self.context(role, self.model.region, "sts"))
                if self._allowed(role, request, target.trust, policy_required=True, edge=True):
                    out.append(("assume-role", "sts:AssumeRole", target, ""))
        return out

    # --- evaluation ------------------------------------------------------------------------------------

    def _allowed(self, role: Role, request: Request, resource_policy: Doc | None, *, policy_required: bool,
                 edge: bool = False) -> bool:
        boundary = role.boundary.policy if role.boundary else None
        if not self._may_grant(role, request.action, request.resource, resource_policy):
            return False
        try:
            return same_account_allowed(resource_policy.policy if resource_policy else None,
                                        [d.policy for d in role.identity], request, boundary=boundary,
                                        scps=self.scps, policy_required=policy_required)
        except UnsupportedPolicy as exc:
            raise _NotJudged(self._locate(role, request, resource_policy, exc)) from None

    def _may_grant(self, role: Role, action: str, resource: str, resource_policy: Doc | None) -> bool:
        """Whether any Allow could grant the request, conditions aside: conditions only narrow a statement, so
        without one the answer is no, and the many requests no policy speaks of cost a lookup each."""
        key = (role.name, action, resource, id(resource_policy))
        found = self._grants.get(key)
        if found is None:
            found = any(_could_allow(stmt, resource) for doc in role.identity
                        for stmt in statements_for(doc.policy, action))
            if not found and resource_policy is not None:
                found = any(_could_allow(stmt, resource, role.arn)
                            for stmt in statements_for(resource_policy.policy, action))
            self._grants[key] = found
        return found

    def _locate(self, role: Role, request: Request, resource_policy: Doc | None, exc: Exception) -> str:
        docs = [*role.identity, *([role.boundary] if role.boundary else []), *self.model.scps,
                *([resource_policy] if resource_policy else [])]
        for doc in docs:
            try:
                evaluate([doc.policy], request)
            except UnsupportedPolicy as found:
                return f"{request.action} on {request.resource}: {doc.label}: {found}"
        return f"{request.action} on {request.resource}: {exc}"

    def _witnesses(self, docs: list[Doc], action: str, scopes: tuple[str, ...]) -> list[str]:
        """Concrete resources to try: each scope's probe, and one resource of each Allow statement for the
        action that lies in a scope."""
        key = (tuple(id(d) for d in docs), action, scopes)
        found = self._witness_memo.get(key)
        if found is None:
            found = self._witness_memo[key] = self._find_witnesses(docs, action, scopes)
        return found

    def _find_witnesses(self, docs: list[Doc], action: str, scopes: tuple[str, ...]) -> list[str]:
        out = [s.replace("*", PROBE) if s != "*" else "*" for s in scopes]
        for doc in docs:
            for stmt in statements_for(doc.policy, action):
                if stmt.get("Effect") != "Allow":
                    continue
                for pattern in as_list(stmt.get("Resource")):
                    if not isinstance(pattern, str) or "${" in pattern:
                        continue
                    concrete = pattern.replace("*", PROBE).replace("?", "x")
                    if any(wildcard_match(s, concrete) for s in scopes) and concrete not in out:
                        out.append(concrete)
        return out

    def _fill(self, template: str) -> str:
        m = self.model
        return template.format(region=m.region, account=m.account, prefix=m.prefix)

    def _via_services(self) -> dict[str, tuple[str, ...]]:
        """Per region, every `kms:ViaService` value a policy of the environment names (wildcards filled)."""
        found: dict[str, set[str]] = {}
        docs = [d for r in self.model.roles for d in r.identity] + [k.policy for k in self.model.keys]
        for doc in docs:
            for stmt in doc.policy.statements:
                for pairs in (stmt.get("Condition") or {}).values() if isinstance(stmt, dict) else ():
                    for key, values in (pairs.items() if isinstance(pairs, dict) else ()):
                        if key.lower() != "kms:viaservice":
                            continue
                        for value in as_list(values):
                            if isinstance(value, str):
                                region = value.split(".")[1] if value.count(".") >= 3 else self.model.region
                                region = self.model.region if "*" in region else region
                                found.setdefault(region, set()).add(value.replace("*", region))
        order = ("s3.", "sagemaker.", "lambda.")
        return {region: tuple(sorted(values, key=lambda v: (next((i for i, o in enumerate(order) if v.startswith(o)),
                                                                     len(order)), v)))
                for region, values in found.items()}


class _NotJudged(Exception):
    pass


def _could_allow(stmt: dict, resource: str, caller: str | None = None) -> bool:
    """An Allow statement (already matched by action) whose resource, and in a resource policy whose
    principal (`caller` given), admit the request."""
    if stmt.get("Effect") != "Allow":
        return False
    if caller is not None and "Principal" in stmt:
        principal = stmt["Principal"]
        named = principal == "*" or (isinstance(principal, dict) and any(
            p in ("*", caller) for value in principal.values() for p in as_list(value)))
        if not named:
            return False  # naming the account only delegates: the identity policies must grant then
    if "Resource" in stmt:
        return any(isinstance(r, str) and ("${" in r or wildcard_match(r, resource)) for r in as_list(stmt["Resource"]))
    return True  # NotResource: leave it to the evaluator


def _key_name(key: Key) -> str:
    if key.key_class is None:
        return f"key {key.arn.rsplit('/', 1)[1]}"
    return f"the {key.key_class}{' DR' if key.dr else ''} key"
