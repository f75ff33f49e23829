"""awsim/validate.py: requests checked against AWS's published models.

A real moto_server with awsim in front, and real boto3 calls with botocore's
client-side validation turned off, so that the invalid requests reach awsim:
each refused with AWS's error code and message, each valid one answered by
moto. Both processes are stopped at the end.

    cd /work/main && .tools/venv/bin/python -m unittest discover -s awsim/tests -v
"""

import http.client
import json
import os
import subprocess
import sys
import threading
import unittest

import boto3
import botocore.config
from botocore.exceptions import ClientError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, ".tools", "venv", "bin")
AWSIM = os.path.join(ROOT, "awsim")
sys.path.insert(0, AWSIM)

import validate  # noqa: E402  (in-process tests of the regex translation)

CONFIG = botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"})
AUTH = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0"


class Servers:
    moto = None
    awsim = None
    endpoint = None
    moto_log = []


def _drain(stream, sink, found=None):
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace")
        sink.append(line)
        if found is not None and "Running on http://127.0.0.1:" in line:
            found.append(int(line.split("Running on http://127.0.0.1:")[1].split()[0].strip("/")))
            found_event.set()


found_event = threading.Event()


def setUpModule():
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="false")
    Servers.moto = subprocess.Popen(
        [os.path.join(VENV_BIN, "moto_server"), "-H", "127.0.0.1", "-p", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )
    port = []
    threading.Thread(target=_drain, args=(Servers.moto.stderr, Servers.moto_log, port), daemon=True).start()
    if not found_event.wait(60):
        tearDownModule()
        raise RuntimeError("moto_server did not start: " + "".join(Servers.moto_log))
    Servers.awsim = subprocess.Popen(
        [os.path.join(VENV_BIN, "python"), os.path.join(AWSIM, "awsim.py"),
         "--upstream", f"http://127.0.0.1:{port[0]}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT,
    )
    line = Servers.awsim.stdout.readline().decode().strip()
    if not line.isdigit():
        err = Servers.awsim.stderr.read().decode(errors="replace") if Servers.awsim.poll() is not None else ""
        tearDownModule()
        raise RuntimeError(f"awsim did not start: {line!r} {err}")
    threading.Thread(target=_drain, args=(Servers.awsim.stderr, []), daemon=True).start()
    Servers.endpoint = f"http://127.0.0.1:{line}"


def tearDownModule():
    for p in (Servers.awsim, Servers.moto):
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    for p in (Servers.awsim, Servers.moto):
        if p is not None:
            for s in (p.stdout, p.stderr):
                if s is not None:
                    s.close()


def client(name):
    return boto3.client(
        name, endpoint_url=Servers.endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing", config=CONFIG,
    )


def raw(method, path, service, body=b"", headers=None):
    """A request made by hand (signed in name only: moto does not check)."""
    host = Servers.endpoint[len("http://"):]
    conn = http.client.HTTPConnection(host, timeout=10)
    h = {"Authorization": AUTH.format(service)}
    h.update(headers or {})
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, dict(r.getheaders()), data


class Base(unittest.TestCase):
    def refused(self, call, code, message=None, status=400):
        with self.assertRaises(ClientError) as cm:
            call()
        err = cm.exception.response["Error"]
        self.assertEqual(err["Code"], code, cm.exception.response)
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], status)
        if message is not None:
            self.assertEqual(err["Message"], message)
        return err


class CognitoTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.c = client("cognito-idp")

    def test_length_and_pattern_of_an_empty_name(self):
        self.refused(
            lambda: self.c.create_user_pool(PoolName=""),
            "InvalidParameterException",
            "2 validation errors detected: "
            "Value '' at 'poolName' failed to satisfy constraint: Member must have length greater than or equal to 1; "
            "Value '' at 'poolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
        )

    def test_too_long_name(self):
        self.refused(
            lambda: self.c.create_user_pool(PoolName="p" * 129),
            "InvalidParameterException",
            f"1 validation error detected: Value '{'p' * 129}' at 'poolName' failed to satisfy constraint: "
            "Member must have length less than or equal to 128",
        )

    def test_nested_member_path(self):
        err = self.refused(
            lambda: self.c.create_user_pool(PoolName="ok", LambdaConfig={"PreSignUp": "arn:aws:lambda:not an arn at all"}),
            "InvalidParameterException",
        )
        self.assertEqual(
            err["Message"],
            "1 validation error detected: Value 'arn:aws:lambda:not an arn at all' at 'lambdaConfig.preSignUp' "
            "failed to satisfy constraint: Member must satisfy regular expression pattern: "
            "arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?",
        )

    def test_missing_required_member(self):
        self.refused(
            lambda: self.c.describe_user_pool(),
            "InvalidParameterException",
            "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
        )

    def test_enum(self):
        self.refused(
            lambda: self.c.create_user_pool(PoolName="ok", MfaConfiguration="SOMETIMES"),
            "InvalidParameterException",
            "1 validation error detected: Value 'SOMETIMES' at 'mfaConfiguration' failed to satisfy constraint: "
            "Member must satisfy enum value set: [OFF, ON, OPTIONAL]",
        )

    def test_sensitive_value_is_left_out_and_unicode_pattern(self):
        pool = self.c.create_user_pool(PoolName="unicode-users")["UserPool"]["Id"]
        # \p{L}\p{M}\p{S}\p{N}\p{P}: letters and symbols of any script pass...
        user = self.c.admin_create_user(UserPoolId=pool, Username="zoë-😀", MessageAction="SUPPRESS")
        self.assertEqual(user["User"]["Username"], "zoë-😀")
        # ...a control character or a space does not; the name is sensitive
        self.refused(
            lambda: self.c.admin_create_user(UserPoolId=pool, Username="a b", MessageAction="SUPPRESS"),
            "InvalidParameterException",
            "1 validation error detected: Value at 'username' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
        )

    def test_valid_request_reaches_moto(self):
        pool = self.c.create_user_pool(
            PoolName="valid pool", MfaConfiguration="OFF",
            UserPoolTags={"team": "a"}, Policies={"PasswordPolicy": {"MinimumLength": 8}},
        )["UserPool"]
        self.assertTrue(pool["Id"].startswith("us-east-1_"))
        self.assertEqual(self.c.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Name"], "valid pool")

    def test_list_of_strings_is_one_error(self):
        self.refused(
            lambda: self.c.create_user_pool(PoolName="ok", AutoVerifiedAttributes=["email", "fax"]),
            "InvalidParameterException",
            "1 validation error detected: Value '[email, fax]' at 'autoVerifiedAttributes' failed to satisfy "
            "constraint: Member must satisfy constraint: [Member must satisfy enum value set: [phone_number, email]]",
        )

    def test_wrong_types(self):
        self.refused(lambda: self.c.create_user_pool(PoolName=5), "SerializationException",
                     "NUMBER_VALUE can not be converted to an String")
        # (boto3 would send a string as a list of its characters: by hand)
        status, _, data = raw("POST", "/", "cognito-idp", json.dumps({"PoolName": "ok", "AutoVerifiedAttributes": "email"}),
                              {"X-Amz-Target": "AWSCognitoIdentityProviderService.CreateUserPool",
                               "Content-Type": "application/x-amz-json-1.1"})
        self.assertEqual((status, json.loads(data)), (400, {"__type": "SerializationException", "message": "Expected list or null"}))
        self.refused(lambda: self.c.create_user_pool(PoolName=["ok"]), "SerializationException",
                     "Start of list found where not expected")

    def test_blob_length(self):
        self.refused(
            lambda: self.c.set_ui_customization(UserPoolId="us-east-1_abc", ImageFile=b"x" * 131073),
            "InvalidParameterException",
            "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=131073 cap=131073]' at 'imageFile' "
            "failed to satisfy constraint: Member must have length less than or equal to 131072",
        )

    def test_range_of_a_nested_integer(self):
        self.refused(
            lambda: self.c.create_user_pool(PoolName="ok", Policies={"PasswordPolicy": {"MinimumLength": 5}}),
            "InvalidParameterException",
            "1 validation error detected: Value '5' at 'policies.passwordPolicy.minimumLength' failed to satisfy "
            "constraint: Member must have value greater than or equal to 6",
        )


class LogsTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.c = client("logs")

    def test_two_errors_joined(self):
        self.refused(
            lambda: self.c.create_log_group(logGroupName="bad name!", logGroupClass="COLD"),
            "InvalidParameterException",
            "2 validation errors detected: "
            "Value 'bad name!' at 'logGroupName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+; "
            "Value 'COLD' at 'logGroupClass' failed to satisfy constraint: "
            "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]",
        )

    def test_range(self):
        self.refused(
            lambda: self.c.describe_log_groups(limit=0),
            "InvalidParameterException",
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1",
        )
        self.refused(
            lambda: self.c.describe_log_groups(limit=51),
            "InvalidParameterException",
            "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: "
            "Member must have value less than or equal to 50",
        )

    def test_map_keys(self):
        self.refused(
            lambda: self.c.create_log_group(logGroupName="tagged", tags={"bad key!": "v"}),
            "InvalidParameterException",
            "1 validation error detected: Value '{bad key!=v}' at 'tags' failed to satisfy constraint: "
            "Map keys must satisfy constraint: [Member must have length less than or equal to 128, "
            "Member must have length greater than or equal to 1, "
            "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$]",
        )

    def test_empty_list(self):
        self.refused(
            lambda: self.c.put_log_events(logGroupName="g", logStreamName="s", logEvents=[]),
            "InvalidParameterException",
            "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1",
        )

    def test_list_element_path(self):
        self.refused(
            lambda: self.c.put_log_events(logGroupName="g", logStreamName="s", logEvents=[{"message": "m"}]),
            "InvalidParameterException",
            "1 validation error detected: Value null at 'logEvents.1.member.timestamp' failed to satisfy "
            "constraint: Member must not be null",
        )

    def test_wrong_type_is_a_serialization_error(self):
        self.refused(
            lambda: self.c.describe_log_groups(limit="5"),
            "SerializationException",
            "STRING_VALUE can not be converted to an Integer",
        )

    def test_valid_request_reaches_moto(self):
        self.c.create_log_group(logGroupName="/aws/lambda/ok-group", tags={"team": "a b"}, logGroupClass="STANDARD")
        names = [g["logGroupName"] for g in self.c.describe_log_groups(logGroupNamePrefix="/aws/lambda/ok")["logGroups"]]
        self.assertEqual(names, ["/aws/lambda/ok-group"])

    def test_member_the_model_does_not_have_is_skipped(self):
        body = json.dumps({"logGroupName": "future-group", "someFutureMember": {"x": 1}}).encode()
        status, _, data = raw("POST", "/", "logs", body, {
            "X-Amz-Target": "Logs_20140328.CreateLogGroup", "Content-Type": "application/x-amz-json-1.1"})
        self.assertEqual(status, 200, data)


class LambdaTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.c = client("lambda")
        cls.arn = "arn:aws:lambda:us-east-1:123456789012:function:nobody"

    def test_function_arn_in_the_uri_passes(self):
        # percent-encoded by the SDK, decoded and matched: moto answers
        self.refused(lambda: self.c.get_function(FunctionName=self.arn), "ResourceNotFoundException", status=404)
        for call in (lambda: self.c.get_function(FunctionName=self.arn + ":$LATEST"),
                     lambda: self.c.list_tags(Resource=self.arn)):  # /2017-03-31/tags/{ARN}
            with self.assertRaises(ClientError) as cm:
                call()
            self.assertNotIn(cm.exception.response["Error"]["Code"], ("ValidationException", "InvalidRequestContentException"))

    def test_uri_member(self):
        err = self.refused(lambda: self.c.get_function_configuration(FunctionName="no spaces please"), "ValidationException")
        self.assertTrue(err["Message"].startswith(
            "1 validation error detected: Value 'no spaces please' at 'functionName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?"), err["Message"])

    def test_querystring_member(self):
        err = self.refused(lambda: self.c.get_function(FunctionName="f", Qualifier="no spaces"), "ValidationException")
        self.assertEqual(
            err["Message"],
            "1 validation error detected: Value 'no spaces' at 'qualifier' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
        )

    def test_body_members(self):
        err = self.refused(
            lambda: self.c.create_function(FunctionName="f", Runtime="nodejs1.x", MemorySize=64, Code={"ZipFile": b"PK"},
                                           Architectures=["x86_64", "arm64"]),
            "ValidationException",
        )
        msg = err["Message"]
        self.assertTrue(msg.startswith("4 validation errors detected: "), msg)
        parts = msg[len("4 validation errors detected: "):].split("; ")
        self.assertTrue(parts[0].startswith(
            "Value 'nodejs1.x' at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs, "), parts[0])
        self.assertEqual(parts[1], "Value null at 'role' failed to satisfy constraint: Member must not be null")
        self.assertEqual(parts[2], "Value '64' at 'memorySize' failed to satisfy constraint: "
                                   "Member must have value greater than or equal to 128")
        self.assertEqual(parts[3], "Value '[x86_64, arm64]' at 'architectures' failed to satisfy constraint: "
                                   "Member must have length less than or equal to 1")

    def test_sensitive_map_keys(self):
        role = "arn:aws:iam::123456789012:role/r"
        self.refused(
            lambda: self.c.create_function(FunctionName="f", Role=role, Code={"ZipFile": b"PK"},
                                           Environment={"Variables": {"_X_AMZN": "v"}}),
            "ValidationException",
            "1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: "
            "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
        )

    def test_kms_key_arn_path(self):
        role = "arn:aws:iam::123456789012:role/r"
        err = self.refused(
            lambda: self.c.create_function(FunctionName="f", Role=role, Code={"ZipFile": b"PK"}, KMSKeyArn="key"),
            "ValidationException",
        )
        self.assertIn("Value 'key' at 'kMSKeyArn' failed to satisfy constraint", err["Message"])

    def test_wrong_type(self):
        self.refused(
            lambda: self.c.update_function_configuration(FunctionName="f", Timeout="ten"),
            "InvalidRequestContentException",
            "Could not parse request body into json: STRING_VALUE can not be converted to an Integer",
        )

    def test_unmatched_request_passes_unchecked(self):
        status, _, data = raw("GET", "/2099-01-01/nothing/here", "lambda")
        self.assertNotIn(b"ValidationException", data)
        self.assertNotIn(b"validation error", data)


class IamTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.c = client("iam")
        cls.doc = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})

    def test_query_error_of_a_long_name(self):
        name = "r" * 65
        err = self.refused(
            lambda: self.c.create_role(RoleName=name, AssumeRolePolicyDocument=self.doc),
            "ValidationError",
            f"1 validation error detected: Value '{name}' at 'roleName' failed to satisfy constraint: "
            "Member must have length less than or equal to 64",
        )
        self.assertEqual(err["Type"], "Sender")

    def test_tags_list_member_path(self):
        self.refused(
            lambda: self.c.create_role(RoleName="tagged", AssumeRolePolicyDocument=self.doc,
                                       Tags=[{"Key": "ok", "Value": "v"}, {"Key": "a<b", "Value": "v"}]),
            "ValidationError",
            "1 validation error detected: Value 'a<b' at 'tags.2.member.key' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
        )

    def test_list_size(self):
        tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
        err = self.refused(lambda: self.c.create_role(RoleName="many", AssumeRolePolicyDocument=self.doc, Tags=tags),
                           "ValidationError")
        self.assertTrue(err["Message"].endswith("' at 'tags' failed to satisfy constraint: "
                                                "Member must have length less than or equal to 50"), err["Message"])

    def test_range_and_required(self):
        self.refused(
            lambda: self.c.create_role(RoleName="short", MaxSessionDuration=60),
            "ValidationError",
            "2 validation errors detected: "
            "Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null; "
            "Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600",
        )

    def test_valid_request_reaches_moto(self):
        role = self.c.create_role(RoleName="valid-role", Path="/service-role/", AssumeRolePolicyDocument=self.doc,
                                  Description="ok", Tags=[{"Key": "team", "Value": "a b"}])["Role"]
        self.assertEqual(role["Arn"], "arn:aws:iam::123456789012:role/service-role/valid-role")
        self.assertEqual(self.c.get_role(RoleName="valid-role")["Role"]["RoleName"], "valid-role")


