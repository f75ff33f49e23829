"""Layer (b): the documented rules of the operations the kinds call.

Each rule is what an AWS API reference or developer guide page says the
operation does (or, where the page is silent, what terraform-provider-aws's
code or acceptance tests record AWS answering). awsim.py calls `before` for
every request (an error answer instead of applying it) and `after` once moto
applied it (the answer AWS gives). RULES.md lists every rule with its source;
each rule's code names its source in a comment (see SRC).

Nothing here echoes what a request sent: an answer is AWS's (its documented
default, its documented error) or moto's own state read back.
"""

import fnmatch
import json
import re
import threading
import time
import xml.etree.ElementTree as ET
from urllib.parse import quote, unquote, urlencode, urlparse

SRC = {
    "lambda-xray": "https://docs.aws.amazon.com/lambda/latest/dg/services-xray.html",
    "lambda-concurrency": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html",
    "lambda-account-settings": "https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html",
    "lambda-logging": "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html",
    "lambda-logging-config": "https://docs.aws.amazon.com/lambda/latest/api/API_LoggingConfig.html",
    "lambda-env": "https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html",
    "cognito-update-pool": "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UpdateUserPool.html",
    "cognito-updating": "https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pool-updating.html",
    "cognito-mfa": "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_SetUserPoolMfaConfig.html",
    "cognito-template": "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_VerificationMessageTemplateType.html",
    "cognito-idp-mapping": "https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-specifying-attribute-mapping.html",
    "cognito-update-group": "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UpdateGroup.html",
    "cognito-update-client": "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_UpdateUserPoolClient.html",
    "cognito-create-client": "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolClient.html",
    "cognito-domain": "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_CreateUserPoolDomain.html",
    "apigw-access-log": "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages-stagename.html",
    "logs-retention": "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html",
    "tagging": "https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html",
    "apigw-routes": "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-routes.html",
    "apigw-route": "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-routes.html",
    "apigw-integration": "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-integrations.html",
    "apigw-authorizer": "https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-authorizers.html",
    "cognito-add-to-group": "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminAddUserToGroup.html",
    "cognito-admin-create-user": "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminCreateUser.html",
    "cognito-set-password": "https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminSetUserPassword.html",
    "iam-quotas": "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
    "iam-create-role": "https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html",
}

STATE_LOCK = threading.Lock()
FN_LOGGING = {}  # function name -> LoggingConfig as AWS stores it
GROUP_CLEARED = {}  # (pool, group) -> fields UpdateGroup cleared (--update-group-omitted clear)
CLIENT_RESET = {}  # (pool, client id) -> members the last UpdateUserPoolClient reset


# ------------------------------------------------------------ helpers

def _doc(body):
    try:
        d = json.loads(body or b"{}")
    except ValueError:
        return {}
    return d if isinstance(d, dict) else {}


def _lambda_err(ctx, message, code="InvalidParameterValueException", status=400):
    return ctx.rest_error(status, code, message, {"Type": "User"})


def _cognito(ctx, headers, op, doc):
    h = {k: v for k, v in headers.items() if k.lower() != "x-amz-target"}
    h["X-Amz-Target"] = f"AWSCognitoIdentityProviderService.{op}"
    st, _, b = ctx.upstream("POST", "/", json.dumps(doc).encode(), h)
    return st, (_doc(b) if st == 200 else {})


def _as_service(headers, service, content_type=None):
    """The request's headers, signed for another service's endpoint in moto
    (moto routes by the credential scope; it checks no signature)."""
    h = {}
    for k, v in headers.items():
        lk = k.lower()
        if lk in ("x-amz-target", "content-type", "content-length"):
            continue
        if lk == "authorization":
            v = re.sub(r"(Credential=[^/]+/[^/]+/[^/]+/)[^/]+(/aws4_request)", r"\g<1>" + service + r"\2", v)
        h[k] = v
    if content_type:
        h["Content-Type"] = content_type
    return h


def _iam(ctx, headers, action, **params):
    h = _as_service(headers, "iam", "application/x-www-form-urlencoded; charset=utf-8")
    body = urlencode(dict(Action=action, Version="2010-05-08", **params)).encode()
    st, _, b = ctx.upstream("POST", "/", body, h)
    if st != 200:
        return None
    try:
        return ET.fromstring(b)
    except ET.ParseError:
        return None


def _texts(root, tag):
    return [e.text or "" for e in root.iter() if e.tag.split("}")[-1] == tag] if root is not None else []


# ------------------------------------------------------------ Lambda

XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# AWS managed policies that grant both actions, for a moto started without
# MOTO_IAM_LOAD_MANAGED_POLICIES (where GetPolicy cannot read them).
XRAY_MANAGED = {
    "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
    "arn:aws:iam::aws:policy/AWSXrayFullAccess",
    "arn:aws:iam::aws:policy/AWSXRayFullAccess",
    "arn:aws:iam::aws:policy/service-role/AWSLambdaTracerAccessExecutionRole",
    "arn:aws:iam::aws:policy/AdministratorAccess",
}


def _statements(doc):
    if isinstance(doc, str):
        try:
            doc = json.loads(unquote(doc))
        except ValueError:
            return []
    st = (doc or {}).get("Statement") or []
    return [st] if isinstance(st, dict) else [s for s in st if isinstance(s, dict)]


def _grants(statements, action):
    def matches(s):
        acts = s.get("Action", [])
        acts = [acts] if isinstance(acts, str) else acts
        if not any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in acts):
            return False
        res = s.get("Resource", "*")
        res = [res] if isinstance(res, str) else res
        return "*" in res
    if any(s.get("Effect") == "Deny" and matches(s) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and matches(s) for s in statements)


def _role_statements(ctx, headers, role_arn):
    """Every statement of the role's attached and inline policies (moto IAM),
    and whether an attached managed policy known to grant X-Ray is there."""
    name = (role_arn or "").rsplit("/", 1)[-1]
    statements, known = [], False
    attached = _iam(ctx, headers, "ListAttachedRolePolicies", RoleName=name)
    for arn in _texts(attached, "PolicyArn"):
        if arn in XRAY_MANAGED:
            known = True
            continue
        pol = _iam(ctx, headers, "GetPolicy", PolicyArn=arn)
        version = (_texts(pol, "DefaultVersionId") or [None])[0]
        if version:
            v = _iam(ctx, headers, "GetPolicyVersion", PolicyArn=arn, VersionId=version)
            for d in _texts(v, "Document"):
                statements += _statements(d)
    inline = _iam(ctx, headers, "ListRolePolicies", RoleName=name)
    for pname in _texts(inline, "member"):
        p = _iam(ctx, headers, "GetRolePolicy", RoleName=name, PolicyName=pname)
        for d in _texts(p, "PolicyDocument"):
            statements += _statements(d)
    return statements, known


