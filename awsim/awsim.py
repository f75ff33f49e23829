#!/usr/bin/env python3
"""awsim: an AWS-behaviour layer in front of moto_server, for the tests.

moto answers at once, never conflicts, never throttles and never loses a
response. Real AWS does all of these. This proxy sits between `deployer` and
`moto_server` on 127.0.0.1 and adds, seeded so that a run can be repeated:

realism (--realism), modelled on the AWS API references and on the retry
predicates of terraform-provider-aws (internal/service/*):
  iam     a new role is invisible to GetRole, ListAttachedRolePolicies and
          AttachRolePolicy for a moment (NoSuchEntity), its
          ARN then briefly reads as its unique ID (AROA...); CreateFunction
          with a role created seconds ago answers InvalidParameterValueException
          "The role defined for the function cannot be assumed by Lambda." or,
          for a function with environment variables, the KMS CreateGrant /
          InvalidArnException message; DeleteRole right after DetachRolePolicy
          answers 409 DeleteConflict.
  lambda  State=Pending after CreateFunction and LastUpdateStatus=InProgress
          after an update; an update in that window answers 409
          ResourceConflictException.
  apigw   a change to an API while another change to it is in flight answers
          409 ConflictException "Unable to complete operation due to
          concurrent modification. Please try again later."
  cognito one app-client write per pool at a time
          (ConcurrentModificationException); a new domain is CREATING for a
          while; DeleteUserPoolDomain is asynchronous, and DeleteUserPool right
          after it answers InvalidParameterException "User pool cannot be
          deleted. It has a domain configured that should be deleted first."

chaos, each at a rate: the service's own throttling error, 500/503 (neither
reaches moto), and lost responses: a mutating request is applied by moto and
its response never arrives (the connection is closed).

Every decision is drawn from a generator seeded with (seed, operation, n-th
occurrence of that operation), so a run with the same seed injects the same
faults even when requests interleave differently.

gaps, always on: the operations AWS has and moto 5.2.5 lacks, answered as
AWS answers them, so that the deployer makes the same calls here as on AWS:
  apigw   UpdateApi with a CORS configuration: AWS keeps the CORS fields it
          is not sent (moto replaces the whole configuration), so a field
          dropped from a program is left in place unless sent empty.
          GetAuthorizers (the list; moto has only GetAuthorizer by ID): the
          authorizers created through this layer, each read back from moto;
          UpdateStage (moto has none): a settings overlay that GetStage(s)
          answers, kept as AWS keeps them: the fields not sent stay, a
          stage variable sent empty is removed, access log settings sent
          empty turn logging off (as Terraform's UpdateStage does);
          DeleteAccessLogSettings (moto has none): logging off;
          (logs below)
          a stage's route settings (RouteSettings by route key): checked
          against the API's routes on CreateStage and UpdateStage
          (BadRequestException for a route key it does not have, as AWS),
          merged by route key on UpdateStage, DeleteRouteSettings (moto has
          none) removing one;
          TagResource/UntagResource/GetTags on a stage's ARN (moto serves no
          route for it): a tag overlay that GetStage(s) answers.
  cognito TagResource/UntagResource/ListTagsForResource on a user pool: a tag
          overlay that DescribeUserPool answers (moto keeps pool tags in the
          pool's settings, which UpdateUserPool resets, as AWS does not);
          UpdateUserPool keeps the settings fixed at creation
          (UsernameAttributes, AliasAttributes, UsernameConfiguration), which
          moto's reset drops; DeleteUserPool of a pool with deletion
          protection answers InvalidParameterException, as AWS does.
  lambda  AddPermission with a statement ID the function's policy has:
          ResourceConflictException, as AWS (moto adds a second statement).
  logs    a log group's class (moto ignores logGroupClass): kept from
          CreateLogGroup, reported by DescribeLogGroups (STANDARD unless
          made otherwise); AssociateKmsKey/DisassociateKmsKey (moto has
          none): the group's kmsKeyId as DescribeLogGroups reports it.
  s3      GetBucketVersioning: moto answers another XML root
          (GetBucketVersioningResponse); AWS's is VersioningConfiguration.
  lambda  a function's EphemeralStorage and TracingConfig sent to
          UpdateFunctionConfiguration (moto ignores them on update): an
          overlay that GetFunction(Configuration) answers; its LoggingConfig
          is rules.py's (AWS's defaults, not what was sent).
  logs    DeleteLogGroup: moto keeps the deleted group's tags, which a group
          made again under its name then shows; AWS's new group has none.

distance, for the benchmark (scripts/bench): --latency adds a fixed delay to
every request (the round trip to a region), --serial answers one request at
a time (the same calls made one after another: the sequential baseline), and
--record FILE appends one JSON line per request (start, end, service,
operation, status) from which the bench counts round trips.

quotas (--quotas, off by default; quotas.py, table quotas.json, QUOTAS.md):
AWS's documented control-plane request-rate quotas, a token bucket per access
key, region, service and bucket; past one, the service's own throttling error
(counted as quota:<service>:<bucket>). --quota-scale F multiplies every rate
and burst (0.5: an account whose quotas other callers share).

GET /__awsim/stats answers the injected faults by kind (JSON).
The proxy exits when its parent process goes away (nothing outlives a test).
"""

import argparse
import hashlib
import http.client
import json
import os
import random
import re
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote

import rules  # layer (b): the documented rules of each operation (rules.py)
import validate  # layer (a): requests checked against AWS's published models (validate.py)
import quotas  # --quotas: AWS's documented request-rate quotas (quotas.py, quotas.json)