class ApiGatewayV2Test(Base):
    @classmethod
    def setUpClass(cls):
        cls.c = client("apigatewayv2")

    def test_enum(self):
        self.refused(
            lambda: self.c.create_api(Name="api", ProtocolType="GRPC"),
            "BadRequestException",
            "1 validation error detected: Value 'GRPC' at 'protocolType' failed to satisfy constraint: "
            "Member must satisfy enum value set: [WEBSOCKET, HTTP]",
        )

    def test_required(self):
        self.refused(
            lambda: self.c.create_api(ProtocolType="HTTP"),
            "BadRequestException",
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null",
        )

    def test_required_querystring_list(self):
        arn = "arn:aws:apigateway:us-east-1::/apis/abc"
        self.refused(
            lambda: self.c.untag_resource(ResourceArn=arn),
            "BadRequestException",
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
        )

    def test_valid_requests_reach_moto(self):
        api = self.c.create_api(Name="api", ProtocolType="HTTP", CorsConfiguration={"AllowOrigins": ["*"]})
        route = self.c.create_route(ApiId=api["ApiId"], RouteKey="GET /hello")
        got = self.c.get_route(ApiId=api["ApiId"], RouteId=route["RouteId"])
        self.assertEqual(got["RouteKey"], "GET /hello")
        self.refused(lambda: self.c.get_route(ApiId=api["ApiId"], RouteId="nothing"), "NotFoundException", status=404)


