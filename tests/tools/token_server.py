#!/usr/bin/python3
"""token_server: a small Docker registry token server for tests (distribution's "token" auth).

Listens on 127.0.0.1 only and answers

    GET /token?service=SERVICE&scope=TYPE:NAME:ACTIONS[&scope=...]

as the registry's auth.token.realm. HTTP Basic credentials are checked against the one user given
on the command line (--user with --password or --password-file):

  - right user and password: a token granting every requested scope as asked;
  - no Authorization header: an anonymous token with an empty access list (the registry then
    answers 401 insufficient_scope for anything but /v2/), as real token servers do;
  - anything else (wrong user, wrong password, malformed header): 401 with a Basic challenge.

The token is an RS256 JWT signed with --key. Its header carries the signing certificate (--cert)
in x5c, so the registry's auth.token.rootcertbundle must hold that certificate (a self-signed
certificate is its own root). Claims: iss (--issuer), sub (the user, "" when anonymous), aud (the
service asked for, else --service), exp, nbf, iat, jti and access ([{type, name, actions}]).
The answer is JSON {"token", "access_token", "expires_in", "issued_at"}.

--expires-in S sets the lifetime (default 300). distribution 2.8 accepts a token for 60 s past its
exp claim (and before its nbf), so a short --expires-in alone does not make the registry refuse
the token sooner; --exp-offset -60 moves the exp claim back by that leeway so the registry refuses
the token as soon as expires_in has passed (expires_in in the answer is unchanged).

Needs python3-cryptography (Debian's, for /usr/bin/python3). Prints the listening port on stdout
(and to --port-file, atomically). Logs one line per request to stderr:
    GET /token?service=...&scope=... user=NAME -> 200 granted repository:busybox:pull,push
The Authorization header and passwords are never logged (query parameters that look like secrets
are redacted as well).
"""
import argparse
import base64
import datetime
import hmac
import http.server
import json
import os
import re
import secrets
import sys
import time
import urllib.parse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SECRET_PARAMS = re.compile(r"(pass|secret|token|auth|cred)", re.I)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_scope(scope):
    """TYPE:NAME:ACTIONS -> (type, name, [actions]); NAME may itself hold ':' (host:port/repo)."""
    kind, sep, rest = scope.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not kind or not name:
        return None
    return kind, name, [a for a in actions.split(",") if a]


def requested_access(scopes):
    """Merges the requested scopes into the access claim, keeping their order."""
    access = {}
    for raw in scopes:
        for scope in raw.split(" "):  # a client may also send several scopes in one parameter
            parsed = parse_scope(scope) if scope else None
            if not parsed:
                continue
            kind, name, actions = parsed
            entry = access.setdefault((kind, name), {"type": kind, "name": name, "actions": []})
            for a in actions:
                if a not in entry["actions"]:
                    entry["actions"].append(a)
    return list(access.values())