def lambda_tracing(ctx, op, fn, headers, doc):
    """TracingConfig Active needs an execution role that may call
    xray:PutTraceSegments and xray:PutTelemetryRecords (Lambda developer
    guide, 'Visualize Lambda function invocations using AWS X-Ray':
    'your function's execution role needs permission ... AWSXRayDaemonWriteAccess');
    AWS's answer otherwise (InvalidParameterValueException) is recorded in
    serverless/serverless#6931 and coinbase/fenrir#1. SRC lambda-xray."""
    if ((doc.get("TracingConfig") or {}).get("Mode")) != "Active":
        return None
    role = doc.get("Role")
    if not role and op == "UpdateFunctionConfiguration":
        st, _, b = ctx.upstream("GET", f"/2015-03-31/functions/{quote(fn, safe='')}/configuration", headers=headers)
        role = _doc(b).get("Role") if st == 200 else None
    if not role:
        return None
    statements, known = _role_statements(ctx, headers, role)
    if known or all(_grants(statements, a) for a in XRAY_ACTIONS):
        return None
    ctx.count("rule:lambda_xray_permissions")
    return _lambda_err(ctx, "The provided execution role does not have permissions to call PutTraceSegments on XRAY")


def _functions(ctx, headers):
    names, marker = [], None
    while True:
        path = "/2015-03-31/functions/?MaxItems=50" + (f"&Marker={quote(marker)}" if marker else "")
        st, _, b = ctx.upstream("GET", path, headers=headers)
        if st != 200:
            return names
        d = _doc(b)
        names += [f for f in d.get("Functions", [])]
        marker = d.get("NextMarker")
        if not marker:
            return names


def _reserved(ctx, headers, name):
    st, _, b = ctx.upstream("GET", f"/2019-09-30/functions/{quote(name, safe='')}/concurrency", headers=headers)
    return int(_doc(b).get("ReservedConcurrentExecutions") or 0) if st == 200 else 0


def _min_unreserved(limit):
    # 'You can reserve up to the Unreserved account concurrency value minus
    # 100' (SRC lambda-concurrency); an account whose limit is below 100 (a
    # new account's 10) keeps all of it unreserved: AWS answers '[10]' there.
    return min(100, limit)


def lambda_concurrency(ctx, fn, headers, doc):
    """PutFunctionConcurrency keeps the account's unreserved concurrency at
    its minimum (SRC lambda-concurrency; the message recorded in
    aws-samples/siem-on-amazon-opensearch-service#175 and
    awslabs/fhir-works-on-aws-deployment#691)."""
    want = doc.get("ReservedConcurrentExecutions")
    if not isinstance(want, int):
        return None
    limit = ctx.args.account_concurrency
    others = sum(_reserved(ctx, headers, f["FunctionName"]) for f in _functions(ctx, headers) if f.get("FunctionName") != fn)
    floor = _min_unreserved(limit)
    if limit - others - want < floor:
        ctx.count("rule:lambda_unreserved_minimum")
        return _lambda_err(ctx, "Specified ReservedConcurrentExecutions for function decreases account's "
                                f"UnreservedConcurrentExecution below its minimum value of [{floor}].")
    return None