class StatsTest(Base):
    def test_refusals_are_counted(self):
        c = client("logs")
        self.refused(lambda: c.create_log_group(logGroupName=""), "InvalidParameterException")
        _, _, data = raw("GET", "/__awsim/stats", "none")
        self.assertGreaterEqual(json.loads(data).get("invalid:logs:CreateLogGroup", 0), 1)


class JavaRegexTest(unittest.TestCase):
    """The translation of the models' Java patterns (in process)."""

    def m(self, pattern, s):
        rx = validate._compiled(pattern)
        self.assertIsNotNone(rx, pattern)
        return rx.fullmatch(s) is not None

    def test_unicode_categories(self):
        p = r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+"
        for ok in ("abc", "zoë", "Ω", "日本", "😀", "a-b.c@d", "١٢٣"):
            self.assertTrue(self.m(p, ok), ok)
        for bad in ("a b", "a\x01", "\t", "a\u2028"):
            self.assertFalse(self.m(p, bad), repr(bad))
        self.assertTrue(self.m(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+", "tag key 1"))
        self.assertTrue(self.m(r"[^_\p{Z}][\p{L}\p{M}\p{S}\p{N}\p{P}][^_\p{Z}]+", "abc"))
        self.assertFalse(self.m(r"[^_\p{Z}][\p{L}\p{M}\p{S}\p{N}\p{P}][^_\p{Z}]+", "_bc"))

    def test_java_character_classes(self):
        self.assertTrue(self.m(r"[\w-_]*", "a-b_c"))  # '-' after a class is a literal
        self.assertFalse(self.m(r"\w+", "é"))  # \w is ASCII in Java
        self.assertTrue(self.m(r"\p{XDigit}+", "09afAF"))
        self.assertFalse(self.m(r"\p{XDigit}+", "g"))
        self.assertTrue(self.m(r"[a-z&&[^aeiou]]+", "bcd"))
        self.assertFalse(self.m(r"[a-z&&[^aeiou]]+", "bad"))
        self.assertTrue(self.m(r"[!$-;=@-\[\]_a-z~]+", "abc]"))
        self.assertFalse(self.m(r".*", "a\rb"))  # Java's '.' stops at \r too
        # \uD800\uDC00-\uDBFF\uDFFF: a surrogate pair, read as one code point
        self.assertTrue(self.m(r"[\u0020-\uD7FF\uE000-\uFFFD\uD800\uDC00-\uDBFF\uDFFF]*", "ok 😀"))
        self.assertTrue(self.m(r"^(?i)(true|false)$", "TRUE"))
        self.assertTrue(self.m(r"[0-9a-f]{2}{0,2}", "abcd"))
        self.assertTrue(self.m(r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)", "/service-role/"))

    def test_untranslatable_pattern_is_skipped_and_counted(self):
        self.assertIsNone(validate._compiled(r"\p{InGreek}+"))
        counted = []

        class Ctx:
            count = staticmethod(counted.append)

        v = validate._Validator(None, Ctx())
        self.assertEqual(v.string_constraints({"type": "string", "pattern": r"\p{InGreek}+"}, "x"), [])
        self.assertEqual(counted, ["validate:pattern_skipped"])


if __name__ == "__main__":
    unittest.main()
