"""Layer (a): every request checked against AWS's published service model.

AWS checks a request against the operation's model before anything else and
refuses it with a list of the violated constraints; moto (and the rest of
awsim) would apply it. `check` parses the request into the operation's input
structure, as the service's protocol lays it out, and checks it recursively
against the botocore model that boto3 installs (botocore 1.44.18 here):

  required members ("Value null at 'x' failed to satisfy constraint: Member
  must not be null"); string length (min/max, in UTF-16 units as Java counts)
  and `pattern` (a Java regex, matched whole as Java's `matches`); enums;
  integer/long/float/double ranges; list and map sizes; map keys and values
  against their shapes ("Map keys must satisfy constraint: [...]"); blob
  length; and the JSON type of each member (a string where a number is
  modelled, a string for a boolean, a timestamp that is neither a number nor
  a string...).

  A member the model does not have is skipped (an SDK newer than the model may
  send it); a request that cannot be matched to an operation passes
  unchecked; so does a body that is not JSON (moto answers it). Document and
  union shapes are not checked beyond their members' types.

Services and protocols (`service` is the SigV4 signing name):

  cognito-idp   json (X-Amz-Target)     InvalidParameterException  400
  logs          json (X-Amz-Target)     InvalidParameterException  400
  lambda        rest-json               ValidationException        400
  apigateway    rest-json, apigatewayv2 BadRequestException        400
                model, paths under /v2/ only (API Gateway v1 is not checked)
  iam           query (form body)       ValidationError  400 Sender (XML)

  s3, sts (and scheduler, which the deployer does not call) are not checked.

The message is AWS's: "1 validation error detected: Value 'x' at 'poolName'
failed to satisfy constraint: Member must have length greater than or equal
to 1", or "N validation errors detected: ...; ...". Members are named by their
path, each member name with its first letter lowercased ('lambdaConfig.
preSignUp', 'kMSKeyArn'), list elements as 'tags.1.member.key' and map values
as 'x.KEY.member'. A sensitive member's value is left out ("Value at
'username'"), as AWS leaves it out. Values are shown as Java shows them:
'[a, b]', '{k=v}', 'java.nio.HeapByteBuffer[pos=0 lim=N cap=N]' for a blob.
The scalar members of a list, and the keys and scalar values of a map, are one
error for the whole collection listing every constraint of the member shape:
"Value '[email, fax]' at 'autoVerifiedAttributes' failed to satisfy
constraint: Member must satisfy constraint: [Member must satisfy enum value
set: [phone_number, email]]" ("Map keys must satisfy constraint: [...]", "Map
value must satisfy constraint: [...]"). Ten errors at most are listed.

Sources for the codes and formats (GitHub threads quoting AWS's answers):
  cognito-idp  InvalidParameterException "1 validation error detected: Value
               'YOUR_USER_POOL_ID' at 'userPoolId' ... pattern: [\\w-]+_[0-9a-zA-Z]+"
               (anomalyco/guide#127; boto/boto3#3581); sensitive values left
               out: "Value at 'password'" (amazon-archives/
               amazon-cognito-identity-js#388).
  logs         InvalidParameterException "2 validation errors detected: Value ''
               at 'logGroupNamePrefix' ..." (fluent-plugins-nursery/
               fluent-plugin-cloudwatch-logs#223), "Value null at
               'logEvents.1.member.timestamp'" (amazon-archives/
               cloudwatch-logs-centralize-logs#5), "Value '[]' at 'logEvents'"
               (lazywithclass/winston-cloudwatch#55).
  lambda       ValidationException "1 validation error detected: Value '...' at
               'kMSKeyArn' ..." (highsource/bitcoin-a-day#1), 'functionName'
               (awslabs/aws-gov-cloud-import#21); "Value at
               'environment.variables' ... Map keys must satisfy constraint:
               [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]"
               for its sensitive map (trek10inc/serverless-secrets#39,
               klothoplatform/klotho#317: a one-letter name is refused too).
               (A FunctionName over 64 characters, which the
               model allows up to 140, is InvalidParameterValueException: a
               documented rule, not the model's, so not here.)
  iam          <Type>Sender</Type><Code>ValidationError</Code> "1 validation error
               detected: Value '...' at 'roleName' ... less than or equal to 64"
               (NixOS/nixops#328; serverless/examples#405).
  apigatewayv2 BadRequestException, 400 ("One of the parameters in the request
               is invalid", the API reference). No thread shows its wording of a
               model violation: the same format is used. Its botocore model has
               few constraints (no lengths): required members and enums mostly.
  collections  "Map keys must satisfy constraint: [Member must have length less
               than or equal to 256, Member must have length greater than or
               equal to 1, Member must satisfy regular expression pattern: ...]"
               lists every constraint of the key shape (EventBridge's
               'targets.1.member.inputTransformer.inputPathsMap', quoted in a
               public note); "Member must satisfy constraint: [Member must
               satisfy enum value set: [...]]" for a list of strings (AWS Config,
               as moto reproduces it); the Java renderings, the order "less
               than" before "greater than", and ten errors at most follow
               dynalite (a DynamoDB emulator written against AWS's answers).

A value of the wrong type never reaches the constraint check on AWS: it is
refused while the request is read, with another error (approximate wording):
  json         SerializationException "STRING_VALUE can not be converted to an
               Integer", "NUMBER_VALUE can not be converted to an String" (the
               Coral JSON reader's words, quoted in several emulators' probes),
               "Start of structure or map found where not expected.", "Start of
               list found where not expected", "Expected list or null" (dynalite)
  lambda       InvalidRequestContentException "Could not parse request body into
               json: ..." (modelled; aws/aws-sdk-js#1876)
  apigateway   BadRequestException
  iam          InvalidParameterValue (IAM's common errors)

Patterns are Java regexes, translated for Python's `re` (`_java_regex`):
\\p{L} \\p{M} \\p{S} \\p{N} \\p{P} \\p{Z} \\p{C} and their two-letter
subcategories become the exact Unicode ranges of Python's unicodedata (planes 0
to 3 and 14 scanned, planes 4 to 13 unassigned, 15 and 16 private use); the
POSIX classes (\\p{XDigit}, \\p{Alnum}, ...) are Java's ASCII ones; \\w \\d \\s
are ASCII as in Java; `.` excludes Java's line terminators; character classes
follow Java (nested classes, &&, a '-' after a class is literal: [\\w-_]).
A pattern that cannot be translated or compiled is skipped and counted
(`validate:pattern_skipped`), never raised.

Models are loaded lazily, once per service, straight from botocore's data
directory (importing botocore.loaders alone costs 0.2 s at each awsim start);
botocore's Loader is used when AWS_DATA_PATH or ~/.aws/models could override
the installed models, or the model has sdk-extras to merge.
Refusals are counted as `invalid:<service>:<Operation>`, and logged to stderr
with --verbose. Nothing is printed on stdout.
"""

