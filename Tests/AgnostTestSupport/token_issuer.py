#!/usr/bin/env python3
"""A small token issuer for docker-registry's `auth: token`, for tests only.

    token_issuer.py PORT KEY CERT SERVICE ISSUER USERS_JSON [PULL_ONLY_JSON [REFRESH_TOKENS_JSON [NO_ACCESS_JSON]]]

Answers GET /token?service=…&scope=repository:NAME:ACTIONS with a JWT signed (RS256, by `openssl dgst`) with KEY,
carrying CERT in its x5c header, which the registry checks against its rootcertbundle. Users listed in USERS_JSON
(a JSON object name → password, sent as Basic auth) get every action they ask for, except the users listed in
PULL_ONLY_JSON, who get `pull` alone, as a real token service grants no more than a user may do; anyone else gets a
401. POST /token takes the OAuth2 refresh-token grant Docker uses for identity tokens: a form with
grant_type=refresh_token, a refresh_token listed in REFRESH_TOKENS_JSON (token → user), service and a space-separated
scope, answered with an access_token; an unknown refresh token gets a 400 invalid_grant, as OAuth2 says.
NO_ACCESS_JSON (user → repositories) names repositories a user gets no action on at all.
"""
import base64
import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT, KEY, CERT, SERVICE, ISSUER = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
USERS = json.loads(sys.argv[6])
PULL_ONLY = set(json.loads(sys.argv[7])) if len(sys.argv) > 7 else set()
REFRESH_TOKENS = json.loads(sys.argv[8]) if len(sys.argv) > 8 else {}
NO_ACCESS = json.loads(sys.argv[9]) if len(sys.argv) > 9 else {}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def certificate_der():
    with open(CERT) as pem:
        body = "".join(line.strip() for line in pem if not line.startswith("-----"))
    return base64.b64decode(body)


def sign(payload):
    result = subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=payload, capture_output=True,
                            check=True)
    return result.stdout


class Issuer(BaseHTTPRequestHandler):
    def log_message(self, *arguments):
        pass

    def do_GET(self):
        url = urlparse(self.path)
        query = parse_qs(url.query)
        user = None
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            name, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if USERS.get(name) != password:
                self.send_response(401)
                self.end_headers()
                return
            user = name
        if url.path != "/token" or query.get("service") != [SERVICE] or user is None:
            self.send_response(401)
            self.end_headers()
            return
        self.issue(user, query.get("scope", []), "token")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode())
        user = REFRESH_TOKENS.get((form.get("refresh_token") or [""])[0])
        if urlparse(self.path).path != "/token" or form.get("grant_type") != ["refresh_token"] or \
                form.get("service") != [SERVICE] or user is None:
            body = json.dumps({"error": "invalid_grant"}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.issue(user, (form.get("scope") or [""])[0].split(), "access_token")

    def issue(self, user, scopes, field):
        access = []
        for scope in scopes:
            kind, name, actions = scope.split(":")
            granted = [action for action in actions.split(",")
                       if (user not in PULL_ONLY or action == "pull") and name not in NO_ACCESS.get(user, [])]
            access.append({"type": kind, "name": name, "actions": granted})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(certificate_der()).decode()]}
        claims = {"iss": ISSUER, "sub": user, "aud": SERVICE, "exp": now + 300, "nbf": now - 10, "iat": now,
                  "jti": b64url(os.urandom(12)), "access": access}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        token = f"{signing_input}.{b64url(sign(signing_input.encode()))}"
        body = json.dumps({field: token, "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = ThreadingHTTPServer(("127.0.0.1", int(PORT)), Issuer)
# The fixture asks for port 0 and reads the one it got.
print(server.server_address[1], flush=True)
# Stop when the fixture closes stdin, or dies: no orphan outlives the tests.
threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
server.serve_forever()