def lambda_account_settings(ctx, headers):
    """GetAccountSettings (moto has none): the account's limit
    (--account-concurrency) and what the reservations leave (SRC
    lambda-account-settings)."""
    limit = ctx.args.account_concurrency
    fns = _functions(ctx, headers)
    reserved = sum(_reserved(ctx, headers, f["FunctionName"]) for f in fns)
    body = {
        "AccountLimit": {
            "TotalCodeSize": 80530636800,
            "CodeSizeUnzipped": 262144000,
            "CodeSizeZipped": 52428800,
            "ConcurrentExecutions": limit,
            "UnreservedConcurrentExecutions": limit - reserved,
        },
        "AccountUsage": {
            "TotalCodeSize": sum(int(f.get("CodeSize") or 0) for f in fns),
            "FunctionCount": len(fns),
        },
    }
    ctx.count("rule:GetAccountSettings")
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def _current_logging(ctx, fn, headers):
    with STATE_LOCK:
        cur = FN_LOGGING.get(fn)
    if cur is not None:
        return dict(cur)
    return {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{fn}"}


def lambda_logging_before(ctx, op, fn, headers, doc):
    """Log levels only with the JSON format (SRC lambda-logging: 'To use
    log-level filtering, your function must be configured to use the JSON
    log format'); AWS's answer is recorded in aws/aws-cdk#28045."""
    lc = doc.get("LoggingConfig")
    if not isinstance(lc, dict):
        return None
    fmt = lc.get("LogFormat") or (_current_logging(ctx, fn, headers)["LogFormat"] if op == "UpdateFunctionConfiguration" else "Text")
    if fmt == "Text" and (lc.get("ApplicationLogLevel") or lc.get("SystemLogLevel")):
        ctx.count("rule:lambda_log_level_with_text")
        return _lambda_err(ctx, 'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your '
                                'request or change the LogFormat to "Json" and try again.')
    return None


def lambda_logging_store(fn, sent, cur):
    """What AWS stores: the format (Text unless sent), the group
    (/aws/lambda/NAME unless sent, SRC lambda-logging-config), and with JSON
    both levels, INFO where none is given (hashicorp/terraform-provider-aws
    #35301 and #42181 record AWS reporting INFO for levels never sent)."""
    fmt = sent.get("LogFormat") or cur.get("LogFormat") or "Text"
    out = {"LogFormat": fmt, "LogGroup": sent.get("LogGroup") or cur.get("LogGroup") or f"/aws/lambda/{fn}"}
    if fmt == "JSON":
        was_json = cur.get("LogFormat") == "JSON"
        out["ApplicationLogLevel"] = sent.get("ApplicationLogLevel") or (cur.get("ApplicationLogLevel") if was_json else None) or "INFO"
        out["SystemLogLevel"] = sent.get("SystemLogLevel") or (cur.get("SystemLogLevel") if was_json else None) or "INFO"
    return out


def lambda_logging_after(ctx, op, fn, headers, req, status, rbody):
    if not (200 <= status < 300):
        return rbody
    if op == "DeleteFunction":
        with STATE_LOCK:
            FN_LOGGING.pop(fn, None)
        return rbody
    if op in ("CreateFunction", "UpdateFunctionConfiguration"):
        sent = _doc(req).get("LoggingConfig")
        cur = {} if op == "CreateFunction" else _current_logging(ctx, fn, headers)
        if isinstance(sent, dict) or op == "CreateFunction":
            with STATE_LOCK:
                FN_LOGGING[fn] = lambda_logging_store(fn, sent if isinstance(sent, dict) else {}, cur)
    if op in ("CreateFunction", "UpdateFunctionConfiguration", "GetFunction", "GetFunctionConfiguration") and status == 200:
        d = _doc(rbody)
        conf = d.get("Configuration") if op == "GetFunction" else d
        if isinstance(conf, dict):
            conf["LoggingConfig"] = _current_logging(ctx, fn, headers)
            return json.dumps(d).encode()
    return rbody


# The keys the Lambda runtime sets, which 'are reserved and can't be set in
# your function configuration' (SRC lambda-env, 'Defined runtime
# environment variables').
RESERVED_ENV = {
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}


def lambda_environment(ctx, doc):
    """Environment variables: no reserved key, and at most 4 KB in all
    (SRC lambda-env: 'The total size of all environment variables doesn't
    exceed 4 KB')."""
    env = (doc.get("Environment") or {}).get("Variables")
    if not isinstance(env, dict):
        return None
    reserved = sorted(k for k in env if k in RESERVED_ENV)
    if reserved:
        ctx.count("rule:lambda_env_reserved")
        return _lambda_err(ctx, "Lambda was unable to configure your environment variables because the environment "
                                "variables you have provided contains reserved keys that are currently not supported "
                                "for modification. Reserved keys used in this request: " + ", ".join(reserved))
    measured = json.dumps(env, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > 4096:
        ctx.count("rule:lambda_env_4kb")
        return _lambda_err(ctx, "Lambda was unable to configure your environment variables because the environment "
                                "variables you have provided exceeded the 4KB limit. String measured: " + measured)
    return None


def lambda_op(method, path):
    """(operation, function name) of a Lambda request rules.py handles."""
    p = path.split("?")[0]
    m = re.match(r"^/2017-10-31/functions/([^/]+)/concurrency/?$", p)
    if m and method == "PUT":
        return "PutFunctionConcurrency", _fn_name(m.group(1))
    if method == "GET" and re.match(r"^/2016-08-19/account-settings/?$", p):
        return "GetAccountSettings", None
    m = re.match(r"^/2015-03-31/functions/([^/]+)/configuration$", p)
    if m:
        return ("UpdateFunctionConfiguration" if method == "PUT" else "GetFunctionConfiguration"), _fn_name(m.group(1))
    m = re.match(r"^/2015-03-31/functions/([^/]+)$", p)
    if m and method in ("GET", "DELETE"):
        return ("GetFunction" if method == "GET" else "DeleteFunction"), _fn_name(m.group(1))
    if method == "POST" and re.match(r"^/2015-03-31/functions/?$", p):
        return "CreateFunction", None
    return None, None


def _fn_name(ref):
    ref = unquote(ref)
    if ref.startswith("arn:"):
        parts = ref.split(":")
        return parts[6] if len(parts) > 6 else ref
    return ref


# ------------------------------------------------------------ Cognito

MFA_MESSAGE = "SMS configuration and Auto verification for phone_number are required when MFA is required/optional"


def cognito_mfa_pool(ctx, op, headers, doc):
    """MfaConfiguration ON or OPTIONAL needs an MFA factor: CreateUserPool
    has only SMS (SmsConfiguration); UpdateUserPool also finds the factors
    SetUserPoolMfaConfig turned on (SRC cognito-mfa; AWS's answer is recorded
    in aws/aws-cdk#12075, #11478 and hashicorp/terraform-provider-aws#7261)."""
    if doc.get("MfaConfiguration") not in ("ON", "OPTIONAL"):
        return None
    sms = bool(doc.get("SmsConfiguration")) and "phone_number" in (doc.get("AutoVerifiedAttributes") or [])
    if sms:
        return None
    if op == "UpdateUserPool":
        st, cfg = _cognito(ctx, headers, "GetUserPoolMfaConfig", {"UserPoolId": doc.get("UserPoolId")})
        if st != 200:
            return None
        if (cfg.get("SoftwareTokenMfaConfiguration") or {}).get("Enabled") or cfg.get("SmsMfaConfiguration") \
                or cfg.get("EmailMfaConfiguration"):
            return None
    ctx.count("rule:cognito_mfa_without_factor")
    return ctx.json_error(400, "InvalidParameterException", MFA_MESSAGE)


def cognito_set_mfa(ctx, doc):
    """SetUserPoolMfaConfig: ON/OPTIONAL with every factor off, and OFF with
    a factor on, are refused (SRC cognito-mfa; the answers are recorded in
    aws/aws-sdk-js#4186, anomalyco/sst#5177 and in terraform-provider-aws
    internal/service/cognitoidp/user_pool.go, resourceUserPoolUpdate)."""
    mode = doc.get("MfaConfiguration")
    factor = bool((doc.get("SoftwareTokenMfaConfiguration") or {}).get("Enabled")) \
        or bool(doc.get("SmsMfaConfiguration")) or bool(doc.get("EmailMfaConfiguration"))
    if mode in ("ON", "OPTIONAL") and not factor:
        ctx.count("rule:cognito_mfa_all_disabled")
        return ctx.json_error(400, "InvalidParameterException",
                              "Invalid MFA configuration given, can't disable all MFAs with a required or optional configuration.")
    if mode == "OFF" and factor:
        ctx.count("rule:cognito_mfa_off_with_factor")
        return ctx.json_error(400, "InvalidParameterException",
                              "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.")
    return None


# {##text##}: the link; {####} (the code) is no link.
LINK = re.compile(r"\{##(?!#).+?##\}", re.S)


def cognito_messages(ctx, doc):
    """The verification messages' placeholders: a code message carries
    {####}, a link message {##...##}; with CONFIRM_WITH_LINK the link message
    in effect (EmailMessageByLink, else the older EmailVerificationMessage)
    needs the link (SRC cognito-template: 'For link, your template body must
    contain link text in the format {##Click here##} ... For code, ... {####}').
    AWS's answer, InvalidParameterException 'The message is invalid.', is
    recorded in aws/aws-cli#8280, aws-amplify/amplify-cli#5907, aws/aws-cdk#6811."""
    t = doc.get("VerificationMessageTemplate") or {}
    bad = False
    for k, src in (("EmailMessage", t), ("SmsMessage", t), ("EmailVerificationMessage", doc), ("SmsVerificationMessage", doc)):
        v = src.get(k)
        if isinstance(v, str) and "{####}" not in v:
            bad = True
    v = t.get("EmailMessageByLink")
    if isinstance(v, str) and not LINK.search(v):
        bad = True
    if t.get("DefaultEmailOption") == "CONFIRM_WITH_LINK":
        link = t.get("EmailMessageByLink") or doc.get("EmailVerificationMessage")
        if isinstance(link, str) and not LINK.search(link):
            bad = True
    if bad:
        ctx.count("rule:cognito_message_invalid")
        return ctx.json_error(400, "InvalidParameterException", "The message is invalid.")
    return None


def cognito_update_pool_after(ctx, headers, req, status):
    """UpdateUserPool sets what it is not sent to its default (SRC
    cognito-update-pool, cognito-updating): moto resets the settings it
    keeps in the pool's configuration, but not the MFA mode, which it never
    takes from UpdateUserPool at all: here the mode becomes the one sent, or
    OFF, the factors kept."""
    if status != 200:
        return
    doc = _doc(req)
    pool = doc.get("UserPoolId")
    st, cfg = _cognito(ctx, headers, "GetUserPoolMfaConfig", {"UserPoolId": pool})
    if st != 200:
        return
    mode = doc.get("MfaConfiguration") or "OFF"
    if cfg.get("MfaConfiguration") == mode:
        return
    out = {"UserPoolId": pool, "MfaConfiguration": mode}
    for k in ("SmsMfaConfiguration", "SoftwareTokenMfaConfiguration", "EmailMfaConfiguration", "WebAuthnConfiguration"):
        if cfg.get(k):
            out[k] = cfg[k]
    _cognito(ctx, headers, "SetUserPoolMfaConfig", out)
    ctx.count("rule:cognito_update_pool_mfa_mode")


def cognito_describe_pool_after(rbody):
    """DescribeUserPool reports the defaults of what was never set (or was
    reset): DeletionProtection INACTIVE (SRC cognito-update-pool:
    'DeletionProtection ... INACTIVE' default), which moto leaves out."""
    d = _doc(rbody)
    p = d.get("UserPool")
    if not isinstance(p, dict):
        return rbody
    p.setdefault("DeletionProtection", "INACTIVE")
    return json.dumps(d).encode()


SOCIAL = {"Google": "sub", "Facebook": "id", "LoginWithAmazon": "user_id", "SignInWithApple": "sub", "OIDC": "sub"}


def cognito_idp_before(ctx, op, doc):
    """A social provider's name is its type (AWS's answer recorded in
    aws/aws-cli#3179: 'Provider NameOfGP cannot be of type Google.')."""
    if op != "CreateIdentityProvider":
        return None
    t, n = doc.get("ProviderType"), doc.get("ProviderName")
    if t in SOCIAL and t != "OIDC" and n != t:
        ctx.count("rule:cognito_idp_name_type")
        return ctx.json_error(400, "InvalidParameterException", f"Provider {n} cannot be of type {t}.")
    return None


def cognito_idp_after(ctx, op, headers, req, status, rbody):
    """The username mapping: a social or OIDC provider's username is the
    provider's user ID (Google, Apple, OIDC sub; Facebook id; Login with
    Amazon user_id), added when not sent and reported by
    DescribeIdentityProvider; SAML's comes from the NameID, no mapping
    (SRC cognito-idp-mapping; terraform-provider-aws
    internal/service/cognitoidp/identity_provider_test.go: a Google provider
    created without attribute_mapping reads back username = sub, a SAML one
    only what it was sent). moto adds username=sub to every type, and only
    when no mapping was sent."""
    if status != 200:
        return rbody
    d = _doc(rbody)
    idp = d.get("IdentityProvider")
    if not isinstance(idp, dict):
        return rbody
    t = idp.get("ProviderType")
    mapping = dict(idp.get("AttributeMapping") or {})
    sent = _doc(req).get("AttributeMapping")
    if t in SOCIAL:
        want = dict(mapping)
        want.setdefault("username", SOCIAL[t])
        if op == "CreateIdentityProvider" and sent is None and mapping == {"username": "sub"}:
            want = {"username": SOCIAL[t]}
    elif t == "SAML" and op == "CreateIdentityProvider" and sent is None:
        want = {}
    else:
        return rbody
    if want != mapping:
        _cognito(ctx, headers, "UpdateIdentityProvider", {
            "UserPoolId": idp.get("UserPoolId") or _doc(req).get("UserPoolId"),
            "ProviderName": idp.get("ProviderName"), "AttributeMapping": want})
        idp["AttributeMapping"] = want
        ctx.count("rule:cognito_idp_username_mapping")
        return json.dumps(d).encode()
    return rbody


def cognito_group_after(ctx, op, req, status, rbody):
    """UpdateGroup and the fields it is not sent: undocumented (SRC
    cognito-update-group says only 'updates any of the properties for
    precedence, IAM role, or description'); terraform-provider-aws sends only
    the changed fields (user_group.go resourceUserGroupUpdate). --update-group-
    omitted keep (moto's, the default) or clear (hidden from the answers)."""
    if status != 200:
        return rbody
    doc = _doc(req)
    key = (doc.get("UserPoolId"), doc.get("GroupName"))
    fields = ("Description", "RoleArn", "Precedence")
    with STATE_LOCK:
        if op == "UpdateGroup" and getattr(_ARGS[0], "update_group_omitted", "keep") == "clear":
            GROUP_CLEARED[key] = {f for f in fields if f not in doc}
        elif op in ("CreateGroup", "DeleteGroup"):
            GROUP_CLEARED.pop(key, None)
        cleared = dict(GROUP_CLEARED)
    if not cleared:
        return rbody
    d = _doc(rbody)
    groups = d.get("Groups") if op == "ListGroups" else [d.get("Group")]
    for g in groups or []:
        if isinstance(g, dict):
            for f in cleared.get((g.get("UserPoolId"), g.get("GroupName")), ()):
                g.pop(f, None)
    return json.dumps(d).encode()


# The defaults UpdateUserPoolClient gives what it is not sent (SRC
# cognito-update-client): each from that page's parameter text.
CLIENT_DEFAULTS = {
    "RefreshTokenValidity": 30,  # 'your refresh tokens are valid for 30 days'
    "AllowedOAuthFlowsUserPoolClient": False,  # 'it defaults to false'
    "PreventUserExistenceErrors": "LEGACY",  # 'Defaults to LEGACY.'
    "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"],
    "AuthSessionValidity": 3,
    "EnableTokenRevocation": True,  # 'token revocation is automatically activated'
    "EnablePropagateAdditionalUserContextData": False,
}
# Kept: what identifies the client, and ClientName (nothing to default to).
CLIENT_KEPT = {"UserPoolId", "ClientId", "ClientName", "ClientSecret", "CreationDate", "LastModifiedDate"}


def cognito_client_after(ctx, op, req, status, rbody):
    """UpdateUserPoolClient resets what it is not sent (SRC
    cognito-update-client: 'If you don't provide a value for an attribute,
    Amazon Cognito sets it to its default value'); moto keeps it."""
    if status != 200:
        return rbody
    doc = _doc(req)
    key = (doc.get("UserPoolId"), doc.get("ClientId"))
    with STATE_LOCK:
        if op == "UpdateUserPoolClient":
            CLIENT_RESET[key] = set(doc)
        elif op == "DeleteUserPoolClient":
            CLIENT_RESET.pop(key, None)
        sent = CLIENT_RESET.get(key)
    if sent is None or op not in ("UpdateUserPoolClient", "DescribeUserPoolClient"):
        return rbody
    d = _doc(rbody)
    c = d.get("UserPoolClient")
    if not isinstance(c, dict):
        return rbody
    for k in list(c):
        if k not in sent and k not in CLIENT_KEPT:
            c.pop(k)
    for k, v in CLIENT_DEFAULTS.items():
        if k not in sent:
            c[k] = v
    if "TokenValidityUnits" not in sent:
        c.pop("TokenValidityUnits", None)
    return json.dumps(d).encode()


UNIT = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}