import gzip
import importlib.util
import json
import os
import re
import sys
import threading
import unicodedata
from urllib.parse import parse_qsl, unquote


def _xml_escape(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# signing name -> (botocore model name, protocol)
SERVICES = {
    "cognito-idp": ("cognito-idp", "json"),
    "logs": ("logs", "json"),
    "lambda": ("lambda", "rest-json"),
    "apigateway": ("apigatewayv2", "rest-json"),
    "iam": ("iam", "query"),
}

_LOCK = threading.Lock()
_MODELS = {}  # model name -> _Model
_REGEX = {}  # java pattern -> compiled regex or None


# ------------------------------------------------------------ entry point

def check(ctx, service, op, method, path, headers, body):
    """The error AWS answers for a request its model refuses, or None."""
    if service not in SERVICES:
        return None
    try:
        return _check(ctx, service, op, method, path, headers, body or b"")
    except Exception as e:  # never break the proxy: an unchecked request passes
        try:
            ctx.count("validate:internal_error")
            if _verbose(ctx):
                sys.stderr.write(f"awsim validate: internal error on {service} {method} {path}: {e!r}\n")
        except Exception:
            pass
        return None


def _verbose(ctx):
    return bool(getattr(getattr(ctx, "args", None), "verbose", False))


def _check(ctx, service, op, method, path, headers, body):
    name, protocol = SERVICES[service]
    hl = {str(k).lower(): v for k, v in (headers or {}).items()}
    if hl.get("content-encoding", "identity").lower() not in ("identity", ""):
        return None
    model = _model(name)
    if protocol == "json":
        opname = op if op in model.operations else None
        if opname is None:
            return None
        try:
            doc = json.loads(body.decode("utf-8")) if body.strip() else {}
        except ValueError:
            return None
        if not isinstance(doc, dict):
            return None
        value = doc
    elif protocol == "query":
        params = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        if "?" in path:
            params = parse_qsl(path.split("?", 1)[1], keep_blank_values=True) + params
        flat = {}
        for k, v in params:
            flat.setdefault(k, v)
        opname = flat.get("Action")
        if opname not in model.operations:
            return None
        shape = model.input_shape(opname)
        value = _query_structure(model, shape, "", flat) if shape else {}
    else:
        matched = model.match(method, path)
        if matched is None:
            return None
        opname, labels, query = matched
        value = _rest_input(model, opname, labels, query, hl, body)
        if value is None:
            return None
    shape = model.input_shape(opname)
    if shape is None:
        return None
    v = _Validator(model, ctx)
    v.structure(shape, value, "", False, top=(protocol == "rest-json"))
    if not v.type_errors and not v.errors:
        return None
    ctx.count(f"invalid:{service}:{opname}")
    if v.type_errors:
        answer = _type_error(ctx, service, v.type_errors[0])
        message = v.type_errors[0]
    else:
        n = len(v.errors)
        message = f"{n} validation error{'s' if n > 1 else ''} detected: " + "; ".join(v.errors)
        answer = _validation_error(ctx, service, message)
    if _verbose(ctx):
        sys.stderr.write(f"awsim validate: refused {service} {opname}: {message}\n")
    return answer


def _validation_error(ctx, service, message):
    if service in ("cognito-idp", "logs"):
        return ctx.json_error(400, "InvalidParameterException", message)
    if service == "lambda":
        return ctx.rest_error(400, "ValidationException", message)
    if service == "apigateway":
        return ctx.rest_error(400, "BadRequestException", message)
    return ctx.query_error(400, "ValidationError", _xml_escape(message))


def _type_error(ctx, service, message):
    if service in ("cognito-idp", "logs"):
        return ctx.json_error(400, "SerializationException", message)
    if service == "lambda":
        return ctx.rest_error(400, "InvalidRequestContentException",
                              "Could not parse request body into json: " + message, {"Type": "User"})
    if service == "apigateway":
        return ctx.rest_error(400, "BadRequestException", message)
    return ctx.query_error(400, "InvalidParameterValue", _xml_escape(message))


# ------------------------------------------------------------ models

def _data_dir():
    spec = importlib.util.find_spec("botocore")  # finds it without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(list(spec.submodule_search_locations)[0], "data")


def _load_raw(name):
    """The service-2 model of `name`, as botocore's Loader gives it."""
    base = _data_dir()
    overridable = os.environ.get("AWS_DATA_PATH") or os.path.isdir(os.path.expanduser("~/.aws/models"))
    if base and not overridable:
        sdir = os.path.join(base, name)
        versions = sorted(
            (d for d in os.listdir(sdir)
             if os.path.exists(os.path.join(sdir, d, "service-2.json.gz"))
             or os.path.exists(os.path.join(sdir, d, "service-2.json"))),
            reverse=True,
        ) if os.path.isdir(sdir) else []
        if versions:
            vdir = os.path.join(sdir, versions[0])
            if not os.path.exists(os.path.join(vdir, "service-2.sdk-extras.json")):
                gz = os.path.join(vdir, "service-2.json.gz")
                if os.path.exists(gz):
                    with gzip.open(gz, "rb") as f:
                        return json.loads(f.read().decode("utf-8"))
                with open(os.path.join(vdir, "service-2.json"), "rb") as f:
                    return json.loads(f.read().decode("utf-8"))
    import botocore.loaders  # the slow, general way

    return botocore.loaders.Loader().load_service_model(name, "service-2")


def _model(name):
    m = _MODELS.get(name)
    if m is None:
        with _LOCK:
            m = _MODELS.get(name)
            if m is None:
                m = _Model(_load_raw(name))
                _MODELS[name] = m
    return m


class _Model:
    def __init__(self, raw):
        self.shapes = raw["shapes"]
        self.operations = raw["operations"]
        self.protocol = raw["metadata"].get("protocol")
        self.routes = []
        if self.protocol in ("rest-json", "rest-xml"):
            for opname, o in self.operations.items():
                http = o.get("http") or {}
                uri = http.get("requestUri")
                if not uri:
                    continue
                self.routes.append(_Route(opname, http.get("method", "POST").upper(), uri))
            # the most literal template first: /functions/{F}/configuration
            # before /functions/{F}, a literal segment before a label
            self.routes.sort(key=lambda r: (-r.literal, -len(r.query), r.greedy))

    def input_shape(self, opname):
        o = self.operations.get(opname) or {}
        ref = o.get("input")
        return self.shapes.get(ref["shape"]) if ref else None

    def match(self, method, path):
        raw_path, _, raw_query = path.partition("?")
        norm = raw_path.rstrip("/") or "/"
        query = _split_query(raw_query)
        for r in self.routes:
            if r.method != method:
                continue
            m = r.regex.fullmatch(norm)
            if not m:
                continue
            if any(not any(k == qk and (qv is None or v == qv) for k, v in query) for qk, qv in r.query):
                continue
            labels = {}
            for name, greedy in r.labels:
                labels[name] = unquote(m.group(_group_name(name)))
            return r.op, labels, query
        return None


def _group_name(label):
    return "g_" + re.sub(r"\W", "_", label)


class _Route:
    def __init__(self, op, method, uri):
        self.op, self.method = op, method
        path, _, q = uri.partition("?")
        self.query = []
        for part in q.split("&") if q else []:
            k, eq, v = part.partition("=")
            self.query.append((unquote(k), unquote(v) if eq else None))
        path = path.rstrip("/") or "/"
        out, self.labels, self.literal, self.greedy = [], [], 0, 0
        pos = 0
        for m in re.finditer(r"\{([^}]+?)(\+?)\}", path):
            lit = path[pos:m.start()]
            out.append(re.escape(lit))
            self.literal += len(lit)
            name, greedy = m.group(1), bool(m.group(2))
            self.labels.append((name, greedy))
            self.greedy += greedy
            out.append(f"(?P<{_group_name(name)}>{'.+' if greedy else '[^/]+'})")
            pos = m.end()
        out.append(re.escape(path[pos:]))
        self.literal += len(path) - pos
        self.regex = re.compile("".join(out))


def _split_query(q):
    out = []
    for part in q.split("&") if q else []:
        if not part:
            continue
        k, _, v = part.partition("=")
        out.append((unquote(k), unquote(v)))
    return out


# ------------------------------------------------------------ request -> input

class _Bad:
    """A value that cannot be read as its modelled type (a type error)."""

    def __init__(self, raw, what):
        self.raw, self.what = raw, what


def _scalar_from_text(shape, text):
    """A string from a URI, query string, header or form, as its type."""
    t = shape.get("type")
    if t in ("integer", "long"):
        try:
            return int(text.strip())
        except ValueError:
            return _Bad(text, t)
    if t in ("float", "double"):
        try:
            return float(text.strip())
        except ValueError:
            return _Bad(text, t)
    if t == "boolean":
        low = text.strip().lower()
        if low in ("true", "false"):
            return low == "true"
        return _Bad(text, t)
    if t == "blob":
        return _Blob(text)
    return text  # string, timestamp (format not checked)


class _Blob:
    """A base64 blob from text (its decoded length is what is checked)."""

    def __init__(self, text):
        self.text = text


class _Raw:
    """A raw payload blob."""

    def __init__(self, data):
        self.data = data


def _rest_input(model, opname, labels, query, hl, body):
    shape = model.input_shape(opname)
    if shape is None:
        return {}
    members = shape.get("members", {})
    payload = shape.get("payload")
    out = {}
    has_body_members = False
    for name, ref in members.items():
        loc = ref.get("location")
        wire = ref.get("locationName", name)
        target = model.shapes[ref["shape"]]
        t = target.get("type")
        if loc == "uri":
            if wire in labels:
                out[("loc", name)] = _scalar_from_text(target, labels[wire])
        elif loc == "querystring":
            if t == "map":
                continue
            vals = [v for k, v in query if k == wire]
            if not vals:
                continue
            if t == "list":
                mshape = model.shapes[target["member"]["shape"]]
                out[("loc", name)] = [_scalar_from_text(mshape, v) for v in vals]
            else:
                out[("loc", name)] = _scalar_from_text(target, vals[0])
        elif loc == "header":
            v = hl.get(wire.lower())
            if v is None:
                continue
            if t == "list":
                mshape = model.shapes[target["member"]["shape"]]
                out[("loc", name)] = [_scalar_from_text(mshape, x.strip()) for x in v.split(",")]
            elif ref.get("jsonvalue") or target.get("jsonvalue"):
                continue  # base64 JSON: not checked
            else:
                out[("loc", name)] = _scalar_from_text(target, v)
        elif loc == "headers":
            prefix = wire.lower()
            got = {k[len(prefix):]: v for k, v in hl.items() if k.startswith(prefix)}
            if got:
                out[("loc", name)] = got
        elif loc == "statusCode":
            continue
        elif name == payload:
            if t in ("structure", "map", "list") or t is None:
                if body.strip():
                    try:
                        out[("loc", name)] = json.loads(body.decode("utf-8"))
                    except ValueError:
                        return None
            elif t == "blob":
                if body:
                    out[("loc", name)] = _Raw(body)
            elif t == "string":
                if body:
                    out[("loc", name)] = body.decode("utf-8", errors="replace")
        else:
            has_body_members = True
    if payload is None and has_body_members:
        doc = {}
        if body.strip():
            try:
                doc = json.loads(body.decode("utf-8"))
            except ValueError:
                return None
            if not isinstance(doc, dict):
                return None
        for k, v in doc.items():
            out[k] = v
    return out


def _query_structure(model, shape, prefix, flat):
    out = {}
    for name, ref in shape.get("members", {}).items():
        wire = ref.get("locationName", name)
        key = f"{prefix}.{wire}" if prefix else wire
        v = _query_value(model, ref, model.shapes[ref["shape"]], key, flat)
        if v is not _MISSING:
            out[wire] = v
    return out


_MISSING = object()


def _query_indices(prefix, flat):
    found = set()
    plen = len(prefix) + 1
    for k in flat:
        if k.startswith(prefix + "."):
            head = k[plen:].split(".", 1)[0]
            if head.isdigit():
                found.add(int(head))
    return sorted(found)


def _query_value(model, ref, shape, key, flat):
    t = shape.get("type")
    if t == "structure":
        if not any(k.startswith(key + ".") for k in flat):
            return _MISSING
        return _query_structure(model, shape, key, flat)
    if t == "list":
        mref = shape["member"]
        mshape = model.shapes[mref["shape"]]
        if shape.get("flattened") or ref.get("flattened"):
            lprefix = key
        else:
            lprefix = f"{key}.{mref.get('locationName', 'member')}"
        idx = _query_indices(lprefix, flat)
        if not idx:
            if flat.get(key) == "":
                return []
            return _MISSING
        items = []
        for i in idx:
            v = _query_value(model, mref, mshape, f"{lprefix}.{i}", flat)
            items.append(None if v is _MISSING else v)
        return items
    if t == "map":
        eprefix = key if shape.get("flattened") else f"{key}.entry"
        kname = shape["key"].get("locationName", "key")
        vname = shape["value"].get("locationName", "value")
        idx = _query_indices(eprefix, flat)
        if not idx:
            if flat.get(key) == "":
                return {}
            return _MISSING
        out = {}
        vshape = model.shapes[shape["value"]["shape"]]
        for i in idx:
            k = flat.get(f"{eprefix}.{i}.{kname}")
            if k is None:
                continue
            v = _query_value(model, shape["value"], vshape, f"{eprefix}.{i}.{vname}", flat)
            out[k] = None if v is _MISSING else v
        return out
    if key not in flat:
        return _MISSING
    return _scalar_from_text(shape, flat[key])


# ------------------------------------------------------------ validation

def _lower_first(name):
    return name[:1].lower() + name[1:]


def _utf16_len(s):
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def _render(v):
    """A value as AWS (Java's toString) shows it in the message."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, _Bad):
        return v.raw
    if isinstance(v, (_Blob, _Raw)):
        n = len(v.data) if isinstance(v, _Raw) else max(_base64_len(v.text), 0)
        return "java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]" % (n, n)
    if isinstance(v, list):
        return "[" + ", ".join(_render(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={_render(x)}" for k, x in v.items()) + "}"
    return str(v)


# The Coral JSON reader's words for a value of the wrong type (as probed
# against AWS by dynalite and other emulators): "STRING_VALUE can not be
# converted to an Integer", "class java.lang.Boolean can not be converted to
# an String", "Start of list found where not expected", "Expected list or null".
_CONVERTED = {
    "string": "an String", "integer": "an Integer", "long": "an Long", "boolean": "an Boolean",
    "float": "an Float", "double": "an Double", "timestamp": "milliseconds since epoch", "blob": "a Blob",
}
_EXPECTED = {"list": "Expected list or null", "map": "Expected map or null", "structure": "Expected null"}
_SCALARS = ("string", "integer", "long", "float", "double", "boolean", "timestamp", "blob")
MAX_ERRORS = 10  # AWS lists ten violations at most (dynalite, after AWS)


def _token(v):
    if isinstance(v, bool):
        return "TRUE_VALUE" if v else "FALSE_VALUE"
    if isinstance(v, (int, float)):
        return "NUMBER_VALUE"
    return "STRING_VALUE"


class _Validator:
    def __init__(self, model, ctx):
        self.model, self.ctx = model, ctx
        self.errors = []
        self.type_errors = []

    # one violation
    def fail(self, value, path, sensitive, constraint):
        if len(self.errors) >= MAX_ERRORS:
            return
        shown = "" if sensitive and value is not None else " " + ("null" if value is None else f"'{_render(value)}'")
        self.errors.append(f"Value{shown} at '{path}' failed to satisfy constraint: {constraint}")

    def type_fail(self, value, path, t):
        if isinstance(value, _Bad):  # from a URI, query string, header or form
            self.type_errors.append(f"Value '{value.raw}' at '{path}' is not a valid {value.what}")
        elif isinstance(value, dict) and t not in ("structure", "map"):
            self.type_errors.append("Start of structure or map found where not expected.")
        elif isinstance(value, list) and t != "list":
            self.type_errors.append("Start of list found where not expected")
        elif t in _EXPECTED:
            self.type_errors.append(_EXPECTED[t])
        else:
            self.type_errors.append(f"{_token(value)} can not be converted to {_CONVERTED.get(t, 'an ' + str(t))}")

    def shape_of(self, ref):
        return self.model.shapes[ref["shape"]]

    def value(self, shape, value, path, sensitive):
        """Check one present (non-null) value against its shape."""
        sensitive = sensitive or bool(shape.get("sensitive"))
        if isinstance(value, _Bad):
            self.type_fail(value, path, shape.get("type"))
            return
        t = shape.get("type")
        if t == "structure":
            if shape.get("document"):
                return
            if not isinstance(value, dict):
                self.type_fail(value, path, t)
                return
            self.structure(shape, value, path, sensitive)
        elif t == "list":
            if not isinstance(value, list):
                self.type_fail(value, path, t)
                return
            self.size(shape, value, len(value), path, sensitive)
            mshape = self.shape_of(shape["member"])
            items = [(f"{path}.{i}.member", item) for i, item in enumerate(value, 1)]
            if mshape.get("type") in _SCALARS:
                # scalars: one error for the list, listing the member's constraints
                self.scalars(mshape, items, value, path, sensitive, "Member must satisfy constraint")
            else:
                for p, item in items:
                    if item is not None:
                        self.value(mshape, item, p, sensitive)
        elif t == "map":
            if not isinstance(value, dict):
                self.type_fail(value, path, t)
                return
            self.size(shape, value, len(value), path, sensitive)
            self.map_entries(shape, value, path, sensitive)
        elif t == "string":
            if not isinstance(value, str):
                self.type_fail(value, path, t)
                return
            for c in self.string_constraints(shape, value):
                self.fail(value, path, sensitive, c)
        elif t in ("integer", "long"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.type_fail(value, path, t)
                return
            value = int(value) if isinstance(value, float) and value.is_integer() else value  # 5.0: read as 5
            for c in self.range_constraints(shape, value):
                self.fail(value, path, sensitive, c)
        elif t in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.type_fail(value, path, t)
                return
            for c in self.range_constraints(shape, value):
                self.fail(value, path, sensitive, c)
        elif t == "boolean":
            if not isinstance(value, bool):
                self.type_fail(value, path, t)
        elif t == "timestamp":
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                self.type_fail(value, path, t)
        elif t == "blob":
            n = self.blob_len(value)
            if n is None:
                self.type_fail(value, path, t)
                return
            for c in self.length_constraints(shape, n):
                self.fail(_Blob(value) if isinstance(value, str) else value, path, sensitive, c)

    def structure(self, shape, value, path, sensitive, top=False):
        required = set(shape.get("required", ()))
        payload = shape.get("payload") if top else None
        for name, ref in shape.get("members", {}).items():
            if top and (ref.get("location") or name == payload):
                key = ("loc", name)
            else:
                key = ref.get("locationName", name)
            v = value.get(key)
            mpath = f"{path}.{_lower_first(name)}" if path else _lower_first(name)
            mshape = self.shape_of(ref)
            if v is None:
                if name in required:
                    self.fail(None, mpath, sensitive, "Member must not be null")
                continue
            self.value(mshape, v, mpath, sensitive)

    def blob_len(self, value):
        """A blob's length in bytes (-1: not base64, not checked), or None: not a blob."""
        if isinstance(value, _Raw):
            return len(value.data)
        text = value.text if isinstance(value, _Blob) else value
        if not isinstance(text, str):
            return None
        return _base64_len(text)

    @staticmethod
    def length_constraints(shape, n):
        if n < 0:
            return []
        out = []
        if "min" in shape and n < shape["min"]:
            out.append(f"Member must have length greater than or equal to {_num(shape['min'])}")
        if "max" in shape and n > shape["max"]:
            out.append(f"Member must have length less than or equal to {_num(shape['max'])}")
        return out

    @staticmethod
    def range_constraints(shape, v):
        out = []
        if "min" in shape and v < shape["min"]:
            out.append(f"Member must have value greater than or equal to {_num(shape['min'])}")
        if "max" in shape and v > shape["max"]:
            out.append(f"Member must have value less than or equal to {_num(shape['max'])}")
        return out

    def string_constraints(self, shape, s):
        out = self.length_constraints(shape, _utf16_len(s))
        pat = shape.get("pattern")
        if pat is not None:
            rx = _compiled(pat)
            if rx is None:
                self.ctx.count("validate:pattern_skipped")
            elif not rx.fullmatch(s):
                out.append(f"Member must satisfy regular expression pattern: {pat}")
        if "enum" in shape and s not in shape["enum"]:
            out.append("Member must satisfy enum value set: [" + ", ".join(shape["enum"]) + "]")
        return out

    def size(self, shape, value, n, path, sensitive):
        for c in self.length_constraints(shape, n):
            self.fail(value, path, sensitive, c)

    def all_constraints(self, shape):
        """Every constraint of a map's key or value shape, as AWS lists them."""
        out = []
        if "max" in shape:
            what = "value" if shape.get("type") in ("integer", "long", "float", "double") else "length"
            out.append(f"Member must have {what} less than or equal to {_num(shape['max'])}")
        if "min" in shape:
            what = "value" if shape.get("type") in ("integer", "long", "float", "double") else "length"
            out.append(f"Member must have {what} greater than or equal to {_num(shape['min'])}")
        if "pattern" in shape:
            out.append(f"Member must satisfy regular expression pattern: {shape['pattern']}")
        if "enum" in shape:
            out.append("Member must satisfy enum value set: [" + ", ".join(shape["enum"]) + "]")
        return out

    def scalars(self, shape, items, whole, path, sensitive, what):
        """Scalar members of a list or values of a map: a wrong type is
        refused as such; a violated constraint is one error for the whole
        collection ("Member must satisfy constraint: [...]")."""
        sub = _Validator(self.model, self.ctx)
        for p, item in items:
            if item is not None:
                sub.value(shape, item, p, sensitive)
        if sub.type_errors:
            self.type_errors.extend(sub.type_errors)
        elif sub.errors:
            sensitive = sensitive or bool(shape.get("sensitive"))
            self.fail(whole, path, sensitive, f"{what}: [" + ", ".join(self.all_constraints(shape)) + "]")

    def map_entries(self, shape, value, path, sensitive):
        kshape = self.shape_of(shape["key"])
        vshape = self.shape_of(shape["value"])
        sensitive = sensitive or bool(kshape.get("sensitive")) or bool(vshape.get("sensitive"))
        bad_key = kshape.get("type") == "string" and any(
            self.string_constraints(kshape, k) for k in value if isinstance(k, str))
        if bad_key:
            self.fail(value, path, sensitive, "Map keys must satisfy constraint: [" + ", ".join(self.all_constraints(kshape)) + "]")
        if vshape.get("type") in _SCALARS:
            # scalars: one error for the map, listing the value shape's constraints
            items = [(f"{path}.{k}.member", v) for k, v in value.items()]
            self.scalars(vshape, items, value, path, sensitive, "Map value must satisfy constraint")
        else:
            for k, v in value.items():
                if v is not None:
                    self.value(vshape, v, f"{path}.{k}.member", sensitive)


def _base64_len(text):
    s = text.strip()
    if len(s) % 4:
        return -1
    return len(s) // 4 * 3 - (len(s) - len(s.rstrip("=")))


def _num(n):
    if isinstance(n, float) and n.is_integer():
        return str(int(n))
    return str(n)


# ------------------------------------------------------------ Java regex

def _compiled(pattern):
    try:
        return _REGEX[pattern]
    except KeyError:
        pass
    try:
        rx = re.compile(_java_regex(pattern), re.ASCII)
    except (re.error, _Untranslatable, ValueError, OverflowError, RecursionError):
        rx = None
    _REGEX[pattern] = rx
    return rx


class _Untranslatable(Exception):
    pass


_MAXCP = 0x10FFFF
_CATS = None  # general category -> ranges
_CAT_LOCK = threading.Lock()
_GROUPS = {
    "L": ("Lu", "Ll", "Lt", "Lm", "Lo"),
    "LC": ("Lu", "Ll", "Lt"),
    "M": ("Mn", "Mc", "Me"),
    "N": ("Nd", "Nl", "No"),
    "P": ("Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po"),
    "S": ("Sm", "Sc", "Sk", "So"),
    "Z": ("Zs", "Zl", "Zp"),
    "C": ("Cc", "Cf", "Cs", "Co", "Cn"),
}


def _categories():
    global _CATS
    if _CATS is None:
        with _CAT_LOCK:
            if _CATS is None:
                cats = {}
                cat = unicodedata.category

                def scan(lo, hi):
                    start, cur = lo, cat(chr(lo))
                    for cp in range(lo + 1, hi + 1):
                        c = cat(chr(cp))
                        if c != cur:
                            cats.setdefault(cur, []).append((start, cp - 1))
                            start, cur = cp, c
                    cats.setdefault(cur, []).append((start, hi))

                scan(0, 0x1FFFF)  # BMP, SMP (emoji, scripts...)
                # SIP and TIP: CJK ideographs, taken as letters (their gaps too)
                cats.setdefault("Lo", []).extend([(0x20000, 0x2FFFD), (0x30000, 0x3FFFD)])
                cats.setdefault("Cn", []).extend([(0x2FFFE, 0x2FFFF), (0x3FFFE, 0xDFFFF)])
                scan(0xE0000, 0xE0FFF)  # tags, variation selectors
                cats.setdefault("Cn", []).append((0xE1000, 0xEFFFF))
                cats.setdefault("Co", []).append((0xF0000, 0x10FFFF))  # private use
                _CATS = {k: _merge(v) for k, v in cats.items()}
    return _CATS


def _merge(ranges):
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _complement(ranges):
    out, nxt = [], 0
    for lo, hi in _merge(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= _MAXCP:
        out.append((nxt, _MAXCP))
    return out


def _intersect(a, b):
    a, b = _merge(a), _merge(b)
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _chars(s):
    return [(ord(c), ord(c)) for c in s]


_ASCII = {
    "Lower": [(0x61, 0x7A)],
    "Upper": [(0x41, 0x5A)],
    "ASCII": [(0, 0x7F)],
    "Alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "Digit": [(0x30, 0x39)],
    "Alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "Punct": _chars("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "Blank": _chars(" \t"),
    "Cntrl": [(0, 0x1F), (0x7F, 0x7F)],
    "XDigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
    "Space": _chars(" \t\n\x0b\f\r"),
}
_ASCII["Graph"] = _ASCII["Alnum"] + _ASCII["Punct"]
_ASCII["Print"] = _ASCII["Graph"] + [(0x20, 0x20)]

_WORD = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
_DIGIT = [(0x30, 0x39)]
_SPACE = _chars(" \t\n\x0b\f\r")
_HSPACE = _chars(" \t\xa0\u1680\u180e\u202f\u205f\u3000") + [(0x2000, 0x200A)]
_VSPACE = _chars("\n\x0b\f\r\x85\u2028\u2029")
_LINE_TERMINATORS = _chars("\n\r\x85\u2028\u2029")


def _property(name):
    """The ranges of \\p{name} (Java)."""
    n = name
    for pre in ("general_category=", "gc="):
        if n.startswith(pre):
            n = n[len(pre):]
    if n in _ASCII:
        return list(_ASCII[n])
    if n.startswith("Is") and n[2:] in _ASCII:
        return list(_ASCII[n[2:]])
    if n.startswith("Is") and (n[2:] in _GROUPS or len(n) == 4):
        n = n[2:]
    if n == "all":
        return [(0, _MAXCP)]
    if n == "L1":
        return [(0, 0xFF)]
    if n == "LD":
        return _merge(_property("L") + _property("Nd"))
    binary = {
        "alphabetic": ("L", "Nl", "Mn", "Mc"), "letter": ("L",), "digit": ("Nd",),
        "punctuation": ("P",), "uppercase": ("Lu",), "lowercase": ("Ll",), "control": ("Cc",),
        "whitespace": None, "javalowercase": ("Ll",), "javauppercase": ("Lu",),
        "javaletter": ("L",), "javadigit": ("Nd",), "javaletterordigit": ("L", "Nd"),
        "javawhitespace": None, "javaspacechar": ("Z",), "javaisocontrol": ("Cc",),
    }
    key = re.sub(r"[\s_-]", "", n[2:] if n.startswith("Is") else n).lower()
    if key in binary:
        if binary[key] is None:
            return _chars(" \t\n\x0b\f\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") + [(0x2000, 0x200A)]
        return _merge([r for c in binary[key] for r in _property(c)])
    if n in _GROUPS:
        cats = _categories()
        return _merge([r for c in _GROUPS[n] for r in cats.get(c, [])])
    if len(n) == 2 and n[0] in "LMNPSZC":
        cats = _categories()
        if n in cats or n in ("Lt", "Cs", "Co", "Cn", "Zl", "Zp"):
            return list(cats.get(n, []))
    raise _Untranslatable(f"\\p{{{name}}}")


def _hexval(s):
    try:
        v = int(s, 16)
    except ValueError:
        raise _Untranslatable(s)
    if v > _MAXCP:
        raise _Untranslatable(s)
    return v


def _escape_atom(p, i):
    """The escape at p[i] == '\\': ('set', ranges, j) | ('char', cp, j) |
    ('quote', text, j) | ('other', text, j)."""
    n = len(p)
    if i + 1 >= n:
        raise _Untranslatable("trailing backslash")
    c = p[i + 1]
    j = i + 2
    if c in "pP":
        if j < n and p[j] == "{":
            k = p.find("}", j)
            if k < 0:
                raise _Untranslatable("\\p{")
            name, j = p[j + 1:k], k + 1
        elif j < n:
            name, j = p[j], j + 1
        else:
            raise _Untranslatable("\\p")
        ranges = _property(name)
        return ("set", _complement(ranges) if c == "P" else ranges, j)
    simple = {"w": _WORD, "d": _DIGIT, "s": _SPACE, "h": _HSPACE, "v": _VSPACE}
    if c in simple:
        return ("set", list(simple[c]), j)
    if c.lower() in simple and c.isupper():
        return ("set", _complement(simple[c.lower()]), j)
    if c == "Q":
        k = p.find("\\E", j)
        if k < 0:
            return ("quote", p[j:], n)
        return ("quote", p[j:k], k + 2)
    if c == "x":
        if j < n and p[j] == "{":
            k = p.find("}", j)
            if k < 0:
                raise _Untranslatable("\\x{")
            return ("char", _hexval(p[j + 1:k]), k + 1)
        return ("char", _hexval(p[j:j + 2]), j + 2)
    if c == "u":
        v = _hexval(p[j:j + 4])
        # Java reads \uD800\uDC00 as one code point (a surrogate pair)
        if 0xD800 <= v <= 0xDBFF and p.startswith("\\u", j + 4):
            try:
                low = int(p[j + 6:j + 10], 16)
            except ValueError:
                low = -1
            if 0xDC00 <= low <= 0xDFFF:
                return ("char", 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00), j + 10)
        return ("char", v, j + 4)
    if c == "0":
        k = j
        while k < n and k < j + 3 and p[k] in "01234567":
            k += 1
        if k == j:
            raise _Untranslatable("\\0")
        v = int(p[j:k], 8)
        if v > 0o377:
            k -= 1
            v = int(p[j:k], 8)
        return ("char", v, k)
    named = {"t": 9, "n": 10, "r": 13, "f": 12, "a": 7, "e": 27}
    if c in named:
        return ("char", named[c], j)
    if c == "c":
        if j >= n:
            raise _Untranslatable("\\c")
        return ("char", ord(p[j]) ^ 64, j + 1)
    if not c.isalnum():
        return ("char", ord(c), j)
    return ("other", c, j)


def _cp_escape(cp):
    return "\\u%04x" % cp if cp <= 0xFFFF else "\\U%08x" % cp


def _emit_set(ranges):
    ranges = _merge(ranges)
    if not ranges:
        return "(?!)"
    parts = []
    for lo, hi in ranges:
        parts.append(_cp_escape(lo) if lo == hi else _cp_escape(lo) + "-" + _cp_escape(hi))
    return "[" + "".join(parts) + "]"


def _parse_class(p, i):
    """A Java character class at p[i] == '[': (ranges, index after it)."""
    n = len(p)
    i += 1
    negate = False
    if i < n and p[i] == "^":
        negate, i = True, i + 1
    pending = None  # left operand of &&
    current = []
    first = True
    while True:
        if i >= n:
            raise _Untranslatable("unclosed class")
        c = p[i]
        if c == "]" and not first:
            i += 1
            break
        first = False
        if c == "[":
            sub, i = _parse_class(p, i)
            current += sub
            continue
        if p.startswith("&&", i):
            pending = current if pending is None else _intersect(pending, current)
            current = []
            i += 2
            continue
        # one atom: a set (\w, \p{L}) or a char
        if c == "\\":
            kind, val, j = _escape_atom(p, i)
            if kind == "set":
                current += val
                i = j
                continue
            if kind == "quote":
                current += _chars(val)
                i = j
                continue
            if kind == "other":
                raise _Untranslatable("\\" + val)
            lo = val
        else:
            lo, j = ord(c), i + 1
        i = j
        # a range lo-hi?
        if i + 1 < n and p[i] == "-" and p[i + 1] != "]":
            if p[i + 1] == "[":
                current.append((lo, lo))
                continue
            if p[i + 1] == "\\":
                kind, val, j = _escape_atom(p, i + 1)
                if kind != "char":
                    current.append((lo, lo))  # '-' is a literal before a class: Java refuses it, be lenient
                    continue
                hi = val
            else:
                hi, j = ord(p[i + 1]), i + 2
            if hi < lo:
                raise _Untranslatable("bad range")
            current.append((lo, hi))
            i = j
        else:
            current.append((lo, lo))
    result = current if pending is None else _intersect(pending, current)
    if negate:
        result = _complement(result)
    return result, i


_QUANTIFIER = re.compile(r"[*+?]|\{\d+(?:,\d*)?\}")
_GROUP_OPEN = re.compile(
    r"\((?:\?(?:(?P<flags>[a-zA-Z]*(?:-[a-zA-Z]*)?)(?P<end>[:)])|(?P<look><[=!]|[=!>])|<(?P<name>[a-zA-Z][a-zA-Z0-9]*)>))?")


def _py_flags(flags):
    """Java inline flags as Python's: i m s x kept, u d (case, line
    conventions) dropped; the others cannot be translated."""
    out = ""
    for ch in flags:
        if ch in "imsx-":
            out += ch
        elif ch not in "ud":
            raise _Untranslatable("(?" + flags)
    return out.rstrip("-") if out.endswith("-") else out


def _java_regex(p):
    """A Python `re` pattern (to compile with re.ASCII) matching as Java's."""
    out = []
    n = len(p)
    dotall = bool(re.search(r"\(\?[a-zA-Z]*s", p))
    # per open group: index in `out` where it starts, and whether it is a lookaround
    groups = []
    # per nesting level: the scoped flag groups opened by a mid-pattern (?i)
    level_flags = [[]]
    last = None  # index in `out` where the last atom starts
    last_kind = None  # "atom", "anchor", "quantified"
    i = 0

    def atom(piece, kind="atom"):
        nonlocal last, last_kind
        last, last_kind = len(out), kind
        out.append(piece)

    while i < n:
        c = p[i]
        if c in "*+?{":
            m = _QUANTIFIER.match(p, i)
            if m:
                q, j = m.group(0), m.end()
                if j < n and p[j] in "?+":  # lazy, possessive
                    q, j = q + p[j], j + 1
                if last is None:
                    raise _Untranslatable("nothing to repeat")
                if last_kind != "atom":  # X{2}{3}, ${1,128}: Java repeats them, Python wants a group
                    out[last:] = ["(?:" + "".join(out[last:]) + ")"]
                out.append(q)
                last_kind = "quantified"
                i = j
                continue
            if c == "{":
                atom(r"\{")
                i += 1
                continue
        if c == "\\":
            kind, val, j = _escape_atom(p, i)
            if kind == "set":
                atom(_emit_set(val))
            elif kind == "char":
                atom(_cp_escape(val))
            elif kind == "quote":
                if val:
                    if len(val) > 1:
                        out.append(re.escape(val[:-1]))
                    atom(re.escape(val[-1]))
            elif val == "z":
                atom(r"\Z", "anchor")
            elif val == "Z":
                atom(r"(?=[\n\r\u0085\u2028\u2029]?\Z)", "anchor")
            elif val in "AbB":
                atom("\\" + val, "anchor")
            elif val.isdigit():
                atom("\\" + val)
            elif val == "k" and j < n and p[j] == "<":
                k = p.find(">", j)
                if k < 0:
                    raise _Untranslatable("\\k<")
                atom(f"(?P={p[j + 1:k]})")
                j = k + 1
            elif val == "R":
                atom(r"(?:\r\n|[\n\x0b\f\r\u0085\u2028\u2029])")
            else:
                raise _Untranslatable("\\" + val)
            i = j
        elif c == "[":
            ranges, i = _parse_class(p, i)
            atom(_emit_set(ranges))
        elif c == ".":
            atom(_emit_set([(0, _MAXCP)] if dotall else _complement(_LINE_TERMINATORS)))
            i += 1
        elif c in "^$":
            atom(c, "anchor")
            i += 1
        elif c == "(":
            m = _GROUP_OPEN.match(p, i)
            if p.startswith("(?", i) and m.end() == i + 1:
                raise _Untranslatable("(?" + p[i + 2:i + 3])
            j = m.end()
            if m.group("flags") is not None and m.group("end") == ")":
                flags = _py_flags(m.group("flags"))
                if i == 0 or not out:
                    out.append(f"(?{flags})" if flags else "")
                elif flags:  # mid-pattern: scoped to the rest of the group
                    out.append(f"(?{flags}:")
                    level_flags[-1].append(flags)
                last, last_kind = None, None
                i = j
                continue
            if m.group("name"):
                opener = f"(?P<{m.group('name')}>"
            elif m.group("flags") is not None:
                flags = _py_flags(m.group("flags"))
                opener = f"(?{flags}:" if flags else "(?:"
            else:
                opener = m.group(0)
            groups.append((len(out), bool(m.group("look"))))
            out.append(opener)
            level_flags.append([])
            last, last_kind = None, None
            i = j
        elif c == ")":
            if not groups:
                raise _Untranslatable("unbalanced )")
            out.append(")" * len(level_flags.pop()))
            start, look = groups.pop()
            out.append(")")
            last, last_kind = start, ("anchor" if look else "atom")
            i += 1
        elif c == "|":
            opened = level_flags[-1]
            out.append(")" * len(opened) + "|" + "".join(f"(?{f}:" for f in opened))
            last, last_kind = None, None
            i += 1
        else:
            atom(re.escape(c) if c in "}]" else c)
            i += 1
    if groups:
        raise _Untranslatable("unbalanced (")
    out.append(")" * len(level_flags[0]))
    return "".join(out)