ARGS = None
QUOTAS = None  # quotas.Quotas with --quotas
LOCK = threading.Lock()
STATS = {}
SERIAL = threading.Lock()  # --serial: held over each whole request
RECORD_LOCK = threading.Lock()
OCCURRENCE = {}
# realism state, all guarded by LOCK
ROLE_CREATED = {}  # role name -> (time, role id)
ROLE_ARN_CREATED = {}  # role arn -> time
ROLE_DETACHED = {}  # role name -> time
FN_PENDING_UNTIL = {}  # function name -> time
FN_UPDATING_UNTIL = {}  # function name -> time
API_BUSY = {}  # api id -> in-flight mutations
POOL_CLIENT_BUSY = {}  # pool id -> in-flight client writes
DOMAIN_READY_AT = {}  # domain -> time
POOL_DOMAIN_DELETING = {}  # pool id -> time the domain is really gone
# gaps, all guarded by LOCK
AUTHORIZERS = {}  # api id -> set of authorizer ids created through here
STAGE_TAGS = {}  # (api id, stage name) -> tags
LOG_CLASS = {}  # log group name -> its class (moto ignores logGroupClass)
LOG_KMS = {}  # log group name -> KMS key ARN or None, after Associate/DisassociateKmsKey
STAGE_SETTINGS = {}  # (api id, stage name) -> settings UpdateStage changed
FN_CONFIG = {}  # function name -> configuration moto drops (EphemeralStorage, ...)
POOL_TAGS = {}  # user pool id -> tags
ACCOUNT = "123456789012"  # moto's default account


def count(kind):
    with LOCK:
        STATS[kind] = STATS.get(kind, 0) + 1


def w(seconds):
    """A realism window, scaled."""
    return seconds * ARGS.scale


def rng_for(op):
    with LOCK:
        n = OCCURRENCE.get(op, 0)
        OCCURRENCE[op] = n + 1
    h = hashlib.sha256(f"{ARGS.seed}:{op}:{n}".encode()).digest()
    return random.Random(int.from_bytes(h[:8], "big"))


def is_mutating(op):
    return not op.startswith(("Get", "List", "Describe", "AdminGet", "AdminList", "Lookup"))


LAMBDA_ROUTES = [
    ("POST", r"^/2015-03-31/functions/?$", "CreateFunction"),
    ("GET", r"^/2015-03-31/functions/([^/]+)/configuration$", "GetFunctionConfiguration"),
    ("PUT", r"^/2015-03-31/functions/([^/]+)/configuration$", "UpdateFunctionConfiguration"),
    ("PUT", r"^/2015-03-31/functions/([^/]+)/code$", "UpdateFunctionCode"),
    ("PUT", r"^/2017-10-31/functions/([^/]+)/concurrency$", "PutFunctionConcurrency"),
    ("DELETE", r"^/2017-10-31/functions/([^/]+)/concurrency$", "DeleteFunctionConcurrency"),
    ("POST", r"^/2015-03-31/functions/([^/]+)/policy$", "AddPermission"),
    ("GET", r"^/2015-03-31/functions/([^/]+)/policy$", "GetPolicy"),
    ("DELETE", r"^/2015-03-31/functions/([^/]+)/policy/[^/]+$", "RemovePermission"),
    ("GET", r"^/2015-03-31/functions/([^/]+)$", "GetFunction"),
    ("DELETE", r"^/2015-03-31/functions/([^/]+)$", "DeleteFunction"),
    ("POST", r"^/2017-03-31/tags/(.+)$", "TagResource"),
    ("DELETE", r"^/2017-03-31/tags/(.+)$", "UntagResource"),
    ("GET", r"^/2017-03-31/tags/(.+)$", "ListTags"),
]


def function_name(ref):
    ref = unquote(ref)
    if ref.startswith("arn:"):
        parts = ref.split(":")
        return parts[6] if len(parts) > 6 else ref
    return ref


def classify(method, path, headers, body):
    """(service, operation, subject) of a request."""
    auth = headers.get("Authorization", "")
    m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/aws4_request", auth)
    service = m.group(1) if m else "unknown"
    target = headers.get("X-Amz-Target")
    path_only = path.split("?")[0]
    if target:
        op = target.rsplit(".", 1)[-1]
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            doc = {}
        return service, op, doc
    if service in ("iam", "sts"):
        form = {k: v[0] for k, v in parse_qs(body.decode(errors="replace")).items()}
        return service, form.get("Action", "Unknown"), form
    if service == "lambda":
        for meth, pat, op in LAMBDA_ROUTES:
            mm = re.match(pat, path_only)
            if meth == method and mm:
                if op == "CreateFunction":
                    try:
                        return service, op, json.loads(body or b"{}").get("FunctionName")
                    except ValueError:
                        return service, op, None
                return service, op, function_name(mm.group(1))
        return service, f"{method} {path_only}", None
    if service == "apigateway":
        api = None
        mm = re.match(r"^/v2/apis/([^/]+)", path_only)
        if mm:
            api = mm.group(1)
        mm = re.match(r"^/v2/tags/(.+)$", path_only)
        if mm:
            ma = re.search(r"/apis/([^/]+)", unquote(mm.group(1)))
            api = ma.group(1) if ma else None
        verb = {"GET": "Get", "POST": "Create", "PUT": "Put", "PATCH": "Update", "DELETE": "Delete"}.get(method, method)
        return service, f"{verb} {re.sub(r'/v2/apis/[^/]+', '/v2/apis/ID', path_only)}", api
    return service, f"{method} {path_only}", None


# ------------------------------------------------------------ error shapes

def json_error(status, code, message, extra=None):
    body = {"__type": code, "message": message}
    if extra:
        body.update(extra)
    return status, {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}, json.dumps(body).encode()


def rest_error(status, code, message, extra=None):
    body = {"message": message}
    if extra:
        body.update(extra)
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, json.dumps(body).encode()