CLIENT_DATES = {}  # (pool, client id) -> (created, last modified), epoch seconds


def cognito_client_dates(op, req, status, rbody):
    """A client's CreationDate and LastModifiedDate, which AWS reports in
    every UserPoolClientType (API_UserPoolClientType.html) and moto 5.2.5
    leaves out: kept from the create (and each update) through this layer."""
    if status != 200:
        return rbody
    d = _doc(rbody)
    c = d.get("UserPoolClient")
    if not isinstance(c, dict):
        return rbody
    key = (c.get("UserPoolId"), c.get("ClientId"))
    now = time.time()
    with STATE_LOCK:
        if op == "CreateUserPoolClient":
            CLIENT_DATES[key] = (now, now)
        elif op == "UpdateUserPoolClient":
            created = CLIENT_DATES.get(key, (now, now))[0]
            CLIENT_DATES[key] = (created, now)
        dates = CLIENT_DATES.get(key)
    if dates is None:
        return rbody
    c["CreationDate"], c["LastModifiedDate"] = dates
    return json.dumps(d).encode()


def cognito_client_before(ctx, op, headers, doc):
    """CreateUserPoolClient / UpdateUserPoolClient: the token validity range,
    the OAuth flows and the providers (SRC cognito-create-client,
    cognito-update-client)."""
    units = doc.get("TokenValidityUnits") or {}
    # Refresh: 60 minutes to 10 years, unit days by default; access and ID:
    # 5 minutes to 1 day, unit hours by default ('Valid range is displayed
    # below in seconds'); 0 refresh is overridden with 30 days. AWS's
    # answer is recorded in aws-samples/cloudfront-authorization-at-edge#144
    # and awsdocs/aws-cloudformation-user-guide#828.
    for key, ukey, default_unit, lo, hi in (
        ("RefreshTokenValidity", "RefreshToken", "days", 3600, 315360000),
        ("AccessTokenValidity", "AccessToken", "hours", 300, 86400),
        ("IdTokenValidity", "IdToken", "hours", 300, 86400),
    ):
        v = doc.get(key)
        if not isinstance(v, int) or (key == "RefreshTokenValidity" and v == 0):
            continue
        secs = v * UNIT.get(units.get(ukey) or default_unit, 1)
        if not lo <= secs <= hi:
            ctx.count("rule:cognito_token_validity")
            return ctx.json_error(400, "InvalidParameterException", "Invalid range for token validity.")
    flows = doc.get("AllowedOAuthFlows") or []
    # 'To create an app client that generates client credentials grants, you
    # must add client_credentials as the only allowed OAuth flow.'
    if "client_credentials" in flows and len(set(flows)) > 1:
        ctx.count("rule:cognito_client_credentials_alone")
        return ctx.json_error(400, "InvalidParameterException",
                              "client_credentials flow can not be selected along with code flow or implicit flow.")
    if "client_credentials" in flows:
        secret = bool(doc.get("GenerateSecret") or doc.get("ClientSecret"))
        if op == "UpdateUserPoolClient":
            st, c = _cognito(ctx, headers, "DescribeUserPoolClient",
                             {"UserPoolId": doc.get("UserPoolId"), "ClientId": doc.get("ClientId")})
            secret = bool((c.get("UserPoolClient") or {}).get("ClientSecret"))
        if not secret:
            ctx.count("rule:cognito_client_credentials_secret")
            return ctx.json_error(400, "InvalidParameterException",
                                  "client_credentials flow can not be selected if client does not have a client secret.")
    # 'This parameter must have a value of true before you can configure the
    # following features in your app client: CallBackURLs, LogoutURLs,
    # AllowedOAuthScopes, AllowedOAuthFlows.'
    oauth = [k for k in ("AllowedOAuthFlows", "AllowedOAuthScopes") if doc.get(k)]
    if oauth and not doc.get("AllowedOAuthFlowsUserPoolClient"):
        ctx.count("rule:cognito_oauth_not_enabled")
        return ctx.json_error(400, "InvalidParameterException",
                              f"{oauth[0]} can be set only when AllowedOAuthFlowsUserPoolClient is true.")
    # 'Amazon Cognito requires HTTPS over HTTP except for callback URLs to
    # http://localhost, http://127.0.0.1 and http://[::1]' ... 'Be an
    # absolute URI ... Not include a fragment component.'
    for url in doc.get("CallbackURLs") or []:
        u = urlparse(url)
        local = u.scheme == "http" and u.hostname in ("localhost", "127.0.0.1", "::1")
        if not u.scheme or u.fragment or (u.scheme == "http" and not local):
            ctx.count("rule:cognito_callback_url")
            return ctx.json_error(400, "InvalidParameterException", f"Invalid CallbackURL: {url}")
    # DefaultRedirectURI: 'Must be in the CallbackURLs list.'
    dr = doc.get("DefaultRedirectURI")
    if dr and dr not in (doc.get("CallbackURLs") or []):
        ctx.count("rule:cognito_default_redirect")
        return ctx.json_error(400, "InvalidParameterException", "DefaultRedirectURI must be in CallbackURLs.")
    # A provider the pool does not have: AWS's answer recorded in
    # lgallard/terraform-aws-cognito-user-pool#72.
    providers = [p for p in doc.get("SupportedIdentityProviders") or [] if p != "COGNITO"]
    for p in providers:
        st, _ = _cognito(ctx, headers, "DescribeIdentityProvider", {"UserPoolId": doc.get("UserPoolId"), "ProviderName": p})
        if st != 200:
            ctx.count("rule:cognito_client_unknown_provider")
            return ctx.json_error(400, "InvalidParameterException",
                                  f"The provider {p} does not exist for User Pool {doc.get('UserPoolId')}")
    return None