class Issuer:
    def __init__(self, key_path, cert_path, issuer, service, expires_in, exp_offset):
        with open(key_path, "rb") as f:
            self.key = serialization.load_pem_private_key(f.read(), password=None)
        if not isinstance(self.key, rsa.RSAPrivateKey):
            raise SystemExit("token_server: --key must be an RSA key (RS256)")
        with open(cert_path, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        # x5c holds standard (not URL-safe) base64 of the DER certificate, leaf first.
        self.x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
        self.issuer, self.service = issuer, service
        self.expires_in, self.exp_offset = expires_in, exp_offset

    def issue(self, subject, service, access):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": self.x5c}
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": service,
            "exp": now + self.expires_in + self.exp_offset,
            "nbf": now,
            "iat": now,
            "jti": secrets.token_hex(16),
            "access": access,
        }
        signing_input = "%s.%s" % (b64url(json.dumps(header, separators=(",", ":")).encode()),
                                   b64url(json.dumps(claims, separators=(",", ":")).encode()))
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        token = "%s.%s" % (signing_input, b64url(signature))
        issued = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        return {
            "token": token,
            "access_token": token,
            "expires_in": self.expires_in,
            "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def safe_request_line(command, path):
    """The request line for the log, with secret-looking query parameters redacted."""
    url = urllib.parse.urlsplit(path)
    if not url.query:
        return "%s %s" % (command, url.path)
    parts = []
    for k, v in urllib.parse.parse_qsl(url.query, keep_blank_values=True):
        parts.append("%s=%s" % (k, "REDACTED" if SECRET_PARAMS.search(k) else v))
    return "%s %s?%s" % (command, url.path, "&".join(parts))


def make_handler(issuer, user, password):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass  # the default logger could show more than we want; see note()

        def note(self, who, status, what=""):
            sys.stderr.write("%s user=%s -> %d%s\n" % (safe_request_line(self.command, self.path),
                                                      who, status, " " + what if what else ""))
            sys.stderr.flush()

        def answer(self, status, body, extra=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def credentials(self):
            """(user, password) from Basic auth, None if absent; raises ValueError if malformed."""
            value = self.headers.get("Authorization")
            if value is None:
                return None
            scheme, _, encoded = value.strip().partition(" ")
            if scheme.lower() != "basic":
                raise ValueError("not Basic")
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            name, sep, secret = decoded.partition(":")
            if not sep:
                raise ValueError("no colon")
            return name, secret

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/token":
                self.answer(404, {"errors": [{"code": "NOT_FOUND", "message": "only /token"}]})
                self.note("-", 404)
                return
            try:
                creds = self.credentials()
            except (ValueError, UnicodeDecodeError):
                creds = ("?", None)
            if creds is not None:
                name, secret = creds
                ok = (secret is not None
                      and hmac.compare_digest(name.encode(), user.encode())
                      and hmac.compare_digest(secret.encode(), password.encode()))
                if not ok:
                    self.answer(401, {"errors": [{"code": "UNAUTHORIZED",
                                                  "message": "invalid username or password"}]},
                                [("WWW-Authenticate", 'Basic realm="anyarch-test-token"')])
                    self.note(name if name else "?", 401, "bad credentials")
                    return
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            service = (query.get("service") or [""])[0] or issuer.service
            access = requested_access(query.get("scope", [])) if creds else []
            body = issuer.issue(creds[0] if creds else "", service, access)
            self.answer(200, body)
            granted = " ".join("%s:%s:%s" % (a["type"], a["name"], ",".join(a["actions"]))
                               for a in access)
            self.note(creds[0] if creds else "(anonymous)", 200,
                      "granted " + granted if granted else "granted nothing")

        def do_POST(self):
            # OAuth2 password/refresh grants are not supported; clients fall back to GET.
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            self.answer(405, {"errors": [{"code": "UNSUPPORTED", "message": "use GET"}]},
                        [("Allow", "GET")])
            self.note("-", 405)

        do_HEAD = do_GET

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--key", required=True, help="PEM RSA private key that signs the tokens")
    ap.add_argument("--cert", required=True, help="PEM certificate of that key (sent in x5c)")
    ap.add_argument("--issuer", required=True, help="iss claim (the registry's auth.token.issuer)")
    ap.add_argument("--service", required=True,
                    help="aud claim when the request names no service (auth.token.service)")
    ap.add_argument("--user", required=True)
    pw = ap.add_mutually_exclusive_group(required=True)
    pw.add_argument("--password")
    pw.add_argument("--password-file", help="file whose first line is the password")
    ap.add_argument("--expires-in", type=int, default=300, metavar="SECONDS")
    ap.add_argument("--exp-offset", type=int, default=0, metavar="SECONDS",
                    help="added to the exp claim only (-60 cancels the registry's leeway)")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (default: any free)")
    ap.add_argument("--port-file", help="also write the port here (atomically)")
    args = ap.parse_args()
    if args.expires_in <= 0:
        ap.error("--expires-in must be positive")
    password = args.password
    if args.password_file:
        with open(args.password_file, encoding="utf-8") as f:
            password = f.readline().rstrip("\r\n")

    issuer = Issuer(args.key, args.cert, args.issuer, args.service, args.expires_in, args.exp_offset)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port),
                                          make_handler(issuer, args.user, password))
    srv.daemon_threads = True
    port = srv.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    print(port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
