"""A moto_server for each test, forked from one process that has started moto
once (scripts/test runs it; tests/common/mod.rs asks it when
DEPLOYER_TEST_MOTO_FORK is set, else starts moto_server itself).

Every test needs a moto of its own (tests assert on everything in an
account and on what moto recorded). Started fresh, each moto_server costs
about 2 s of CPU before it answers its first IAM and Cognito call: Python
imports moto, then IAM loads AWS's managed policies. 77 of them in one test
run were about 150 s of CPU on 2 cores. Here moto is imported and its
default account's IAM loaded once; each test's moto is a fork of that
process: the same moto code, the same empty state, its own port, its own
recording file, and it lives as long as the test process that asked for it.

Protocol: prints its port on stdout; a client connects and sends one JSON
line {"recording": PATH, "owner": PID}; it answers one JSON line
{"port": P, "pid": PID} from the new moto, which serves until it is killed
or its owner is gone. This process ends when its parent (scripts/test) does.

Python standard library and moto only; binds 127.0.0.1.
"""

import json
import logging
import os
import random
import signal
import socket
import sys
import threading
import time

os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
# What moto_server -p 0 sets (moto reads it for URLs it builds).
os.environ.setdefault("MOTO_PORT", "0")

from werkzeug.serving import make_server  # noqa: E402

from moto import moto_api  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.moto_api._internal import mock_random  # noqa: E402

REGION = "eu-west-1"


def warm():
    """moto with every service deployer calls started, and a first read of
    each answered (IAM loads the managed policies; each response's template
    compiles): what each test's moto would otherwise do first, here once.
    Reads only: the forks start from moto's empty state."""
    from werkzeug.test import Client

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    client = Client(app)

    def auth(service):
        return (
            "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/"
            f"{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=x"
        )

    def query(service, action, version, **params):
        body = "&".join([f"Action={action}", f"Version={version}"] + [f"{k}={v}" for k, v in params.items()])
        client.post("/", data=body, headers={"Authorization": auth(service), "Content-Type": "application/x-www-form-urlencoded"})

    def target(service, prefix, action, body="{}"):
        client.post(
            "/",
            data=body,
            headers={
                "Authorization": auth(service),
                "X-Amz-Target": f"{prefix}.{action}",
                "Content-Type": "application/x-amz-json-1.1",
            },
        )

    def rest(service, method, path):
        client.open(path, method=method, headers={"Authorization": auth(service)})

    query("iam", "ListRoles", "2010-05-08")
    query("iam", "GetPolicy", "2010-05-08", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    query("sts", "GetCallerIdentity", "2011-06-15")
    target("cognito-idp", "AWSCognitoIdentityProviderService", "ListUserPools", '{"MaxResults": 10}')
    target("logs", "Logs_20140328", "DescribeLogGroups")
    rest("lambda", "GET", "/2015-03-31/functions/")
    rest("apigateway", "GET", "/v2/apis")
    rest("s3", "GET", "/")
    client.get("/moto-api/")
    return app


def serve(app, conn, request):
    """In the forked child: one test's moto."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    # Each moto its own IDs (a fork inherits the random generators' state).
    random.seed()
    mock_random.seed()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    recorder = moto_api.recorder
    recorder._location = request["recording"]
    recorder._os_enabled = True
    recorder._user_enabled = True
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    conn.sendall((json.dumps({"port": server.server_port, "pid": os.getpid()}) + "\n").encode())
    conn.close()
    owner = int(request["owner"])

    def watch_owner():
        while True:
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass
            time.sleep(0.5)

    threading.Thread(target=watch_owner, daemon=True).start()
    server.serve_forever()


def main():
    app = warm()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(1.0)
    # Forked motos are reaped by the kernel.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    parent = os.getppid()
    print(listener.getsockname()[1], flush=True)
    while True:
        if os.getppid() != parent:
            return
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        try:
            conn.settimeout(10)
            line = conn.makefile("rb").readline()
            request = json.loads(line)
        except (OSError, ValueError):
            conn.close()
            continue
        if os.fork() == 0:
            listener.close()
            try:
                serve(app, conn, request)
            finally:
                os._exit(0)
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