def cognito_domain_before(ctx, headers, doc):
    """A prefix domain is unique (in a Region): a domain another pool has is
    refused (SRC cognito-domain; AWS's answer recorded in
    aws-samples/aws-cdk-examples#402 and aws-samples/dcv-web-portal#16).
    moto overwrites the other pool's domain."""
    domain = doc.get("Domain")
    if not domain or doc.get("CustomDomainConfig"):
        return None
    st, d = _cognito(ctx, headers, "DescribeUserPoolDomain", {"Domain": domain})
    have = (d.get("DomainDescription") or {}).get("UserPoolId") if st == 200 else None
    if have and have != doc.get("UserPoolId"):
        ctx.count("rule:cognito_domain_taken")
        return ctx.json_error(400, "InvalidParameterException", "Domain already associated with another user pool.")
    return None


# ------------------------------------------------------------ API Gateway v2

def apigw_access_log(ctx, doc):
    """A stage's access log format: a single line, with $context.requestId
    or $context.extendedRequestId (SRC apigw-access-log, AccessLogSettings
    Format: 'A single line format of the access logs of data, as specified
    by selected $context variables. The format must include at least
    $context.requestId.'). The single-line answer is recorded in
    ministryofjustice/cloud-platform-environments#12962."""
    log = doc.get("accessLogSettings")
    if not isinstance(log, dict):
        return None
    fmt = log.get("format")
    if not isinstance(fmt, str):
        return None
    if "\n" in fmt.rstrip("\n"):
        ctx.count("rule:apigw_access_log_single_line")
        return ctx.rest_error(400, "BadRequestException",
                              "Access Log format must be single line, new line character is allowed only at end of the format")
    if not re.search(r"\$context\.(requestId|extendedRequestId)\b", fmt):
        ctx.count("rule:apigw_access_log_request_id")
        return ctx.rest_error(400, "BadRequestException",
                              "Access Log format must contain either $context.requestId or $context.extendedRequestId")
    return None


# ------------------------------------------------------------ CloudWatch Logs

RETENTION = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]


