"""awsim --quotas: AWS's documented control-plane request-rate quotas.

The table is quotas.json (QUOTAS.md describes it and its sources; the Rust
side reads the same file). Each service has buckets: {"bucket", "rate",
"burst", "operations", "source", "note"} and, for a bucket that counts every
request of its service (API Gateway's "Total operations"), "total": true.
An operation belongs to the first bucket that lists it, else to the bucket
whose operations are ["*"]; a "total" bucket is taken from as well. A bucket
with a null rate is not throttled; an operation in no bucket is not either.

Each bucket is a token bucket per (access key id, region, service, bucket):
it starts full (burst tokens), refills at `rate` tokens a second up to
`burst`, and a request takes one token from each of its buckets or, when one
of them has less than one, is refused with the service's own throttling
error (awsim's throttle_error) and counted as quota:<service>:<bucket>.
The account is the access key id (moto answers account 123456789012 for any
key), the region the one of the SigV4 credential scope
(Credential=AKID/date/REGION/SERVICE/aws4_request). --quota-scale F
multiplies every rate and burst (a burst is kept at least 1, so that a
bucket of "1 request every 30 seconds" still admits one).

Operation names are AWS's: for the REST services (Lambda, API Gateway v2)
the method and path are matched against botocore's model (validate.py's
routes), so a Lambda call awsim's LAMBDA_ROUTES does not name
(GET /2015-03-31/functions/ = ListFunctions) or an API Gateway request
("Create /v2/apis/ID/deployments" = CreateDeployment) finds its bucket.
"""

import json
import os
import re
import threading
import time

import validate  # botocore's REST routes (method + path -> operation)

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "quotas.json")
# signing name -> botocore model, for the services whose operation is in the path
REST_MODELS = {"lambda": "lambda", "apigateway": "apigatewayv2"}
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/aws4_request")


def load(path=PATH):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def scope(headers):
    """(access key id, region) of a SigV4-signed request, or (None, None)."""
    auth = ""
    for k, v in (headers or {}).items():
        if str(k).lower() == "authorization":
            auth = v
            break
    m = _CREDENTIAL.search(auth or "")
    return (m.group(1), m.group(2)) if m else (None, None)


def operation(service, op, method, path):
    """AWS's name of the operation awsim classified as `op`."""
    model = REST_MODELS.get(service)
    if model is None:
        return op
    try:
        matched = validate._model(model).match(method, path)
    except Exception:  # never break the proxy: keep awsim's name
        matched = None
    return matched[0] if matched else op


class Quotas:
    def __init__(self, table, scale=1.0, count=None, throttle_error=None, clock=time.monotonic):
        self.scale = float(scale)
        self.count = count or (lambda kind: None)
        self.throttle_error = throttle_error
        self.clock = clock
        self.lock = threading.Lock()
        self.state = {}  # (akid, region, service, bucket name) -> [tokens, last refill time]
        self.routes = {}  # service -> (operation -> bucket, "*" bucket, [total buckets])
        for service, buckets in table["services"].items():
            by_op, star, totals = {}, None, []
            for b in buckets:
                spec = self._spec(b)
                if b.get("total"):
                    totals.append(spec)
                for op in b["operations"]:
                    if op == "*":
                        if star is None and not b.get("total"):
                            star = spec
                    else:
                        by_op.setdefault(op, spec)
            self.routes[service] = (by_op, star, totals)

    def _spec(self, b):
        if b.get("rate") is None:
            return {"name": b["bucket"], "rate": None, "burst": None}
        burst = b["burst"] if b.get("burst") is not None else b["rate"]
        return {"name": b["bucket"], "rate": b["rate"] * self.scale, "burst": max(1.0, burst * self.scale)}

    def buckets(self, service, opname):
        """The limited buckets a request of `opname` takes a token from."""
        route = self.routes.get(service)
        if route is None:
            return []
        by_op, star, totals = route
        own = by_op.get(opname, star)
        out = [own] if own is not None else []
        out += [t for t in totals if t is not own]
        return [b for b in out if b["rate"] is not None]

    def take(self, service, op, method, path, headers):
        """None, or the (status, headers, body) awsim answers: the service's own throttling error."""
        if service not in self.routes:
            return None
        specs = self.buckets(service, operation(service, op, method, path))
        if not specs:
            return None
        akid, region = scope(headers)
        now = self.clock()
        with self.lock:
            states = []
            for spec in specs:
                key = (akid, region, service, spec["name"])
                st = self.state.get(key)
                if st is None:
                    st = self.state[key] = [spec["burst"], now]
                else:
                    st[0] = min(spec["burst"], st[0] + (now - st[1]) * spec["rate"])
                    st[1] = now
                states.append((spec, st))
            empty = next((spec for spec, st in states if st[0] < 1.0), None)
            if empty is None:
                for _, st in states:
                    st[0] -= 1.0
        if empty is None:
            return None
        self.count(f"quota:{service}:{empty['name']}")
        return self.throttle_error(service)
