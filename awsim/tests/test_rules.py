"""awsim's layer (b), rules.py: for each rule, the request AWS refuses is
refused with AWS's code and message, and the right request passes (or the
answer is AWS's, not what was sent). A real moto_server and two awsim
proxies (the defaults, and a new account's settings) run for the class.

Run: cd /work/main && .tools/venv/bin/python -m unittest discover -s awsim/tests -v
"""

import io
import json
import os
import re
import subprocess
import sys
import unittest
import uuid
import zipfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV = os.path.join(ROOT, ".tools", "venv", "bin")
AWSIM = os.path.join(ROOT, "awsim", "awsim.py")
ACCOUNT = "123456789012"

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def zip_code():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(e, c):\n    return e\n")
    return buf.getvalue()


def start_moto():
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")
    p = subprocess.Popen([os.path.join(VENV, "moto_server"), "-H", "127.0.0.1", "-p", "0"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    for line in p.stderr:
        m = re.search(r"Running on http://127\.0\.0\.1:(\d+)", line)
        if m:
            # keep draining stderr so moto never blocks on a full pipe
            import threading
            threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
            return p, int(m.group(1))
    p.kill()
    raise RuntimeError("moto_server did not start")


def start_awsim(moto_port, *extra):
    p = subprocess.Popen([os.path.join(VENV, "python"), AWSIM, "--upstream", f"http://127.0.0.1:{moto_port}", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if not line.strip().isdigit():
        p.kill()
        raise RuntimeError("awsim did not start")
    return p, int(line)


class Rules(unittest.TestCase):
    procs = []

    @classmethod
    def setUpClass(cls):
        moto, moto_port = start_moto()
        cls.procs.append(moto)
        cls.moto_port = moto_port
        a, port = start_awsim(moto_port)
        cls.procs.append(a)
        b, port_new = start_awsim(moto_port, "--account-concurrency", "10", "--update-group-omitted", "clear")
        cls.procs.append(b)
        cls.endpoint = f"http://127.0.0.1:{port}"
        cls.endpoint_new = f"http://127.0.0.1:{port_new}"
        cls.zip = zip_code()

    @classmethod
    def tearDownClass(cls):
        for p in reversed(cls.procs):
            p.kill()
            p.wait()

    def client(self, service, new=False):
        return boto3.client(service, endpoint_url=self.endpoint_new if new else self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            config=Config(parameter_validation=False, retries={"max_attempts": 1}))

    def refused(self, fn, code, message, **kw):
        with self.assertRaises(ClientError) as e:
            fn(**kw)
        err = e.exception.response["Error"]
        self.assertEqual(err["Code"], code, err)
        self.assertEqual(err["Message"], message, err)

    @staticmethod
    def name(prefix):
        return f"{prefix}-{uuid.uuid4().hex[:8]}"

    # ------------------------------------------------------------ Lambda

    def role(self, policy_arn=None, inline=None):
        iam = self.client("iam")
        name = self.name("role")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        if policy_arn:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        if inline:
            iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))
        return arn

    def function(self, role=None, **kw):
        lam = self.client("lambda")
        name = kw.pop("FunctionName", None) or self.name("fn")
        lam.create_function(FunctionName=name, Runtime="python3.12", Handler="index.handler",
                            Role=role or self.role(), Code={"ZipFile": self.zip}, **kw)
        return name

    def test_lambda_tracing_needs_xray_permissions(self):
        lam = self.client("lambda")
        message = "The provided execution role does not have permissions to call PutTraceSegments on XRAY"
        self.refused(lam.create_function, "InvalidParameterValueException", message,
                     FunctionName=self.name("fn"), Runtime="python3.12", Handler="index.handler",
                     Role=self.role(), Code={"ZipFile": self.zip}, TracingConfig={"Mode": "Active"})
        # a managed policy that grants it, or an inline one
        self.function(role=self.role("arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"), TracingConfig={"Mode": "Active"})
        inline = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["xray:Put*"], "Resource": "*"}]}
        self.function(role=self.role(inline=inline), TracingConfig={"Mode": "Active"})
        # an update: the function's own role
        fn = self.function()
        self.refused(lam.update_function_configuration, "InvalidParameterValueException", message,
                     FunctionName=fn, TracingConfig={"Mode": "Active"})
        lam.update_function_configuration(FunctionName=fn, TracingConfig={"Mode": "PassThrough"})

    def test_lambda_concurrency_keeps_unreserved_minimum(self):
        lam = self.client("lambda")
        before = lam.get_account_settings()["AccountLimit"]
        self.assertEqual(before["ConcurrentExecutions"], 1000)
        f1 = self.function()
        free = before["UnreservedConcurrentExecutions"]
        self.refused(lam.put_function_concurrency, "InvalidParameterValueException",
                     "Specified ReservedConcurrentExecutions for function decreases account's "
                     "UnreservedConcurrentExecution below its minimum value of [100].",
                     FunctionName=f1, ReservedConcurrentExecutions=free - 99)
        lam.put_function_concurrency(FunctionName=f1, ReservedConcurrentExecutions=free - 100)
        self.assertEqual(lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"], 100)
        lam.delete_function_concurrency(FunctionName=f1)
        # a new account (limit 10): nothing can be reserved
        new = self.client("lambda", new=True)
        self.assertEqual(new.get_account_settings()["AccountLimit"]["ConcurrentExecutions"], 10)
        self.refused(new.put_function_concurrency, "InvalidParameterValueException",
                     "Specified ReservedConcurrentExecutions for function decreases account's "
                     "UnreservedConcurrentExecution below its minimum value of [10].",
                     FunctionName=f1, ReservedConcurrentExecutions=1)

    def test_lambda_pending_function_refuses_concurrency(self):
        # "Pending: ... Any invocations or other API actions that operate on
        # the function will fail." (Lambda function states): a reservation
        # made right after CreateFunction is refused until the function is
        # Active.
        p, port = start_awsim(self.moto_port, "--realism", "--lambda-pending", "2", "--role-invisible", "0",
                              "--role-arn-as-id", "0", "--role-unassumable", "0", "--write-latency", "0")
        try:
            lam = boto3.client("lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing",
                               config=Config(parameter_validation=False, retries={"max_attempts": 1}))
            name = self.name("fn")
            lam.create_function(FunctionName=name, Runtime="python3.12", Handler="index.handler",
                                Role=self.role(), Code={"ZipFile": self.zip})
            self.assertEqual(lam.get_function(FunctionName=name)["Configuration"]["State"], "Pending")
            self.refused(lam.put_function_concurrency, "ResourceConflictException",
                         "The operation cannot be performed at this time. The function is currently in the following state: Pending",
                         FunctionName=name, ReservedConcurrentExecutions=1)
            import time
            deadline = time.monotonic() + 10
            while lam.get_function(FunctionName=name)["Configuration"]["State"] != "Active":
                self.assertLess(time.monotonic(), deadline, "the function never became Active")
                time.sleep(0.2)
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
            self.assertEqual(lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"], 1)
        finally:
            p.kill()
            p.wait()

    def test_lambda_logging_config_as_aws_stores_it(self):
        lam = self.client("lambda")
        fn = self.function(LoggingConfig={"LogFormat": "JSON"})
        got = lam.get_function_configuration(FunctionName=fn)["LoggingConfig"]
        self.assertEqual(got, {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO",
                               "LogGroup": f"/aws/lambda/{fn}"})
        plain = self.function()
        self.assertEqual(lam.get_function(FunctionName=plain)["Configuration"]["LoggingConfig"],
                         {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{plain}"})
        message = ('LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request '
                   'or change the LogFormat to "Json" and try again.')
        self.refused(lam.update_function_configuration, "InvalidParameterValueException", message,
                     FunctionName=plain, LoggingConfig={"LogFormat": "Text", "ApplicationLogLevel": "DEBUG"})
        # Text keeps no levels
        lam.update_function_configuration(FunctionName=fn, LoggingConfig={"LogFormat": "Text"})
        self.assertEqual(lam.get_function_configuration(FunctionName=fn)["LoggingConfig"],
                         {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{fn}"})

    def test_lambda_environment_reserved_and_size(self):
        lam = self.client("lambda")
        fn = self.function()
        self.refused(lam.update_function_configuration, "InvalidParameterValueException",
                     "Lambda was unable to configure your environment variables because the environment variables "
                     "you have provided contains reserved keys that are currently not supported for modification. "
                     "Reserved keys used in this request: AWS_REGION",
                     FunctionName=fn, Environment={"Variables": {"AWS_REGION": "x", "OK": "1"}})
        big = {"AB": "x" * 4100}
        with self.assertRaises(ClientError) as e:
            lam.update_function_configuration(FunctionName=fn, Environment={"Variables": big})
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameterValueException")
        self.assertIn("exceeded the 4KB limit. String measured: ", e.exception.response["Error"]["Message"])
        lam.update_function_configuration(FunctionName=fn, Environment={"Variables": {"AB": "x" * 3000}})

    # ------------------------------------------------------------ Cognito

    def pool(self, **kw):
        return self.client("cognito-idp").create_user_pool(PoolName=self.name("pool"), **kw)["UserPool"]["Id"]

    def test_cognito_mfa_needs_a_factor(self):
        idp = self.client("cognito-idp")
        self.refused(idp.create_user_pool, "InvalidParameterException",
                     "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
                     PoolName=self.name("pool"), MfaConfiguration="ON")
        pool = self.pool()
        self.refused(idp.update_user_pool, "InvalidParameterException",
                     "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
                     UserPoolId=pool, MfaConfiguration="OPTIONAL")
        idp.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="OPTIONAL",
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
        idp.update_user_pool(UserPoolId=pool, MfaConfiguration="OPTIONAL")
        self.assertEqual(idp.describe_user_pool(UserPoolId=pool)["UserPool"]["MfaConfiguration"], "OPTIONAL")

    def test_cognito_set_mfa_config(self):
        idp = self.client("cognito-idp")
        pool = self.pool()
        self.refused(idp.set_user_pool_mfa_config, "InvalidParameterException",
                     "Invalid MFA configuration given, can't disable all MFAs with a required or optional configuration.",
                     UserPoolId=pool, MfaConfiguration="ON")
        self.refused(idp.set_user_pool_mfa_config, "InvalidParameterException",
                     "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.",
                     UserPoolId=pool, MfaConfiguration="OFF", SoftwareTokenMfaConfiguration={"Enabled": True})
        idp.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True})
        idp.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="OFF", SoftwareTokenMfaConfiguration={"Enabled": False})

    def test_cognito_update_user_pool_resets_unsent(self):
        idp = self.client("cognito-idp")
        pool = self.pool(DeletionProtection="ACTIVE")
        idp.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True})
        idp.update_user_pool(UserPoolId=pool, AutoVerifiedAttributes=["email"])
        p = idp.describe_user_pool(UserPoolId=pool)["UserPool"]
        self.assertEqual(p["MfaConfiguration"], "OFF")
        self.assertEqual(p["DeletionProtection"], "INACTIVE")
        self.assertNotIn("LambdaConfig", {k: v for k, v in p.items() if v})

    def test_cognito_verification_messages(self):
        idp = self.client("cognito-idp")
        pool = self.pool()
        self.refused(idp.update_user_pool, "InvalidParameterException", "The message is invalid.",
                     UserPoolId=pool, EmailVerificationMessage="Your code is {####}",
                     VerificationMessageTemplate={"DefaultEmailOption": "CONFIRM_WITH_LINK"})
        self.refused(idp.update_user_pool, "InvalidParameterException", "The message is invalid.",
                     UserPoolId=pool, VerificationMessageTemplate={
                         "DefaultEmailOption": "CONFIRM_WITH_CODE", "EmailMessageByLink": "EMAIL CODE {####}"})
        idp.update_user_pool(UserPoolId=pool, VerificationMessageTemplate={
            "DefaultEmailOption": "CONFIRM_WITH_LINK", "EmailMessageByLink": "Verify: {##Click here##}",
            "EmailSubjectByLink": "Verify", "SmsMessage": "Code {####}"})

    def test_cognito_identity_provider_username_mapping(self):
        idp = self.client("cognito-idp")
        pool = self.pool()
        details = {"client_id": "id", "client_secret": "secret", "authorize_scopes": "email"}
        self.refused(idp.create_identity_provider, "InvalidParameterException", "Provider Corp cannot be of type Google.",
                     UserPoolId=pool, ProviderName="Corp", ProviderType="Google", ProviderDetails=details)
        idp.create_identity_provider(UserPoolId=pool, ProviderName="Google", ProviderType="Google", ProviderDetails=details)
        idp.create_identity_provider(UserPoolId=pool, ProviderName="Facebook", ProviderType="Facebook",
                                     ProviderDetails=details, AttributeMapping={"email": "email"})
        idp.create_identity_provider(UserPoolId=pool, ProviderName="Corp", ProviderType="SAML",
                                     ProviderDetails={"MetadataURL": "https://login.corp.example/metadata"})
        m = lambda n: idp.describe_identity_provider(UserPoolId=pool, ProviderName=n)["IdentityProvider"].get("AttributeMapping")
        self.assertEqual(m("Google"), {"username": "sub"})
        self.assertEqual(m("Facebook"), {"email": "email", "username": "id"})
        self.assertFalse(m("Corp"))
        idp.update_identity_provider(UserPoolId=pool, ProviderName="Google", AttributeMapping={"email": "email"})
        self.assertEqual(m("Google"), {"email": "email", "username": "sub"})

    def test_cognito_update_group_omitted(self):
        for new, want in ((False, {"Description": "d", "Precedence": 3}), (True, {})):
            idp = self.client("cognito-idp", new=new)
            pool = self.pool()
            idp.create_group(UserPoolId=pool, GroupName="g", Description="d", Precedence=3)
            idp.update_group(UserPoolId=pool, GroupName="g")
            g = idp.get_group(UserPoolId=pool, GroupName="g")["Group"]
            self.assertEqual({k: g[k] for k in ("Description", "Precedence") if k in g}, want, new)

    def test_cognito_update_client_resets_unsent(self):
        idp = self.client("cognito-idp")
        pool = self.pool()
        c = idp.create_user_pool_client(UserPoolId=pool, ClientName="c", ReadAttributes=["email"],
                                        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                                        RefreshTokenValidity=5, PreventUserExistenceErrors="ENABLED")["UserPoolClient"]
        idp.update_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"], ClientName="c2")
        got = idp.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
        self.assertEqual(got["ClientName"], "c2")
        self.assertNotIn("ReadAttributes", got)
        self.assertEqual(got["ExplicitAuthFlows"], ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"])
        self.assertEqual(got["RefreshTokenValidity"], 30)
        self.assertEqual(got["PreventUserExistenceErrors"], "LEGACY")

    def test_cognito_client_dates(self):
        """AWS reports a client's CreationDate and LastModifiedDate (moto none)."""
        import datetime
        idp = self.client("cognito-idp")
        pool = self.pool()
        before = datetime.datetime.now(datetime.timezone.utc).timestamp()
        c = idp.create_user_pool_client(UserPoolId=pool, ClientName="dated")["UserPoolClient"]
        made = c["CreationDate"].timestamp()
        self.assertLessEqual(abs(made - before), 5)
        idp.update_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"], ClientName="dated")
        got = idp.describe_user_pool_client(UserPoolId=pool, ClientId=c["ClientId"])["UserPoolClient"]
        self.assertEqual(got["CreationDate"].timestamp(), made)
        self.assertGreaterEqual(got["LastModifiedDate"].timestamp(), made)

    def test_cognito_token_validity_range(self):
        idp = self.client("cognito-idp")
        pool = self.pool()
        self.refused(idp.create_user_pool_client, "InvalidParameterException", "Invalid range for token validity.",
                     UserPoolId=pool, ClientName="c", RefreshTokenValidity=30, TokenValidityUnits={"RefreshToken": "minutes"})
        self.refused(idp.create_user_pool_client, "InvalidParameterException", "Invalid range for token validity.",
                     UserPoolId=pool, ClientName="c", AccessTokenValidity=2, TokenValidityUnits={"AccessToken": "days"})
        idp.create_user_pool_client(UserPoolId=pool, ClientName="c", RefreshTokenValidity=60, AccessTokenValidity=5,
                                    TokenValidityUnits={"RefreshToken": "minutes", "AccessToken": "minutes"})

    def test_cognito_client_credentials(self):
        idp = self.client("cognito-idp")
        pool = self.pool()
        base = dict(UserPoolId=pool, ClientName="m2m", AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthScopes=["openid"])
        self.refused(idp.create_user_pool_client, "InvalidParameterException",
                     "client_credentials flow can not be selected along with code flow or implicit flow.",
                     GenerateSecret=True, AllowedOAuthFlows=["client_credentials", "code"], **base)
        self.refused(idp.create_user_pool_client, "InvalidParameterException",
                     "client_credentials flow can not be selected if client does not have a client secret.",
                     AllowedOAuthFlows=["client_credentials"], **base)
        idp.create_user_pool_client(GenerateSecret=True, AllowedOAuthFlows=["client_credentials"], **base)

    def test_cognito_oauth_needs_user_pool_client_flag(self):
        idp = self.client("cognito-idp")
        pool = self.pool()
        self.refused(idp.create_user_pool_client, "InvalidParameterException",
                     "AllowedOAuthFlows can be set only when AllowedOAuthFlowsUserPoolClient is true.",
                     UserPoolId=pool, ClientName="c", AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"])
        idp.create_user_pool_client(UserPoolId=pool, ClientName="c", AllowedOAuthFlowsUserPoolClient=True,
                                    AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"])

    def test_cognito_callback_urls(self):
        idp = self.client("cognito-idp")
        pool = self.pool()
        base = dict(UserPoolId=pool, ClientName="web", AllowedOAuthFlowsUserPoolClient=True,
                    AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"])
        self.refused(idp.create_user_pool_client, "InvalidParameterException", "Invalid CallbackURL: http://app.example/cb",
                     CallbackURLs=["http://app.example/cb"], **base)
        self.refused(idp.create_user_pool_client, "InvalidParameterException", "DefaultRedirectURI must be in CallbackURLs.",
                     CallbackURLs=["https://app.example/cb"], DefaultRedirectURI="https://other.example/cb", **base)
        idp.create_user_pool_client(CallbackURLs=["https://app.example/cb", "http://localhost:8080/callback",
                                                  "http://127.0.0.1:9000/cb", "myapp://done"],
                                    DefaultRedirectURI="https://app.example/cb", **base)

    def test_cognito_client_unknown_provider(self):
        idp = self.client("cognito-idp")
        pool = self.pool()
        self.refused(idp.create_user_pool_client, "InvalidParameterException",
                     f"The provider Google does not exist for User Pool {pool}",
                     UserPoolId=pool, ClientName="c", SupportedIdentityProviders=["COGNITO", "Google"])
        idp.create_identity_provider(UserPoolId=pool, ProviderName="Google", ProviderType="Google",
                                     ProviderDetails={"client_id": "i", "client_secret": "s", "authorize_scopes": "email"})
        idp.create_user_pool_client(UserPoolId=pool, ClientName="c", SupportedIdentityProviders=["COGNITO", "Google"])

    def test_cognito_domain_of_another_pool(self):
        idp = self.client("cognito-idp")
        a, b = self.pool(), self.pool()
        domain = self.name("auth")
        idp.create_user_pool_domain(UserPoolId=a, Domain=domain)
        self.refused(idp.create_user_pool_domain, "InvalidParameterException",
                     "Domain already associated with another user pool.", UserPoolId=b, Domain=domain)
        idp.create_user_pool_domain(UserPoolId=b, Domain=self.name("auth"))

    def test_cognito_delete_protected_pool(self):
        # awsim.py's gap (fill_gap), listed in RULES.md
        idp = self.client("cognito-idp")
        pool = self.pool(DeletionProtection="ACTIVE")
        self.refused(idp.delete_user_pool, "InvalidParameterException",
                     "The user pool cannot be deleted because deletion protection is activated. "
                     "Deletion protection must be inactivated first.", UserPoolId=pool)
        other = self.pool()
        idp.delete_user_pool(UserPoolId=other)

    # ------------------------------------------------------------ API Gateway v2 and Logs

    def test_apigw_access_log_settings(self):
        gw = self.client("apigatewayv2")
        api = gw.create_api(Name=self.name("api"), ProtocolType="HTTP")["ApiId"]
        gw.create_stage(ApiId=api, StageName="v1")
        arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:access"
        self.refused(gw.update_stage, "BadRequestException",
                     "Access Log format must be single line, new line character is allowed only at end of the format",
                     ApiId=api, StageName="v1",
                     AccessLogSettings={"DestinationArn": arn, "Format": '{"id":"$context.requestId",\n"s":"$context.status"}'})
        self.refused(gw.update_stage, "BadRequestException",
                     "Access Log format must contain either $context.requestId or $context.extendedRequestId",
                     ApiId=api, StageName="v1", AccessLogSettings={"DestinationArn": arn, "Format": "$context.status"})
        gw.update_stage(ApiId=api, StageName="v1", AccessLogSettings={"DestinationArn": arn, "Format": "$context.requestId\n"})
        self.assertEqual(gw.get_stage(ApiId=api, StageName="v1")["AccessLogSettings"]["DestinationArn"], arn)
        gw.delete_access_log_settings(ApiId=api, StageName="v1")
        self.assertNotIn("AccessLogSettings", gw.get_stage(ApiId=api, StageName="v1"))

    def test_logs_retention_values(self):
        logs = self.client("logs")
        group = self.name("/g")
        logs.create_log_group(logGroupName=group)
        with self.assertRaises(ClientError) as e:
            logs.put_retention_policy(logGroupName=group, retentionInDays=2)
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidParameterException")
        self.assertIn("Member must satisfy enum value set: [1, 3, 5, 7, 14,", e.exception.response["Error"]["Message"])
        logs.put_retention_policy(logGroupName=group, retentionInDays=14)

    # ------------------------------------------------------------ tags

    def test_tags_reserved_prefix_and_limit(self):
        lam, logs, gw, idp = (self.client(s) for s in ("lambda", "logs", "apigatewayv2", "cognito-idp"))
        fn = self.function()
        farn = lam.get_function(FunctionName=fn)["Configuration"]["FunctionArn"]
        self.refused(lam.tag_resource, "InvalidParameterValueException",
                     "Invalid tag key: aws:team. Tag keys cannot start with 'aws:'.", Resource=farn, Tags={"aws:team": "x"})
        lam.tag_resource(Resource=farn, Tags={f"a{i}": "v" for i in range(30)})
        self.refused(lam.tag_resource, "InvalidParameterValueException", "Number of tags exceeds resource tag limit.",
                     Resource=farn, Tags={f"b{i}": "v" for i in range(21)})
        lam.tag_resource(Resource=farn, Tags={f"b{i}": "v" for i in range(20)})
        group = self.name("/g")
        logs.create_log_group(logGroupName=group, tags={f"a{i}": "v" for i in range(40)})
        larn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group}"
        self.refused(logs.tag_resource, "InvalidParameterException",
                     "Invalid tag key: AWS:x. Tag keys cannot start with 'aws:'.", resourceArn=larn, tags={"AWS:x": "v"})
        self.refused(logs.tag_resource, "InvalidParameterException", "Number of tags exceeds resource tag limit.",
                     resourceArn=larn, tags={f"b{i}": "v" for i in range(11)})
        logs.tag_resource(resourceArn=larn, tags={f"b{i}": "v" for i in range(10)})
        api = gw.create_api(Name=self.name("api"), ProtocolType="HTTP")["ApiId"]
        aarn = f"arn:aws:apigateway:us-east-1::/apis/{api}"
        self.refused(gw.tag_resource, "BadRequestException",
                     "Invalid tag key. Tag keys cannot start with 'aws:' (case insensitive)", ResourceArn=aarn, Tags={"aws:x": "v"})
        self.refused(gw.create_stage, "BadRequestException",
                     "Invalid tag key. Tag keys cannot start with 'aws:' (case insensitive)", ApiId=api, StageName="s",
                     Tags={"Aws:x": "v"})
        gw.tag_resource(ResourceArn=aarn, Tags={"team": "x"})
        pool = self.pool()
        parn = idp.describe_user_pool(UserPoolId=pool)["UserPool"]["Arn"]
        self.refused(idp.tag_resource, "InvalidParameterException",
                     "Invalid tag key: aws:x. Tag keys cannot start with 'aws:'.", ResourceArn=parn, Tags={"aws:x": "v"})
        self.refused(idp.tag_resource, "InvalidParameterException", "Number of tags exceeds resource tag limit.",
                     ResourceArn=parn, Tags={f"k{i}": "v" for i in range(51)})
        idp.tag_resource(ResourceArn=parn, Tags={"team": "x"})

    # ------------------------------------------------------------ API Gateway v2 routes, integrations, authorizers

    def test_apigw_route_key_form(self):
        gw = self.client("apigatewayv2")
        api = gw.create_api(Name=self.name("api"), ProtocolType="HTTP")["ApiId"]
        for bad in ("GET a", "FETCH /a", "GET /{proxy+}/x", "/a"):
            self.refused(gw.create_route, "BadRequestException", f"Invalid route key: {bad}", ApiId=api, RouteKey=bad)
        for good in ("$default", "GET /a", "ANY /{proxy+}", "GET /a/{id}", "POST /a/{id}/{rest+}"):
            gw.create_route(ApiId=api, RouteKey=good)
        r = gw.create_route(ApiId=api, RouteKey="GET /b")["RouteId"]
        self.refused(gw.update_route, "BadRequestException", "Invalid route key: GET /{p+}/c", ApiId=api, RouteId=r,
                     RouteKey="GET /{p+}/c")
        # a WebSocket API's route keys are its own
        ws = gw.create_api(Name=self.name("ws"), ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")["ApiId"]
        gw.create_route(ApiId=ws, RouteKey="sendMessage")

    def test_apigw_route_authorizer(self):
        gw = self.client("apigatewayv2")
        api = gw.create_api(Name=self.name("api"), ProtocolType="HTTP")["ApiId"]
        self.refused(gw.create_route, "BadRequestException", "Invalid authorizer ID specified. Setting the authorization "
                     "type to JWT requires a valid JWT authorizer.", ApiId=api, RouteKey="GET /a", AuthorizationType="JWT")
        uri = ("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
               f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f/invocations")
        lam_auth = gw.create_authorizer(ApiId=api, AuthorizerType="REQUEST", Name="l", AuthorizerUri=uri,
                                        AuthorizerPayloadFormatVersion="2.0",
                                        IdentitySource=["$request.header.Authorization"])["AuthorizerId"]
        self.refused(gw.create_route, "BadRequestException", "Invalid authorizer ID specified. Setting the authorization "
                     "type to JWT requires a valid JWT authorizer.", ApiId=api, RouteKey="GET /a", AuthorizationType="JWT",
                     AuthorizerId=lam_auth)
        self.refused(gw.create_route, "BadRequestException", "Invalid authorizer ID specified. Setting the authorization "
                     "type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.", ApiId=api, RouteKey="GET /a",
                     AuthorizationType="CUSTOM", AuthorizerId="nope123")
        jwt = gw.create_authorizer(ApiId=api, AuthorizerType="JWT", Name="j", IdentitySource=["$request.header.Authorization"],
                                   JwtConfiguration={"Issuer": "https://issuer.example", "Audience": ["a"]})["AuthorizerId"]
        r = gw.create_route(ApiId=api, RouteKey="GET /a", AuthorizationType="JWT", AuthorizerId=jwt,
                            AuthorizationScopes=["read"])["RouteId"]
        gw.create_route(ApiId=api, RouteKey="GET /c", AuthorizationType="CUSTOM", AuthorizerId=lam_auth)
        self.refused(gw.update_route, "BadRequestException", "Invalid authorizer ID specified. Setting the authorization "
                     "type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer.", ApiId=api, RouteId=r,
                     AuthorizationType="CUSTOM")
        gw.update_route(ApiId=api, RouteId=r, AuthorizationType="JWT")

    def test_apigw_payload_format_version(self):
        gw = self.client("apigatewayv2")
        api = gw.create_api(Name=self.name("api"), ProtocolType="HTTP")["ApiId"]
        self.refused(gw.create_integration, "BadRequestException",
                     "PayloadFormatVersion 2.0 is not supported for integration type HTTP_PROXY. Supported values: 1.0",
                     ApiId=api, IntegrationType="HTTP_PROXY", IntegrationUri="https://example.com", IntegrationMethod="GET",
                     PayloadFormatVersion="2.0")
        fn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"
        self.refused(gw.create_integration, "BadRequestException",
                     "PayloadFormatVersion 3.0 is not supported for integration type AWS_PROXY. Supported values: 1.0, 2.0",
                     ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=fn, PayloadFormatVersion="3.0")
        i = gw.create_integration(ApiId=api, IntegrationType="AWS_PROXY", IntegrationUri=fn, PayloadFormatVersion="2.0")
        gw.create_integration(ApiId=api, IntegrationType="HTTP_PROXY", IntegrationUri="https://example.com",
                              IntegrationMethod="GET", PayloadFormatVersion="1.0")
        gw.update_integration(ApiId=api, IntegrationId=i["IntegrationId"], PayloadFormatVersion="1.0")
        self.refused(gw.update_integration, "BadRequestException",
                     "PayloadFormatVersion 3.0 is not supported for integration type AWS_PROXY. Supported values: 1.0, 2.0",
                     ApiId=api, IntegrationId=i["IntegrationId"], PayloadFormatVersion="3.0")

    def test_apigw_jwt_authorizer(self):
        gw = self.client("apigatewayv2")
        api = gw.create_api(Name=self.name("api"), ProtocolType="HTTP")["ApiId"]
        src = ["$request.header.Authorization"]
        self.refused(gw.create_authorizer, "BadRequestException",
                     "JwtConfiguration.Issuer is required for the JWT authorizer type.",
                     ApiId=api, AuthorizerType="JWT", Name="j", IdentitySource=src)
        self.refused(gw.create_authorizer, "BadRequestException",
                     "JwtConfiguration.Issuer is required for the JWT authorizer type.",
                     ApiId=api, AuthorizerType="JWT", Name="j", IdentitySource=src, JwtConfiguration={"Audience": ["a"]})
        self.refused(gw.create_authorizer, "BadRequestException",
                     "IdentitySource must be a single entry for the JWT authorizer type.",
                     ApiId=api, AuthorizerType="JWT", Name="j", IdentitySource=src + ["$request.header.X"],
                     JwtConfiguration={"Issuer": "https://issuer.example", "Audience": ["a"]})
        a = gw.create_authorizer(ApiId=api, AuthorizerType="JWT", Name="j", IdentitySource=src,
                                 JwtConfiguration={"Issuer": "https://issuer.example", "Audience": ["a"]})["AuthorizerId"]
        self.refused(gw.update_authorizer, "BadRequestException",
                     "JwtConfiguration.Issuer is required for the JWT authorizer type.",
                     ApiId=api, AuthorizerId=a, JwtConfiguration={"Audience": ["b"]})
        gw.update_authorizer(ApiId=api, AuthorizerId=a, JwtConfiguration={"Issuer": "https://issuer.example", "Audience": ["b"]})
        gw.update_authorizer(ApiId=api, AuthorizerId=a, Name="renamed")

    # ------------------------------------------------------------ Cognito users and groups

    def test_cognito_add_user_to_missing_group(self):
        idp = self.client("cognito-idp")
        pool = self.pool()
        idp.admin_create_user(UserPoolId=pool, Username="u", MessageAction="SUPPRESS")
        self.refused(idp.admin_add_user_to_group, "ResourceNotFoundException", "Group not found.",
                     UserPoolId=pool, Username="u", GroupName="admins")
        idp.create_group(UserPoolId=pool, GroupName="admins")
        idp.admin_add_user_to_group(UserPoolId=pool, Username="u", GroupName="admins")

    def test_cognito_password_policy(self):
        idp = self.client("cognito-idp")
        pool = self.pool(Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireUppercase": True,
                                                      "RequireLowercase": True, "RequireNumbers": True,
                                                      "RequireSymbols": False}})
        self.refused(idp.admin_create_user, "InvalidPasswordException",
                     "Password does not conform to policy: Password not long enough",
                     UserPoolId=pool, Username="u", TemporaryPassword="Short1", MessageAction="SUPPRESS")
        self.refused(idp.admin_create_user, "InvalidPasswordException",
                     "Password does not conform to policy: Password must have uppercase characters",
                     UserPoolId=pool, Username="u", TemporaryPassword="longenough1", MessageAction="SUPPRESS")
        idp.admin_create_user(UserPoolId=pool, Username="u", TemporaryPassword="LongEnough1", MessageAction="SUPPRESS")
        self.refused(idp.admin_set_user_password, "InvalidPasswordException",
                     "Password does not conform to policy: Password must have numeric characters",
                     UserPoolId=pool, Username="u", Password="LongEnoughX", Permanent=True)
        idp.admin_set_user_password(UserPoolId=pool, Username="u", Password="LongEnough22", Permanent=True)

    # ------------------------------------------------------------ IAM

    def test_iam_trust_policy_json(self):
        iam = self.client("iam")
        self.refused(iam.create_role, "MalformedPolicyDocument", "This policy contains invalid Json",
                     RoleName=self.name("r"), AssumeRolePolicyDocument='{"Version": "2012-10-17",')
        name = self.name("r")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
        self.refused(iam.update_assume_role_policy, "MalformedPolicyDocument", "This policy contains invalid Json",
                     RoleName=name, PolicyDocument="lambda.amazonaws.com")
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=TRUST)

    def test_iam_inline_policies_size(self):
        iam = self.client("iam")
        name = self.name("r")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)

        def doc(n, prefix):
            return json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{prefix}-{i:05d}/*"}
                for i in range(n)]}, indent=2)
        iam.put_role_policy(RoleName=name, PolicyName="a", PolicyDocument=doc(60, "a"))  # ~5,000 without spaces
        self.refused(iam.put_role_policy, "LimitExceeded", f"Maximum policy size of 10240 bytes exceeded for role {name}",
                     RoleName=name, PolicyName="b", PolicyDocument=doc(70, "b"))
        iam.put_role_policy(RoleName=name, PolicyName="b", PolicyDocument=doc(50, "b"))
        # replacing a policy counts its new document, not the old one
        iam.put_role_policy(RoleName=name, PolicyName="a", PolicyDocument=doc(60, "c"))


if __name__ == "__main__":
    unittest.main()