def logs_retention(ctx, doc):
    """PutRetentionPolicy: retentionInDays is one of the listed values (SRC
    logs-retention: 'Possible values are: 1, 3, 5, 7, 14, 30, 60, 90, 120,
    150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, and
    3653.'); moto stores any number."""
    v = doc.get("retentionInDays")
    if isinstance(v, int) and v not in RETENTION:
        ctx.count("rule:logs_retention_value")
        return ctx.json_error(400, "InvalidParameterException",
                              f"1 validation error detected: Value '{v}' at 'retentionInDays' failed to satisfy "
                              f"constraint: Member must satisfy enum value set: [{', '.join(map(str, RETENTION))}]")
    return None


# ------------------------------------------------------------ tags (every service)

TAG_LIMIT = 50  # 'Maximum number of tags per resource – 50' (SRC tagging)


def _reserved_tag(tags):
    """The first key beginning with aws: (any case): 'The aws: prefix is
    reserved for AWS use ... You can't edit or delete tag keys or values with
    this prefix' (SRC tagging)."""
    for k in tags or {}:
        if isinstance(k, str) and k.lower().startswith("aws:"):
            return k
    return None


def _too_many(have, sent):
    """More than 50 keys once the sent tags are merged with the resource's."""
    keys = set(have or {}) | set(sent or {})
    return len(keys) > TAG_LIMIT


def lambda_tags(ctx, method, path, headers, doc):
    """Lambda TagResource (and CreateFunction's Tags): at most 50 tags on a
    function, no aws: key (SRC tagging). moto takes both. AWS's text not found."""
    p = path.split("?")[0]
    m = re.match(r"^/2017-03-31/tags/(.+)$", p)
    have = {}
    if m and method == "POST":
        sent = doc.get("Tags")
        st, _, b = ctx.upstream("GET", f"/2017-03-31/tags/{m.group(1)}", headers=headers)
        have = _doc(b).get("Tags") or {} if st == 200 else {}
    elif method == "POST" and re.match(r"^/2015-03-31/functions/?$", p):
        sent = doc.get("Tags")
    else:
        return None
    if not isinstance(sent, dict):
        return None
    k = _reserved_tag(sent)
    if k:
        ctx.count("rule:lambda_tag_reserved")
        return _lambda_err(ctx, f"Invalid tag key: {k}. Tag keys cannot start with 'aws:'.")
    if _too_many(have, sent):
        ctx.count("rule:lambda_tag_limit")
        return _lambda_err(ctx, "Number of tags exceeds resource tag limit.")
    return None


def apigw_tags(ctx, method, path, headers, doc):
    """API Gateway v2 TagResource and the Tags of CreateApi/CreateStage: no
    aws: key (AWS's answer recorded in serverless/serverless#9223 and in a
    CDK reproduction for AmazonApiGatewayV2: BadRequestException "Invalid
    tag key. Tag keys cannot start with 'aws:' (case insensitive)"); at most
    50 (SRC tagging; text not found)."""
    p = path.split("?")[0]
    have = {}
    m = re.match(r"^/v2/tags/(.+)$", p)
    if m and method == "POST":
        st, _, b = ctx.upstream("GET", p, headers=headers)
        have = (_doc(b).get("tags") or {}) if st == 200 else {}
    elif not (method == "POST" and re.match(r"^/v2/apis(/[^/]+/stages)?/?$", p)):
        return None
    sent = doc.get("tags")
    if not isinstance(sent, dict):
        return None
    if _reserved_tag(sent):
        ctx.count("rule:apigw_tag_reserved")
        return ctx.rest_error(400, "BadRequestException", "Invalid tag key. Tag keys cannot start with 'aws:' (case insensitive)")
    if _too_many(have, sent):
        ctx.count("rule:apigw_tag_limit")
        return ctx.rest_error(400, "BadRequestException", "Too many tags. A resource can have at most 50 tags.")
    return None


def _json_reserved_tag(ctx, service, sent):
    """A JSON service's answer to an aws: tag key (Cognito, Logs: the same
    InvalidParameterException), or None."""
    k = _reserved_tag(sent)
    if not k:
        return None
    ctx.count(f"rule:{service}_tag_reserved")
    return ctx.json_error(400, "InvalidParameterException", f"Invalid tag key: {k}. Tag keys cannot start with 'aws:'.")


def cognito_tags(ctx, op, doc):
    """Cognito TagResource (and CreateUserPool's UserPoolTags): no aws: key,
    at most 50 in a request (SRC tagging; the pool's own tags are awsim.py's
    overlay, not read here). AWS's text not found."""
    sent = doc.get("Tags") if op == "TagResource" else doc.get("UserPoolTags")
    if not isinstance(sent, dict):
        return None
    err = _json_reserved_tag(ctx, "cognito", sent)
    if err:
        return err
    if len(sent) > TAG_LIMIT:
        ctx.count("rule:cognito_tag_limit")
        return ctx.json_error(400, "InvalidParameterException", "Number of tags exceeds resource tag limit.")
    return None


def logs_tags(ctx, op, headers, doc):
    """CloudWatch Logs TagResource/TagLogGroup/CreateLogGroup: no aws: key; at
    most 50 on a group once merged with its tags (SRC tagging; the model
    limits one request to 50, not the group). AWS's text not found."""
    sent = doc.get("tags")
    if not isinstance(sent, dict):
        return None
    err = _json_reserved_tag(ctx, "logs", sent)
    if err:
        return err
    have = {}
    if op in ("TagResource", "TagLogGroup"):
        h = {k2: v for k2, v in headers.items() if k2.lower() != "x-amz-target"}
        if op == "TagResource":
            h["X-Amz-Target"] = "Logs_20140328.ListTagsForResource"
            st, _, b = ctx.upstream("POST", "/", json.dumps({"resourceArn": doc.get("resourceArn")}).encode(), h)
        else:
            h["X-Amz-Target"] = "Logs_20140328.ListTagsLogGroup"
            st, _, b = ctx.upstream("POST", "/", json.dumps({"logGroupName": doc.get("logGroupName")}).encode(), h)
        have = (_doc(b).get("tags") or {}) if st == 200 else {}
    if _too_many(have, sent):
        ctx.count("rule:logs_tag_limit")
        return ctx.json_error(400, "InvalidParameterException", "Number of tags exceeds resource tag limit.")
    return None


# ------------------------------------------------------------ API Gateway v2: routes, integrations, authorizers

ROUTE_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"}


def _api(ctx, headers, api):
    st, _, b = ctx.upstream("GET", f"/v2/apis/{api}", headers=headers)
    return _doc(b) if st == 200 else {}


