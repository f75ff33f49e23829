"""awsim --quotas (quotas.py, quotas.json): AWS's documented request-rate
quotas. For each service a burst past its bucket is refused with the
service's own throttling error (code and HTTP status), the bucket refills at
the documented rate, GetFunction and GetPolicy have buckets of their own,
--quota-scale 0.5 admits about half, two regions (and two access keys) have
separate buckets, and awsim without --quotas throttles nothing.

One moto_server and four awsim proxies: --quotas; --quotas --quota-scale 0.5;
no --quotas; --quotas --quota-scale 0.02 (buckets of one or two requests, for
the checks that must not depend on timing, and for STS's 600/s). Every test
uses its own access key, so that each starts with full buckets.

Run: cd /work/main && .tools/venv/bin/python -m unittest awsim.tests.test_quotas -v
(or the whole discover of awsim/tests).
"""

import json
import os
import sys
import threading
import time
import unittest
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_rules import start_awsim, start_moto  # noqa: E402

QUOTAS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "quotas.json")
OK = "ok"


def table():
    with open(QUOTAS) as f:
        return json.load(f)["services"]


def bucket(service, name):
    return next(b for b in table()[service] if b["bucket"] == name)


class Quotas(unittest.TestCase):
    procs = []

    @classmethod
    def setUpClass(cls):
        moto, moto_port = start_moto()
        cls.procs.append(moto)
        ports = {}
        for name, extra in (("full", ["--quotas"]), ("half", ["--quotas", "--quota-scale", "0.5"]),
                            ("off", []), ("tiny", ["--quotas", "--quota-scale", "0.02"])):
            p, port = start_awsim(moto_port, *extra)
            cls.procs.append(p)
            ports[name] = port
        cls.ports = ports
        # each awsim loads a service's botocore model on its first request (up to a
        # second): done here, so that no measured bucket sits full meanwhile
        calls = {"lambda": lambda c: c.list_functions(), "apigatewayv2": lambda c: c.get_apis(),
                 "logs": lambda c: c.describe_log_groups(), "cognito-idp": lambda c: c.list_user_pools(MaxResults=1),
                 "iam": lambda c: c.list_roles(), "sts": lambda c: c.get_caller_identity()}

        def warm(job):
            awsim, service = job
            client = boto3.client(service, endpoint_url=f"http://127.0.0.1:{ports[awsim]}", region_name="us-east-1",
                                  aws_access_key_id="AKIAWARMUP", aws_secret_access_key="testing",
                                  config=Config(retries={"total_max_attempts": 1}))
            try:
                calls[service](client)
            except ClientError:
                pass

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(warm, [(a, s) for a in ports for s in calls]))

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.procs):
            p.kill()
            p.wait()
            if p.stdout:
                p.stdout.close()

    # ------------------------------------------------------------ helpers

    def client(self, service, key, awsim="full", region="us-east-1"):
        return boto3.client(service, endpoint_url=f"http://127.0.0.1:{self.ports[awsim]}", region_name=region,
                            aws_access_key_id=key, aws_secret_access_key="testing",
                            config=Config(retries={"total_max_attempts": 1}, max_pool_connections=16))

    @staticmethod
    def key():
        return "AKIA" + uuid.uuid4().hex[:16].upper()

    def stats(self, awsim="full"):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports[awsim]}/__awsim/stats", timeout=10) as r:
            return json.loads(r.read())

    @staticmethod
    def outcome(call):
        """OK when AWS would have taken the request (any answer but a throttle), else (code, status, response)."""
        try:
            call()
            return OK
        except ClientError as e:
            err = e.response.get("Error", {})
            code = err.get("Code")
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("TooManyRequestsException", "ThrottlingException", "Throttling"):
                return (code, status, e.response)
            return OK

    def burst(self, call, n, threads=8):
        """n calls at once: (admitted, refusals, seconds taken)."""
        start = time.monotonic()
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(lambda _: self.outcome(call), range(n)))
        elapsed = time.monotonic() - start
        return sum(r == OK for r in results), [r for r in results if r != OK], elapsed

    def drain(self, call, limit=20):
        """Bursts of calls at once until one is refused: that refusal
        (bursts, so that a loaded machine whose calls one after another are
        slower than the rate still empties the bucket)."""
        for _ in range(limit):
            _, refused, _ = self.burst(call, 40, threads=16)
            if refused:
                return refused[0]
        self.fail(f"no refusal after {limit} bursts of 40 calls")

    def admitted_over(self, call, seconds):
        """Calls one after another for `seconds` from a drained bucket:
        (admitted, span measured, refused). With none refused the calls
        were slower than the rate (a loaded machine): only the upper bound
        of what was admitted says anything then."""
        t0 = time.monotonic()
        admitted, refused, last = 0, 0, t0
        while True:
            t = time.monotonic()
            if t - t0 >= seconds:
                break
            if self.outcome(call) == OK:
                admitted += 1
            else:
                refused += 1
            last = t
        return admitted, last - t0, refused

    def check_service(self, service, bucket_name, rate, size, call, code, status, refill_seconds=1.2):
        """A burst past the bucket is refused with `code`/`status`; drained, it refills at `rate`."""
        spec = bucket(service, bucket_name)
        self.assertEqual((spec["rate"], spec["burst"]), (rate, size))  # the documented figures
        kind = f"quota:{service}:{bucket_name}"
        before = self.stats().get(kind, 0)
        n = int(size * 2 + 10)
        admitted, refused, elapsed = self.burst(call, n)
        if n > size + rate * elapsed + 2:  # the calls outran the refill
            self.assertTrue(refused, f"{service}: no refusal in a burst of {n} in {elapsed:.2f}s")
        for c, s, _ in refused:
            self.assertEqual((c, s), (code, status))
        self.assertGreaterEqual(admitted, size)
        self.assertLessEqual(admitted, size + rate * elapsed + 2)
        drained = self.drain(call)
        self.assertEqual(drained[:2], (code, status))
        refused = refused or [drained]
        got, span, slowed = self.admitted_over(call, refill_seconds)
        expected = rate * span
        # The refill's lower bound says something only where the calls
        # came at least twice as fast as the rate (a loaded machine's do
        # not: the suite beside a second run of itself).
        if got + slowed >= 2 * expected:
            self.assertGreaterEqual(got, expected - 2.5, f"{service}: {got} admitted in {span:.2f}s at {rate}/s")
        self.assertLessEqual(got, expected + 2.5, f"{service}: {got} admitted in {span:.2f}s at {rate}/s")
        refusals = self.stats().get(kind, 0) - before
        self.assertGreaterEqual(refusals, len(refused))  # the burst's (or the drain's) at least
        return refused

    # ------------------------------------------------------------ each service

    def test_lambda_control_plane_15_per_second(self):
        lam = self.client("lambda", self.key())
        refused = self.check_service("lambda", "Remainder of the control plane API requests", 15, 15, lambda: lam.list_functions(),
                                     "TooManyRequestsException", 429)
        body = refused[0][2]
        self.assertEqual(body["Error"]["Message"], "Rate exceeded")
        self.assertEqual(body.get("Reason"), "CallerRateLimitExceeded", body)

    def test_api_gateway_total_operations_10_per_second_burst_40(self):
        apigw = self.client("apigatewayv2", self.key())
        self.check_service("apigateway", "Total operations", 10, 40, lambda: apigw.get_apis(), "TooManyRequestsException", 429)

    def test_logs_describe_log_groups_10_per_second(self):
        logs = self.client("logs", self.key())
        refused = self.check_service("logs", "DescribeLogGroups", 10, 10, lambda: logs.describe_log_groups(),
                                     "ThrottlingException", 400)
        self.assertEqual(refused[0][2]["Error"]["Message"], "Rate exceeded")

    def test_cognito_user_pool_read_15_per_second(self):
        idp = self.client("cognito-idp", self.key())
        self.check_service("cognito-idp", "UserPoolRead", 15, 15, lambda: idp.list_user_pools(MaxResults=10),
                           "TooManyRequestsException", 400)

    def test_iam_20_per_second(self):
        iam = self.client("iam", self.key())
        refused = self.check_service("iam", "IAM API requests", 20, 20, lambda: iam.list_roles(), "Throttling", 400)
        self.assertEqual(refused[0][2]["Error"]["Message"], "Rate exceeded")

    def test_sts_600_per_second_shared(self):
        # 600/s scaled by 0.02: 12/s and a bucket of 12, which GetCallerIdentity and
        # GetSessionToken share (two buckets would admit 24 at once)
        sts = self.client("sts", self.key(), awsim="tiny")
        calls = [lambda: sts.get_caller_identity(), lambda: sts.get_session_token()]
        start = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: self.outcome(calls[i % 2]), range(40)))
        elapsed = time.monotonic() - start
        admitted, refused = sum(r == OK for r in results), [r for r in results if r != OK]
        self.assertTrue(refused)
        self.assertEqual({r[:2] for r in refused}, {("Throttling", 400)})
        self.assertGreaterEqual(admitted, 12)
        self.assertLessEqual(admitted, 12 + 12 * elapsed + 2, f"{admitted} admitted in {elapsed:.2f}s")

    # ------------------------------------------------------------ buckets

    def test_get_function_and_get_policy_have_their_own_buckets(self):
        # scale 0.02: the remainder holds 1 request (0.3/s), GetFunction 2 (2/s), GetPolicy 1 (0.3/s)
        lam = self.client("lambda", self.key(), awsim="tiny")
        name = "fn-" + uuid.uuid4().hex[:8]
        self.assertEqual(self.outcome(lambda: lam.list_functions()), OK)
        self.assertEqual(self.outcome(lambda: lam.list_functions())[:2], ("TooManyRequestsException", 429))
        self.assertEqual(self.outcome(lambda: lam.get_function_configuration(FunctionName=name))[:2],
                         ("TooManyRequestsException", 429))  # in the remainder
        self.assertEqual(self.outcome(lambda: lam.get_function(FunctionName=name)), OK)
        self.assertEqual(self.outcome(lambda: lam.get_function(FunctionName=name)), OK)
        self.assertEqual(self.outcome(lambda: lam.get_function(FunctionName=name))[:2], ("TooManyRequestsException", 429))
        self.assertEqual(self.outcome(lambda: lam.get_policy(FunctionName=name)), OK)
        self.assertEqual(self.outcome(lambda: lam.get_policy(FunctionName=name))[:2], ("TooManyRequestsException", 429))
        stats = self.stats("tiny")
        for b in ("GetFunction API requests", "GetPolicy API requests", "Remainder of the control plane API requests"):
            self.assertGreaterEqual(stats.get(f"quota:lambda:{b}", 0), 1, stats)

    def test_get_function_100_per_second(self):
        lam = self.client("lambda", self.key())
        self.drain(lambda: lam.list_functions())
        name = "fn-" + uuid.uuid4().hex[:8]
        # the remainder is empty, GetFunction's own 100 are not
        start = time.monotonic()
        admitted, refused, _ = self.burst(lambda: lam.get_function(FunctionName=name), 60)
        self.assertEqual((admitted, refused), (60, []))
        more, refused, _ = self.burst(lambda: lam.get_function(FunctionName=name), 300, threads=12)
        elapsed = time.monotonic() - start
        # Refusals only when the calls outran the refill: on a loaded
        # machine 360 calls can take long enough for 100/s to admit them
        # all (the bound below holds either way).
        if 360 > 100 + 100 * elapsed + 5:
            self.assertTrue(refused, f"360 GetFunction in {elapsed:.2f}s: none refused")
        if refused:
            self.assertEqual(refused[0][:2], ("TooManyRequestsException", 429))
        self.assertLessEqual(60 + more, 100 + 100 * elapsed + 2, f"{60 + more} admitted in {elapsed:.2f}s")
        self.assertGreaterEqual(60 + more, 100)

    def test_scale_half_admits_about_half(self):
        # A burst at once from a full bucket: at least the bucket (15 at
        # scale 1, 7.5 at 0.5), at most the bucket and its refill over the
        # burst's time. Where the burst is quick the two ranges do not meet.
        results = {}
        for awsim in ("full", "half"):
            lam = self.client("lambda", self.key(), awsim=awsim)
            results[awsim] = self.burst(lambda: lam.list_functions(), 40, threads=16)
        (full, _, t_full), (half, refused_half, t_half) = results["full"], results["half"]
        self.assertGreaterEqual(full, 15, results)
        self.assertLessEqual(full, 15 + 15 * t_full + 2, results)
        self.assertGreaterEqual(half, 7, results)
        self.assertLessEqual(half, 7.5 + 7.5 * t_half + 2, results)
        if 40 > 7.5 + 7.5 * t_half + 2:  # the calls outran the refill
            self.assertTrue(refused_half, results)
            self.assertGreaterEqual(self.stats("half").get("quota:lambda:Remainder of the control plane API requests", 0), 1)

    def test_regions_and_access_keys_have_separate_buckets(self):
        # scale 0.02: DescribeLogGroups holds 1 request and refills in 5 s
        key = self.key()
        west = self.client("logs", key, awsim="tiny", region="us-west-2")
        self.assertEqual(self.outcome(lambda: west.describe_log_groups()), OK)
        self.assertEqual(self.outcome(lambda: west.describe_log_groups())[:2], ("ThrottlingException", 400))
        frankfurt = self.client("logs", key, awsim="tiny", region="eu-central-1")
        self.assertEqual(self.outcome(lambda: frankfurt.describe_log_groups()), OK)
        other_account = self.client("logs", self.key(), awsim="tiny", region="us-west-2")
        self.assertEqual(self.outcome(lambda: other_account.describe_log_groups()), OK)
        self.assertEqual(self.outcome(lambda: west.describe_log_groups())[:2], ("ThrottlingException", 400))
        self.assertEqual(self.outcome(lambda: frankfurt.describe_log_groups())[:2], ("ThrottlingException", 400))
        # the same access key at full scale, in another region: 10 at once
        full = self.client("logs", key, region="eu-central-1")
        admitted, refused, _ = self.burst(lambda: full.describe_log_groups(), 8)
        self.assertEqual((admitted, refused), (8, []))

    def test_api_gateway_create_deployment_own_quota(self):
        # 1 request every 5 seconds, besides Total operations: "Create /v2/apis/ID/deployments" is CreateDeployment
        apigw = self.client("apigatewayv2", self.key())
        before = self.stats().get("quota:apigateway:CreateDeployment", 0)
        self.assertEqual(self.outcome(lambda: apigw.create_deployment(ApiId="a1b2c3")), OK)
        self.assertEqual(self.outcome(lambda: apigw.create_deployment(ApiId="a1b2c3"))[:2], ("TooManyRequestsException", 429))
        self.assertEqual(self.outcome(lambda: apigw.get_apis()), OK)  # Total operations still has tokens
        self.assertEqual(self.stats().get("quota:apigateway:CreateDeployment", 0) - before, 1)

    def test_without_quotas_nothing_is_throttled(self):
        key = self.key()
        lam = self.client("lambda", key, awsim="off")
        apigw = self.client("apigatewayv2", key, awsim="off")
        logs = self.client("logs", key, awsim="off")
        for call, n in ((lambda: lam.list_functions(), 60), (lambda: apigw.get_apis(), 80),
                        (lambda: logs.describe_log_groups(), 40)):
            admitted, refused, _ = self.burst(call, n)
            self.assertEqual((admitted, refused), (n, []))
        self.assertFalse([k for k in self.stats("off") if k.startswith("quota:")])


if __name__ == "__main__":
    unittest.main()