def query_error(status, code, message, kind="Sender"):
    body = (
        '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return status, {"Content-Type": "text/xml"}, body.encode()


def throttle_error(service):
    if service in ("iam", "sts"):
        return query_error(400, "Throttling", "Rate exceeded")
    if service == "lambda":
        return rest_error(429, "TooManyRequestsException", "Rate exceeded", {"Type": "User", "Reason": "CallerRateLimitExceeded"})
    if service == "apigateway":
        return rest_error(429, "TooManyRequestsException", "Too Many Requests")
    if service == "logs":
        return json_error(400, "ThrottlingException", "Rate exceeded")
    if service == "s3":
        return 503, {"Content-Type": "application/xml"}, b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
    return json_error(400, "TooManyRequestsException", "Too many requests")


def server_error(service, status):
    if service in ("iam", "sts"):
        return query_error(status, "ServiceFailure" if status == 500 else "ServiceUnavailable", "Service failure", "Receiver")
    if service in ("lambda", "apigateway"):
        code = "ServiceException" if status == 500 else "ServiceUnavailableException"
        return rest_error(status, code, "Internal failure")
    if service == "s3":
        return status, {"Content-Type": "application/xml"}, b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"
    code = "InternalErrorException" if status == 500 else "ServiceUnavailable"
    return json_error(status, code, "Internal error")


# ------------------------------------------------------------ realism

def realism_before(service, op, subject, body, now):
    """An error AWS would answer now instead of applying the request, or None."""
    if service == "iam":
        name = subject.get("RoleName") if isinstance(subject, dict) else None
        with LOCK:
            created = ROLE_CREATED.get(name)
            detached = ROLE_DETACHED.get(name)
        if op in ("GetRole", "ListAttachedRolePolicies", "AttachRolePolicy") and created and now - created[0] < w(ARGS.role_invisible):
            count("iam_role_not_yet_visible")
            return query_error(404, "NoSuchEntity", f"The role with name {name} cannot be found.")
        if op == "DeleteRole" and detached and now - detached < w(ARGS.delete_conflict):
            count("iam_delete_conflict")
            return query_error(409, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
    if service == "lambda":
        if op == "CreateFunction":
            try:
                doc = json.loads(body or b"{}")
            except ValueError:
                doc = {}
            role = doc.get("Role", "")
            with LOCK:
                t = ROLE_ARN_CREATED.get(role)
            if t is not None and now - t < w(ARGS.role_unassumable):
                if (doc.get("Environment") or {}).get("Variables") and rng_for("kms-message").random() < 0.5:
                    count("lambda_kms_create_grant")
                    return rest_error(
                        400,
                        "InvalidParameterValueException",
                        "Lambda was unable to configure access to your environment variables because the KMS key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: InvalidArnException KMS Message: ARN does not refer to a valid principal: " + role,
                        {"Type": "User"},
                    )
                count("lambda_role_not_assumable")
                return rest_error(
                    400, "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.", {"Type": "User"}
                )
        # "Pending: ... Any invocations or other API actions that operate on
        # the function will fail." (Lambda function states page); an update
        # in progress refuses the next update the same way.
        if op in ("UpdateFunctionCode", "UpdateFunctionConfiguration", "PutFunctionConcurrency", "DeleteFunctionConcurrency"):
            with LOCK:
                pending = FN_PENDING_UNTIL.get(subject, 0) > now
                updating = FN_UPDATING_UNTIL.get(subject, 0) > now and op.startswith("Update")
            if pending or updating:
                count("lambda_update_conflict")
                why = (
                    "The operation cannot be performed at this time. The function is currently in the following state: Pending"
                    if pending
                    else f"The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:eu-west-1:123456789012:function:{subject}"
                )
                return rest_error(409, "ResourceConflictException", why, {"Type": "User"})
    if service == "cognito-idp" and op == "DeleteUserPool":
        pool = subject.get("UserPoolId")
        with LOCK:
            until = POOL_DOMAIN_DELETING.get(pool, 0)
        if until > now:
            count("cognito_pool_has_domain")
            return json_error(400, "InvalidParameterException", "User pool cannot be deleted. It has a domain configured that should be deleted first.")
    return None


def realism_after(service, op, subject, status, body, now):
    """Records what a successful request started, and rewrites what AWS would
    still report differently. Returns the (possibly rewritten) body."""
    if not (200 <= status < 300):
        return body
    if service == "iam":
        name = subject.get("RoleName") if isinstance(subject, dict) else None
        if op == "CreateRole":
            m = re.search(rb"<RoleId>([^<]+)</RoleId>", body)
            a = re.search(rb"<Arn>([^<]+)</Arn>", body)
            with LOCK:
                ROLE_CREATED[name] = (now, m.group(1).decode() if m else "AROAEXAMPLE")
                if a:
                    ROLE_ARN_CREATED[a.group(1).decode()] = now
        elif op == "DetachRolePolicy":
            with LOCK:
                ROLE_DETACHED[name] = now
        elif op == "GetRole":
            with LOCK:
                created = ROLE_CREATED.get(name)
            if created and now - created[0] < w(ARGS.role_invisible + ARGS.role_arn_as_id):
                count("iam_role_arn_is_unique_id")
                body = re.sub(rb"<Arn>[^<]+</Arn>", b"<Arn>" + created[1].encode() + b"</Arn>", body, count=1)
    elif service == "lambda":
        if op == "CreateFunction":
            with LOCK:
                FN_PENDING_UNTIL[subject] = now + w(ARGS.lambda_pending)
        elif op in ("UpdateFunctionCode", "UpdateFunctionConfiguration"):
            with LOCK:
                FN_UPDATING_UNTIL[subject] = now + w(ARGS.lambda_updating)
        elif op in ("GetFunction", "GetFunctionConfiguration"):
            with LOCK:
                pending = FN_PENDING_UNTIL.get(subject, 0) > now
                updating = FN_UPDATING_UNTIL.get(subject, 0) > now
            if pending or updating:
                try:
                    doc = json.loads(body)
                except ValueError:
                    return body
                conf = doc.get("Configuration", doc) if op == "GetFunction" else doc
                if pending:
                    count("lambda_pending_reported")
                    conf["State"] = "Pending"
                    conf["StateReason"] = "The function is being created."
                    conf["StateReasonCode"] = "Creating"
                    conf["LastUpdateStatus"] = "InProgress"
                else:
                    count("lambda_update_in_progress_reported")
                    conf["LastUpdateStatus"] = "InProgress"
                    conf["LastUpdateStatusReasonCode"] = None
                body = json.dumps(doc).encode()
    elif service == "cognito-idp":
        if op == "CreateUserPoolDomain":
            with LOCK:
                DOMAIN_READY_AT[subject.get("Domain")] = now + w(ARGS.domain_creating)
        elif op == "DeleteUserPoolDomain":
            with LOCK:
                POOL_DOMAIN_DELETING[subject.get("UserPoolId")] = now + w(ARGS.domain_deleting)
                DOMAIN_READY_AT.pop(subject.get("Domain"), None)
        elif op == "DescribeUserPoolDomain":
            with LOCK:
                ready = DOMAIN_READY_AT.get(subject.get("Domain"), 0)
            if ready > now:
                try:
                    doc = json.loads(body)
                except ValueError:
                    return body
                if doc.get("DomainDescription", {}).get("Status"):
                    count("cognito_domain_creating_reported")
                    doc["DomainDescription"]["Status"] = "CREATING"
                    body = json.dumps(doc).encode()
    return body


class Busy:
    """One in-flight change per API (apigw) or per pool's app clients
    (cognito): the request holds its subject for the request latency, and
    a second change meanwhile is refused as AWS refuses it."""

    def __init__(self, table, key):
        self.table, self.key, self.held = table, key, False

    def try_hold(self):
        with LOCK:
            if self.table.get(self.key, 0) > 0:
                return False
            self.table[self.key] = 1
            self.held = True
            return True

    def release(self):
        if self.held:
            with LOCK:
                self.table[self.key] = 0


CLIENT_WRITES = ("CreateUserPoolClient", "UpdateUserPoolClient", "DeleteUserPoolClient")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes: with Nagle's algorithm
    # the body waited for the client's delayed ACK (40 ms on Linux) after
    # every answer, which AWS's endpoints do not add.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *a):
        if ARGS.verbose:
            sys.stderr.write("awsim: " + (fmt % a) + "\n")

    def reply(self, status, headers, body):
        self.status = status
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        if self.path.startswith("/__awsim/") or self.path.startswith("/moto-api"):
            return self.handle_request()
        start = time.monotonic()
        self.status = "lost"
        if ARGS.serial:
            SERIAL.acquire()
        try:
            if ARGS.latency:
                time.sleep(ARGS.latency)
            return self.handle_request()
        finally:
            if ARGS.serial:
                SERIAL.release()
            if ARGS.record:
                line = json.dumps({"start": start, "end": time.monotonic(), "service": self.service,
                                   "op": self.op, "status": self.status, "method": self.command,
                                   "path": self.path, "quota_refused": getattr(self, "quota_refused", False)})
                with RECORD_LOCK, open(ARGS.record, "a") as f:
                    f.write(line + "\n")

    def handle_request(self):
        self.service, self.op = "?", "?"
        self.quota_refused = False
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path.startswith("/__awsim/stats"):
            with LOCK:
                data = json.dumps(STATS, sort_keys=True).encode()
            return self.reply(200, {"Content-Type": "application/json"}, data)
        headers = {k: v for k, v in self.headers.items()}
        service, op, subject = classify(self.command, self.path, self.headers, body)
        self.service, self.op = service, op
        mutating = is_mutating(op.split(" ")[0]) if service not in ("lambda",) else self.command not in ("GET", "HEAD")
        if service == "apigateway":
            mutating = self.command not in ("GET", "HEAD")
        if service == "sts" or self.path.startswith("/moto-api"):
            return self.forward(body, headers, service, op, subject, mutating, chaos=False)
        return self.forward(body, headers, service, op, subject, mutating, chaos=True)

    def forward(self, body, headers, service, op, subject, mutating, chaos):
        # --quotas: a token from the account's bucket before anything else can answer
        if QUOTAS is not None and not self.path.startswith("/moto-api"):
            err = QUOTAS.take(service, op, self.command, self.path, headers)
            if err is not None:
                self.quota_refused = True
                return self.reply(*err)
        if service in ARGS.deny or op in ARGS.deny:
            count(f"access_denied:{service}")
            if service == "s3":
                return self.reply(403, {"Content-Type": "application/xml"}, b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
            return self.reply(*json_error(400, "AccessDeniedException", "User is not authorized to perform this action"))
        rng = rng_for(f"{service}:{op}")
        if chaos:
            if rng.random() < ARGS.throttle:
                count(f"throttle:{service}")
                return self.reply(*throttle_error(service))
            if rng.random() < ARGS.error5xx:
                status = 500 if rng.random() < 0.5 else 503
                count(f"http{status}:{service}")
                return self.reply(*server_error(service, status))
        # AWS checks a request against its model and its documented rules
        # before it applies it: an invalid request is answered here, and
        # never reaches moto (which would accept it).
        if not ARGS.no_validate:
            err = validate.check(CTX, service, op, self.command, self.path, headers, body)
            if err is not None:
                return self.reply(*err)
        err = rules.before(CTX, service, op, self.command, self.path, headers, body)
        if err is not None:
            return self.reply(*err)
        lose = chaos and mutating and rng.random() < ARGS.lost
        busy = None
        now = time.monotonic()
        if ARGS.realism:
            err = realism_before(service, op, subject, body, now)
            if err:
                return self.reply(*err)
            if service == "apigateway" and mutating and subject:
                busy = Busy(API_BUSY, subject)
            elif service == "cognito-idp" and op in CLIENT_WRITES:
                busy = Busy(POOL_CLIENT_BUSY, subject.get("UserPoolId"))
            if busy and not busy.try_hold():
                if service == "apigateway":
                    count("apigw_concurrent_modification")
                    return self.reply(*rest_error(409, "ConflictException", "Unable to complete operation due to concurrent modification. Please try again later."))
                count("cognito_concurrent_client_write")
                return self.reply(*json_error(400, "ConcurrentModificationException", "Cannot modify user pool client concurrently. Please try again."))
        try:
            if ARGS.realism and mutating:
                time.sleep(w(ARGS.write_latency) * (0.5 + rng.random()))
            gap = fill_gap(service, op, self.command, self.path, body, headers)
            if gap is not None:
                status, rheaders, rbody = gap
            else:
                conn = http.client.HTTPConnection(ARGS.upstream_host, ARGS.upstream_port, timeout=120)
                fwd = {k: v for k, v in headers.items() if k.lower() not in ("connection", "keep-alive", "transfer-encoding")}
                conn.request(self.command, self.path, body=body, headers=fwd)
                resp = conn.getresponse()
                rbody = resp.read()
                rheaders = {k: v for k, v in resp.getheaders()}
                status = resp.status
                conn.close()
                rbody = gap_after(service, op, self.command, self.path, status, rbody, subject, body)
            status, rheaders, rbody = rules.after(CTX, service, op, self.command, self.path, headers, body, status, rheaders, rbody)
        finally:
            if busy:
                busy.release()
        if ARGS.realism:
            rbody = realism_after(service, op, subject, status, rbody, time.monotonic())
        replace_after_get(service, self.command, self.path, status, headers)
        if lose:
            count(f"lost_response:{service}")
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        return self.reply(status, rheaders, rbody)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


# ------------------------------------------------------------ gaps of moto

def upstream(method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection(ARGS.upstream_host, ARGS.upstream_port, timeout=120)
    fwd = {k: v for k, v in (headers or {}).items() if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length")}
    conn.request(method, path, body=body, headers=fwd)
    resp = conn.getresponse()
    out = resp.status, {k: v for k, v in resp.getheaders()}, resp.read()
    conn.close()
    return out


def cognito_call(headers, op, doc):
    h = dict(headers)
    h["X-Amz-Target"] = f"AWSCognitoIdentityProviderService.{op}"
    return upstream("POST", "/", json.dumps(doc).encode(), h)


def pool_of_arn(arn):
    m = re.match(r"^arn:[^:]+:cognito-idp:[^:]*:[^:]*:userpool/(.+)$", arn or "")
    return m.group(1) if m else None


def stage_of_arn(arn):
    m = re.search(r"/apis/([^/]+)/stages/([^/]+)$", unquote(arn or ""))
    return (m.group(1), m.group(2)) if m else None


def pool_tags(headers, pool):
    """The overlay of a pool's tags, seeded from moto on first use."""
    with LOCK:
        if pool in POOL_TAGS:
            return POOL_TAGS[pool]
    st, _, b = cognito_call(headers, "DescribeUserPool", {"UserPoolId": pool})
    if st != 200:
        return None
    tags = json.loads(b).get("UserPool", {}).get("UserPoolTags") or {}
    with LOCK:
        return POOL_TAGS.setdefault(pool, dict(tags))


def stage_tags(headers, api, stage):
    with LOCK:
        if (api, stage) in STAGE_TAGS:
            return STAGE_TAGS[(api, stage)]
    st, _, b = upstream("GET", f"/v2/apis/{api}/stages/{stage}", headers=headers)
    if st != 200:
        return None
    tags = json.loads(b).get("tags") or {}
    with LOCK:
        return STAGE_TAGS.setdefault((api, stage), dict(tags))


def with_stage_settings(api, doc):
    """A stage as moto reports it, with what UpdateStage changed (LOCK held)."""
    over = STAGE_SETTINGS.get((api, doc.get("stageName")))
    if over:
        doc.update(over)
        if doc.get("accessLogSettings") is None:
            doc.pop("accessLogSettings", None)
    return doc


def unknown_route_keys(headers, api, doc):
    """The route keys of a stage's RouteSettings the API has no route for."""
    keys = list((doc.get("routeSettings") or {}).keys())
    if not keys:
        return []
    st, _, b = upstream("GET", f"/v2/apis/{api}/routes", headers=headers)
    have = {r.get("routeKey") for r in json.loads(b).get("items", [])} if st == 200 else set()
    return [k for k in keys if k not in have]


def refuse_unknown_routes(missing):
    return rest_error(400, "BadRequestException",
                      f"Unable to find Route by key {missing[0]} within the provided RouteSettings")


def delete_route_settings(headers, api, stage, key):
    st, h, b = upstream("GET", f"/v2/apis/{api}/stages/{quote(stage, safe='')}", headers=headers)
    if st != 200:
        return st, h, b
    with LOCK:
        current = with_stage_settings(api, json.loads(b))
        routes = dict(current.get("routeSettings") or {})
        if key not in routes:
            return rest_error(404, "NotFoundException", f"Unable to find route settings for {key}")
        routes.pop(key)
        STAGE_SETTINGS.setdefault((api, stage), {})["routeSettings"] = routes
    count("gap:DeleteRouteSettings")
    return 204, {}, b""


def delete_access_log_settings(headers, api, stage):
    """DeleteAccessLogSettings (moto has none): 'To disable access logging
    for a Stage, delete its AccessLogSettings' (API Gateway v2 API
    reference, apis-apiid-stages-stagename-accesslogsettings): 204, and the
    stage's overlay loses its access log settings."""
    st, h, b = upstream("GET", f"/v2/apis/{api}/stages/{quote(stage, safe='')}", headers=headers)
    if st != 200:
        return st, h, b
    with LOCK:
        STAGE_SETTINGS.setdefault((api, stage), {})["accessLogSettings"] = None
    count("gap:DeleteAccessLogSettings")
    return 204, {}, b""


def update_stage(headers, api, stage, path, body):
    st, h, b = upstream("GET", path, headers=headers)
    if st != 200:
        return st, h, b
    doc = json.loads(body or b"{}")
    missing = unknown_route_keys(headers, api, doc)
    if missing:
        return refuse_unknown_routes(missing)
    with LOCK:
        current = with_stage_settings(api, json.loads(b))
        over = STAGE_SETTINGS.setdefault((api, stage), {})
        for k in ("description", "autoDeploy", "defaultRouteSettings", "deploymentId", "clientCertificateId"):
            if k in doc:
                over[k] = doc[k]
        if "accessLogSettings" in doc:
            log = doc["accessLogSettings"] or {}
            over["accessLogSettings"] = log if log.get("destinationArn") else None
        if doc.get("routeSettings"):
            routes = dict(current.get("routeSettings") or {})
            routes.update(doc["routeSettings"])
            over["routeSettings"] = routes
        if "stageVariables" in doc:
            variables = dict(current.get("stageVariables") or {})
            for k, v in (doc["stageVariables"] or {}).items():
                if v == "":
                    variables.pop(k, None)
                else:
                    variables[k] = v
            over["stageVariables"] = variables
        out = with_stage_settings(api, current)
    count("gap:UpdateStage")
    return 200, {"Content-Type": "application/json"}, json.dumps(out).encode()


def forget_log_group_tags(body, headers):
    """Before DeleteLogGroup: moto keeps a deleted group's tags (by ARN), so
    a group made again under the name would show them; AWS's has none."""
    try:
        name = json.loads(body or b"{}").get("logGroupName")
    except ValueError:
        return
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    m = re.search(r"Credential=[^/]+/[^/]+/([^/]+)/logs/", auth)
    if not name or not m:
        return
    arn = f"arn:aws:logs:{m.group(1)}:{ACCOUNT}:log-group:{name}"
    h = {k: v for k, v in headers.items() if k.lower() != "x-amz-target"}
    h["X-Amz-Target"] = "Logs_20140328.ListTagsForResource"
    st, _, b = upstream("POST", "/", json.dumps({"resourceArn": arn}).encode(), h)
    keys = list(json.loads(b).get("tags", {}).keys()) if st == 200 else []
    if keys:
        h["X-Amz-Target"] = "Logs_20140328.UntagResource"
        upstream("POST", "/", json.dumps({"resourceArn": arn, "tagKeys": keys}).encode(), h)
        count("gap:DeleteLogGroup tags")


def fill_gap(service, op, method, path, body, headers):
    """An answer for an operation moto lacks, or None to forward."""
    path_only = path.split("?")[0]
    query = parse_qs(path.split("?", 1)[1]) if "?" in path else {}
    if service == "logs" and op == "DeleteLogGroup":
        forget_log_group_tags(body, headers)
        return None
    if service == "lambda" and op == "AddPermission":
        # AWS refuses a statement ID the function's policy has (moto adds a
        # second statement under it).
        m = re.match(r"^/2015-03-31/functions/([^/]+)/policy$", path_only)
        sid = json.loads(body or b"{}").get("StatementId")
        st, _, b = upstream("GET", f"/2015-03-31/functions/{m.group(1)}/policy", headers=headers)
        if st == 200:
            policy = json.loads(json.loads(b).get("Policy") or "{}")
            statements = policy.get("Statement") or []
            if isinstance(statements, dict):
                statements = [statements]
            if any(x.get("Sid") == sid for x in statements):
                count("gap:AddPermission conflict")
                return rest_error(409, "ResourceConflictException",
                                  f"The statement id ({sid}) provided already exists. Please provide a new statement id, or remove the existing statement.")
        return None
    if service == "logs" and op in ("AssociateKmsKey", "DisassociateKmsKey"):
        doc = json.loads(body or b"{}")
        name = doc.get("logGroupName")
        h = dict(headers)
        h["X-Amz-Target"] = "Logs_20140328.DescribeLogGroups"
        st, _, b = upstream("POST", "/", json.dumps({"logGroupNamePrefix": name}).encode(), h)
        groups = json.loads(b).get("logGroups", []) if st == 200 else []
        if not any(g.get("logGroupName") == name for g in groups):
            return json_error(400, "ResourceNotFoundException", "The specified log group does not exist.")
        with LOCK:
            LOG_KMS[name] = doc.get("kmsKeyId") if op == "AssociateKmsKey" else None
        count(f"gap:{op}")
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, b"{}"
    if service == "apigateway":
        m = re.match(r"^/v2/apis/([^/]+)$", path_only)
        if m and method == "PATCH":
            doc = json.loads(body or b"{}")
            if doc.get("corsConfiguration") is not None:
                st, h, b = upstream("GET", path_only, headers=headers)
                if st != 200:
                    return st, h, b
                merged = json.loads(b).get("corsConfiguration") or {}
                merged.update(doc["corsConfiguration"])
                doc["corsConfiguration"] = merged
                count("gap:UpdateApi cors merge")
                return upstream("PATCH", path, json.dumps(doc).encode(), headers)
            return None
        m = re.match(r"^/v2/apis/([^/]+)/stages/([^/]+)$", path_only)
        if m and method == "PATCH":
            return update_stage(headers, m.group(1), unquote(m.group(2)), path_only, body)
        m = re.match(r"^/v2/apis/([^/]+)/stages/([^/]+)/routesettings/([^/]+)$", path_only)
        if m and method == "DELETE":
            return delete_route_settings(headers, m.group(1), unquote(m.group(2)), unquote(m.group(3)))
        m = re.match(r"^/v2/apis/([^/]+)/stages/([^/]+)/accesslogsettings$", path_only)
        if m and method == "DELETE":
            return delete_access_log_settings(headers, m.group(1), unquote(m.group(2)))
        m = re.match(r"^/v2/apis/([^/]+)/stages$", path_only)
        if m and method == "POST":
            missing = unknown_route_keys(headers, m.group(1), json.loads(body or b"{}"))
            if missing:
                return refuse_unknown_routes(missing)
            return None
        m = re.match(r"^/v2/apis/([^/]+)/authorizers$", path_only)
        if m and method == "GET":
            api = m.group(1)
            st, h, b = upstream("GET", f"/v2/apis/{api}", headers=headers)
            if st != 200:
                return st, h, b
            items = []
            with LOCK:
                ids = sorted(AUTHORIZERS.get(api, ()))
            for i in ids:
                st, _, b = upstream("GET", f"/v2/apis/{api}/authorizers/{i}", headers=headers)
                if st == 200:
                    items.append(json.loads(b))
            count("gap:GetAuthorizers")
            return 200, {"Content-Type": "application/json"}, json.dumps({"items": items}).encode()
        m = re.match(r"^/v2/tags/(.+)$", path_only)
        stage = stage_of_arn(m.group(1)) if m else None
        if stage:
            tags = stage_tags(headers, *stage)
            if tags is None:
                return rest_error(404, "NotFoundException", f"Invalid stage identifier specified")
            with LOCK:
                if method == "POST":
                    tags.update(json.loads(body or b"{}").get("tags") or {})
                elif method == "DELETE":
                    for k in query.get("tagKeys", []):
                        tags.pop(k, None)
                out = dict(tags)
            count(f"gap:stage {method}")
            if method == "GET":
                return 200, {"Content-Type": "application/json"}, json.dumps({"tags": out}).encode()
            return (201 if method == "POST" else 204), {"Content-Type": "application/json"}, b"{}" if method == "POST" else b""
    if service == "cognito-idp" and op in ("TagResource", "UntagResource", "ListTagsForResource"):
        doc = json.loads(body or b"{}")
        pool = pool_of_arn(doc.get("ResourceArn"))
        tags = pool_tags(headers, pool) if pool else None
        if tags is None:
            return json_error(400, "ResourceNotFoundException", f"Resource {doc.get('ResourceArn')} not found")
        with LOCK:
            if op == "TagResource":
                tags.update(doc.get("Tags") or {})
            elif op == "UntagResource":
                for k in doc.get("TagKeys") or []:
                    tags.pop(k, None)
            out = dict(tags)
        count(f"gap:{op}")
        body = {"Tags": out} if op == "ListTagsForResource" else {}
        return 200, {"Content-Type": "application/x-amz-json-1.1"}, json.dumps(body).encode()
    if service == "cognito-idp" and op == "UpdateUserPool":
        # AWS keeps a pool's tags apart from its settings: seed the overlay
        # before moto's UpdateUserPool resets them with the settings.
        doc = json.loads(body or b"{}")
        pool = doc.get("UserPoolId")
        if pool:
            pool_tags(headers, pool)
            # It keeps what is fixed at creation too (UpdateUserPool has no
            # such parameter); moto's reset drops it.
            st, _, b = cognito_call(headers, "DescribeUserPool", {"UserPoolId": pool})
            cur = json.loads(b).get("UserPool", {}) if st == 200 else {}
            kept = {k: cur[k] for k in ("UsernameAttributes", "AliasAttributes", "UsernameConfiguration") if k in cur}
            if kept:
                doc.update(kept)
                count("gap:UpdateUserPool keeps creation settings")
                return upstream("POST", path, json.dumps(doc).encode(), headers)
    if service == "cognito-idp" and op == "DeleteUserPool":
        # AWS refuses while deletion protection is on; moto deletes.
        pool = json.loads(body or b"{}").get("UserPoolId")
        st, _, b = cognito_call(headers, "DescribeUserPool", {"UserPoolId": pool})
        if st == 200 and json.loads(b).get("UserPool", {}).get("DeletionProtection") == "ACTIVE":
            count("deletion_protection")
            return json_error(400, "InvalidParameterException", "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.")
    return None


REPLACED = []


def replace_after_get(service, method, path, status, headers):
    """The test hook --replace-after-get: someone else writes the object
    right after the deployer read it, once."""
    if not ARGS.replace_after_get or service != "s3" or method != "GET" or status != 200:
        return
    target, _, source = ARGS.replace_after_get.partition("=")
    if path.split("?")[0] != target:
        return
    with LOCK:
        if REPLACED:
            return
        REPLACED.append(path)
    with open(source, "rb") as f:
        data = f.read()
    h = {k: v for k, v in headers.items() if k.lower() not in ("content-length", "x-amz-content-sha256", "content-md5")}
    h["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
    upstream("PUT", target, data, h)
    count("replaced_after_get")


# LoggingConfig is rules.py's (what AWS stores: its defaults, INFO levels
# with JSON), not an echo of what was sent.
FN_CONFIG_KEYS = ("EphemeralStorage", "TracingConfig")


def gap_after(service, op, method, path, status, body, subject, req=b""):
    """What moto answered, with the gaps' state applied."""
    path_only = path.split("?")[0]
    try:
        if service == "logs" and 200 <= status < 300:
            if op == "CreateLogGroup":
                sent = json.loads(req or b"{}")
                with LOCK:
                    LOG_CLASS[sent.get("logGroupName")] = sent.get("logGroupClass") or "STANDARD"
                    LOG_KMS.pop(sent.get("logGroupName"), None)
            if op == "DeleteLogGroup":
                with LOCK:
                    LOG_CLASS.pop(subject.get("logGroupName"), None)
                    LOG_KMS.pop(subject.get("logGroupName"), None)
            if op == "DescribeLogGroups":
                doc = json.loads(body)
                with LOCK:
                    for g in doc.get("logGroups", []):
                        name = g.get("logGroupName")
                        g["logGroupClass"] = LOG_CLASS.get(name, "STANDARD")
                        if name in LOG_KMS:
                            if LOG_KMS[name]:
                                g["kmsKeyId"] = LOG_KMS[name]
                            else:
                                g.pop("kmsKeyId", None)
                return json.dumps(doc).encode()
        if service == "lambda" and subject:
            if op in ("CreateFunction", "UpdateFunctionConfiguration") and 200 <= status < 300:
                sent = json.loads(req or b"{}")
                with LOCK:
                    over = FN_CONFIG.setdefault(subject, {})
                    for k in FN_CONFIG_KEYS:
                        if k in sent:
                            over[k] = sent[k]
            if op == "DeleteFunction" and 200 <= status < 300:
                with LOCK:
                    FN_CONFIG.pop(subject, None)
            if op in ("GetFunction", "GetFunctionConfiguration", "CreateFunction", "UpdateFunctionConfiguration") and status == 200:
                doc = json.loads(body)
                conf = doc.get("Configuration", doc) if op == "GetFunction" else doc
                with LOCK:
                    conf.update(FN_CONFIG.get(subject, {}))
                return json.dumps(doc).encode()
        if service == "s3" and method == "GET" and status == 200 and re.search(r"[?&]versioning(=|&|$)", path):
            m = re.search(rb"<Status>([A-Za-z]+)</Status>", body)
            status_xml = b"<Status>" + m.group(1) + b"</Status>" if m else b""
            return (b'<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                    + status_xml + b"</VersioningConfiguration>")
        if service == "apigateway":
            m = re.match(r"^/v2/apis/([^/]+)/authorizers(/([^/]+))?$", path_only)
            if m and method == "POST" and status in (200, 201):
                with LOCK:
                    AUTHORIZERS.setdefault(m.group(1), set()).add(json.loads(body)["authorizerId"])
            elif m and method == "DELETE" and m.group(3):
                with LOCK:
                    AUTHORIZERS.get(m.group(1), set()).discard(m.group(3))
            m = re.match(r"^/v2/apis/([^/]+)/stages(/([^/]+))?$", path_only)
            if m and method == "GET" and status == 200:
                api = m.group(1)
                doc = json.loads(body)
                with LOCK:
                    for st in doc.get("items", [doc]) if not m.group(3) else [doc]:
                        with_stage_settings(api, st)
                        t = STAGE_TAGS.get((api, st.get("stageName")))
                        if t is not None:
                            st["tags"] = dict(t)
                return json.dumps(doc).encode()
            if m and method == "DELETE" and m.group(3):
                with LOCK:
                    STAGE_TAGS.pop((m.group(1), unquote(m.group(3))), None)
                    STAGE_SETTINGS.pop((m.group(1), unquote(m.group(3))), None)
        if service == "cognito-idp" and status == 200:
            if op == "DescribeUserPool":
                doc = json.loads(body)
                pool = doc.get("UserPool", {}).get("Id")
                with LOCK:
                    t = POOL_TAGS.get(pool)
                    if t is not None:
                        doc["UserPool"]["UserPoolTags"] = dict(t)
                return json.dumps(doc).encode()
            if op == "DeleteUserPool":
                with LOCK:
                    POOL_TAGS.pop(subject.get("UserPoolId"), None)
    except (ValueError, KeyError, AttributeError):
        pass
    return body


class Ctx:
    """What validate.py and rules.py use of this module (passed to them, so
    that they do not import this script a second time as a module)."""

    upstream = staticmethod(lambda *a, **k: upstream(*a, **k))
    json_error = staticmethod(lambda *a, **k: json_error(*a, **k))
    rest_error = staticmethod(lambda *a, **k: rest_error(*a, **k))
    query_error = staticmethod(lambda *a, **k: query_error(*a, **k))
    count = staticmethod(lambda *a, **k: count(*a, **k))
    lock = LOCK

    @property
    def args(self):
        return ARGS


CTX = Ctx()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # deployer opens a connection per request in flight: socketserver's
    # backlog of 5 would leave the rest of a round of reads waiting.
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client killed mid-request (the crash tests do it on purpose).
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def watchdog(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(0.5)


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", required=True, help="moto_server, e.g. http://127.0.0.1:5000")
    p.add_argument("--port", type=int, default=0, help="0: any free port (printed on stdout)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--realism", action="store_true")
    p.add_argument("--throttle", type=float, default=0.0, help="rate of throttled calls")
    p.add_argument("--error5xx", type=float, default=0.0, help="rate of 500/503 answers")
    p.add_argument("--lost", type=float, default=0.0, help="rate of lost responses of mutating calls")
    p.add_argument("--scale", type=float, default=1.0, help="multiplies every realism window")
    p.add_argument("--role-invisible", type=float, default=1.0)
    p.add_argument("--role-arn-as-id", type=float, default=0.5)
    p.add_argument("--role-unassumable", type=float, default=4.0)
    p.add_argument("--delete-conflict", type=float, default=1.0)
    p.add_argument("--lambda-pending", type=float, default=1.5)
    p.add_argument("--lambda-updating", type=float, default=1.0)
    p.add_argument("--domain-creating", type=float, default=2.0)
    p.add_argument("--domain-deleting", type=float, default=1.5)
    p.add_argument("--write-latency", type=float, default=0.08)
    p.add_argument("--deny", action="append", default=[], help="answer AccessDenied to every call of this service, or to this operation (CreateFunction)")
    p.add_argument("--replace-after-get", default=None,
                   help="PATH=FILE: after the first answered GET of this S3 path, write FILE's bytes there (another writer racing a read-then-delete)")
    p.add_argument("--latency", type=float, default=0.0, help="seconds added to every request (the distance to a region)")
    p.add_argument("--serial", action="store_true", help="one request at a time (the sequential baseline)")
    p.add_argument("--record", default=None, help="FILE: one JSON line per request (start, end, service, op, status)")
    p.add_argument("--account-concurrency", type=int, default=1000,
                   help="the account's Lambda concurrency limit (rules.py: PutFunctionConcurrency, GetAccountSettings); a new account's is 10")
    p.add_argument("--update-group-omitted", choices=("keep", "clear"), default="keep",
                   help="what Cognito UpdateGroup does with Description/RoleArn/Precedence it is not sent (undocumented; rules.py)")
    p.add_argument("--no-validate", action="store_true", help="do not check requests against AWS's published models (validate.py)")
    p.add_argument("--verbose", action="store_true")
    p.add_argument("--quotas", action="store_true", help="AWS's documented request-rate quotas (quotas.json): the service's throttling error past them")
    p.add_argument("--quota-scale", type=float, default=1.0, help="multiplies every quota's rate and burst (0.5: quotas shared with other callers)")
    ARGS = p.parse_args()
    m = re.match(r"^http://([^:/]+):(\d+)", ARGS.upstream)
    ARGS.upstream_host, ARGS.upstream_port = m.group(1), int(m.group(2))
    if ARGS.quotas:
        global QUOTAS
        QUOTAS = quotas.Quotas(quotas.load(), ARGS.quota_scale, count=count, throttle_error=throttle_error)
    server = Server(("127.0.0.1", ARGS.port), Handler)
    threading.Thread(target=watchdog, args=(os.getppid(),), daemon=True).start()
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