def apigw_route(ctx, headers, api, route, doc):
    """CreateRoute/UpdateRoute of an HTTP API. The route key is `$default`
    or an HTTP method (or ANY) and a resource path; a greedy path variable
    {name+} only as the last segment (SRC apigw-routes: 'Routes consist of
    two parts: an HTTP method and a resource path', 'The greedy path
    variable must be at the end of the resource path'). A JWT route needs a
    JWT authorizer of the API, a CUSTOM route a Lambda (REQUEST) one (AWS's
    answers recorded in anomalyco/sst#4097, anomalyco/ion#470 and
    hashicorp/terraform-provider-aws#17497). moto takes any key and ID."""
    info = _api(ctx, headers, api)
    if info.get("protocolType") != "HTTP":
        return None
    key = doc.get("routeKey")
    if isinstance(key, str) and key != "$default":
        method, _, rpath = key.partition(" ")
        segs = rpath.split("/")[1:]
        greedy = [i for i, sg in enumerate(segs) if re.fullmatch(r"\{[^{}/]+\+\}", sg)]
        if (method.upper() not in ROUTE_METHODS or not rpath.startswith("/")
                or any(i != len(segs) - 1 for i in greedy)):
            ctx.count("rule:apigw_route_key")
            return ctx.rest_error(400, "BadRequestException", f"Invalid route key: {key}")
    atype = doc.get("authorizationType")
    if atype in ("JWT", "CUSTOM"):
        aid = doc.get("authorizerId")
        if aid is None and route:
            st, _, b = ctx.upstream("GET", f"/v2/apis/{api}/routes/{route}", headers=headers)
            aid = _doc(b).get("authorizerId") if st == 200 else None
        want = "JWT" if atype == "JWT" else "REQUEST"
        got = None
        if aid:
            st, _, b = ctx.upstream("GET", f"/v2/apis/{api}/authorizers/{quote(aid, safe='')}", headers=headers)
            got = _doc(b).get("authorizerType") if st == 200 else None
        if got != want:
            ctx.count("rule:apigw_route_authorizer")
            if atype == "JWT":
                return ctx.rest_error(400, "BadRequestException", "Invalid authorizer ID specified. "
                                      "Setting the authorization type to JWT requires a valid JWT authorizer.")
            return ctx.rest_error(400, "BadRequestException", "Invalid authorizer ID specified. Setting the "
                                  "authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.")
    return None


def apigw_integration(ctx, headers, api, integration, doc):
    """CreateIntegration/UpdateIntegration of an HTTP API: payloadFormatVersion
    'Supported values for Lambda proxy integrations are 1.0 and 2.0. For all
    other integrations, 1.0 is the only supported value.' (SRC
    apigw-integration). moto takes any. AWS's text not found."""
    v = doc.get("payloadFormatVersion")
    if not isinstance(v, str):
        return None
    if _api(ctx, headers, api).get("protocolType") != "HTTP":
        return None
    itype = doc.get("integrationType")
    if itype is None and integration:
        st, _, b = ctx.upstream("GET", f"/v2/apis/{api}/integrations/{integration}", headers=headers)
        itype = _doc(b).get("integrationType") if st == 200 else None
    ok = ("1.0", "2.0") if itype == "AWS_PROXY" else ("1.0",)
    if v not in ok:
        ctx.count("rule:apigw_payload_format_version")
        return ctx.rest_error(400, "BadRequestException",
                              f"PayloadFormatVersion {v} is not supported for integration type {itype}. "
                              f"Supported values: {', '.join(ok)}")
    return None


def apigw_authorizer(ctx, headers, api, authorizer, doc):
    """CreateAuthorizer/UpdateAuthorizer, JWT: jwtConfiguration with its
    issuer ('Required for the JWT authorizer type'), and one identity source
    ('For JWT, a single entry to specify where to extract the JSON Web Token
    (JWT) from inbound requests'), SRC apigw-authorizer. moto takes a JWT
    authorizer without either. AWS's text not found."""
    atype = doc.get("authorizerType")
    cur = {}
    if authorizer:
        st, _, b = ctx.upstream("GET", f"/v2/apis/{api}/authorizers/{authorizer}", headers=headers)
        cur = _doc(b) if st == 200 else {}
        atype = atype or cur.get("authorizerType")
    if atype != "JWT":
        return None
    jwt = doc.get("jwtConfiguration") if "jwtConfiguration" in doc else cur.get("jwtConfiguration")
    if not isinstance(jwt, dict) or not jwt.get("issuer"):
        ctx.count("rule:apigw_jwt_issuer")
        return ctx.rest_error(400, "BadRequestException", "JwtConfiguration.Issuer is required for the JWT authorizer type.")
    src = doc.get("identitySource") if "identitySource" in doc else cur.get("identitySource")
    if isinstance(src, list) and len(src) != 1:
        ctx.count("rule:apigw_jwt_identity_source")
        return ctx.rest_error(400, "BadRequestException", "IdentitySource must be a single entry for the JWT authorizer type.")
    return None


def apigw_before(ctx, method, path, headers, body):
    p = path.split("?")[0]
    doc = _doc(body)
    if re.match(r"^/v2/apis/[^/]+/stages(/[^/]+)?$", p):
        return apigw_access_log(ctx, doc) or apigw_tags(ctx, method, path, headers, doc)
    if p.startswith("/v2/tags/") or re.match(r"^/v2/apis/?$", p):
        return apigw_tags(ctx, method, path, headers, doc)
    m = re.match(r"^/v2/apis/([^/]+)/(routes|integrations|authorizers)(?:/([^/]+))?$", p)
    if not m or (method == "POST") == bool(m.group(3)):
        return None
    api, kind, sub = m.group(1), m.group(2), m.group(3)
    if kind == "routes":
        return apigw_route(ctx, headers, api, sub, doc)
    if kind == "integrations":
        return apigw_integration(ctx, headers, api, sub, doc)
    return apigw_authorizer(ctx, headers, api, sub, doc)


# ------------------------------------------------------------ Cognito users and groups

def cognito_add_to_group(ctx, headers, doc):
    """AdminAddUserToGroup to a group the pool lacks: ResourceNotFoundException
    'Group not found.' (SRC cognito-add-to-group; AWS's text recorded in
    aws-amplify/amplify-cli#2214); moto answers with the group's name as
    the message."""
    st, _ = _cognito(ctx, headers, "GetGroup", {"UserPoolId": doc.get("UserPoolId"), "GroupName": doc.get("GroupName")})
    if st != 200:
        ctx.count("rule:cognito_group_not_found")
        return ctx.json_error(400, "ResourceNotFoundException", "Group not found.")
    return None


def cognito_password(ctx, op, headers, doc):
    """AdminCreateUser's TemporaryPassword ('must conform to the password
    policy', SRC cognito-admin-create-user) and AdminSetUserPassword's
    Password (SRC cognito-set-password) against the pool's PasswordPolicy:
    InvalidPasswordException 'Password does not conform to policy: ...' (the
    code is the page's; the text is from memory of AWS's answer, not found in
    a source). moto takes any temporary password, and words the other
    refusal its own way."""
    pw = doc.get("TemporaryPassword") if op == "AdminCreateUser" else doc.get("Password")
    if not isinstance(pw, str):
        return None
    st, d = _cognito(ctx, headers, "DescribeUserPool", {"UserPoolId": doc.get("UserPoolId")})
    pol = ((d.get("UserPool") or {}).get("Policies") or {}).get("PasswordPolicy") if st == 200 else None
    if not isinstance(pol, dict):
        return None
    problem = None
    if len(pw) < int(pol.get("MinimumLength") or 0):
        problem = "Password not long enough"
    elif pol.get("RequireLowercase") and not re.search(r"[a-z]", pw):
        problem = "Password must have lowercase characters"
    elif pol.get("RequireUppercase") and not re.search(r"[A-Z]", pw):
        problem = "Password must have uppercase characters"
    elif pol.get("RequireNumbers") and not re.search(r"[0-9]", pw):
        problem = "Password must have numeric characters"
    elif pol.get("RequireSymbols") and not re.search(r"[\^$*.\[\]{}()?\"!@#%&/\\,><':;|_~`=+\- ]", pw):
        problem = "Password must have symbol characters"
    if problem:
        ctx.count("rule:cognito_password_policy")
        return ctx.json_error(400, "InvalidPasswordException", f"Password does not conform to policy: {problem}")
    return None


# ------------------------------------------------------------ IAM

def _form(body):
    from urllib.parse import parse_qs
    return {k: v[0] for k, v in parse_qs((body or b"").decode(errors="replace"), keep_blank_values=True).items()}


def _policy_size(text):
    # 'IAM doesn't count white space when computing the size of a policy
    # against these quotas' (SRC iam-quotas).
    return len(re.sub(r"\s", "", text or ""))


def iam_before(ctx, op, headers, body):
    """CreateRole/UpdateAssumeRolePolicy: a trust policy that is not JSON is
    MalformedPolicyDocument 'This policy contains invalid Json' (SRC
    iam-create-role; AWS's text recorded in AWSCookbook/Security#2 and
    localstack/localstack#8453, AWS-validated); moto stores it.
    PutRolePolicy: a role's inline policies together are at most 10,240
    characters without white space ('Role policy size ... 10,240
    characters', SRC iam-quotas); AWS's answer, LimitExceeded 'Maximum
    policy size of 10240 bytes exceeded for role NAME', is recorded in
    aws/aws-cdk#12403, gchq/sleeper#1459 (status 409) and
    awslabs/aws-deployment-framework#474; moto takes any size."""
    form = _form(body)
    if op in ("CreateRole", "UpdateAssumeRolePolicy"):
        d = form.get("AssumeRolePolicyDocument") if op == "CreateRole" else form.get("PolicyDocument")
        if d is None:
            return None
        try:
            ok = isinstance(json.loads(d), dict)
        except ValueError:
            ok = False
        if not ok:
            ctx.count("rule:iam_trust_policy_json")
            return ctx.query_error(400, "MalformedPolicyDocument", "This policy contains invalid Json")
        return None
    if op == "PutRolePolicy":
        role, name = form.get("RoleName"), form.get("PolicyName")
        total = _policy_size(form.get("PolicyDocument"))
        inline = _iam(ctx, headers, "ListRolePolicies", RoleName=role)
        for pname in _texts(inline, "member"):
            if pname == name:
                continue
            pol = _iam(ctx, headers, "GetRolePolicy", RoleName=role, PolicyName=pname)
            for d in _texts(pol, "PolicyDocument"):
                total += _policy_size(unquote(d))
        if total > 10240:
            ctx.count("rule:iam_role_policy_size")
            return ctx.query_error(409, "LimitExceeded", f"Maximum policy size of 10240 bytes exceeded for role {role}")
    return None


# ------------------------------------------------------------ entry points

_ARGS = [None]


def before(ctx, service, op, method, path, headers, body):
    """The error AWS answers instead of applying this request, or None."""
    _ARGS[0] = ctx.args
    if service == "lambda":
        lop, fn = lambda_op(method, path)
        doc = _doc(body)
        if lop == "GetAccountSettings":
            return lambda_account_settings(ctx, headers)
        if lop == "PutFunctionConcurrency":
            return lambda_concurrency(ctx, fn, headers, doc)
        err = lambda_tags(ctx, method, path, headers, doc)
        if err is not None:
            return err
        if lop in ("CreateFunction", "UpdateFunctionConfiguration"):
            fn = fn or doc.get("FunctionName")
            return (lambda_environment(ctx, doc)
                    or lambda_logging_before(ctx, lop, fn, headers, doc)
                    or lambda_tracing(ctx, lop, fn, headers, doc))
        return None
    if service == "cognito-idp":
        doc = _doc(body)
        if op == "TagResource" or op == "CreateUserPool":
            err = cognito_tags(ctx, op, doc)
            if err is not None:
                return err
        if op == "AdminAddUserToGroup":
            return cognito_add_to_group(ctx, headers, doc)
        if op in ("AdminCreateUser", "AdminSetUserPassword"):
            return cognito_password(ctx, op, headers, doc)
        if op in ("CreateUserPool", "UpdateUserPool"):
            return cognito_messages(ctx, doc) or cognito_mfa_pool(ctx, op, headers, doc)
        if op == "SetUserPoolMfaConfig":
            return cognito_set_mfa(ctx, doc)
        if op in ("CreateIdentityProvider", "UpdateIdentityProvider"):
            return cognito_idp_before(ctx, op, doc)
        if op in ("CreateUserPoolClient", "UpdateUserPoolClient"):
            return cognito_client_before(ctx, op, headers, doc)
        if op == "CreateUserPoolDomain":
            return cognito_domain_before(ctx, headers, doc)
        return None
    if service == "apigateway" and method in ("POST", "PATCH"):
        return apigw_before(ctx, method, path, headers, body)
    if service == "logs" and op == "PutRetentionPolicy":
        return logs_retention(ctx, _doc(body))
    if service == "logs" and op in ("TagResource", "TagLogGroup", "CreateLogGroup"):
        return logs_tags(ctx, op, headers, _doc(body))
    if service == "iam" and op in ("CreateRole", "UpdateAssumeRolePolicy", "PutRolePolicy"):
        return iam_before(ctx, op, headers, body)
    return None


def after(ctx, service, op, method, path, headers, body, status, rheaders, rbody):
    """The answer AWS gives once moto applied the request: (status, headers, body)."""
    _ARGS[0] = ctx.args
    try:
        if service == "lambda":
            lop, fn = lambda_op(method, path)
            if lop in ("CreateFunction", "UpdateFunctionConfiguration", "GetFunction", "GetFunctionConfiguration", "DeleteFunction"):
                fn = fn or _doc(body).get("FunctionName")
                rbody = lambda_logging_after(ctx, lop, fn, headers, body, status, rbody)
        elif service == "cognito-idp":
            if op == "UpdateUserPool":
                cognito_update_pool_after(ctx, headers, body, status)
            elif op == "DescribeUserPool" and status == 200:
                rbody = cognito_describe_pool_after(rbody)
            elif op in ("CreateIdentityProvider", "UpdateIdentityProvider"):
                rbody = cognito_idp_after(ctx, op, headers, body, status, rbody)
            elif op in ("UpdateGroup", "GetGroup", "ListGroups", "CreateGroup", "DeleteGroup"):
                rbody = cognito_group_after(ctx, op, body, status, rbody)
            elif op in ("UpdateUserPoolClient", "DescribeUserPoolClient", "DeleteUserPoolClient"):
                rbody = cognito_client_after(ctx, op, body, status, rbody)
            if op in ("CreateUserPoolClient", "UpdateUserPoolClient", "DescribeUserPoolClient"):
                rbody = cognito_client_dates(op, body, status, rbody)
    except (ValueError, KeyError, AttributeError, TypeError):
        pass
    return status, rheaders, rbody
