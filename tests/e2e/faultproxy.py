#!/usr/bin/env python3
"""faultproxy: an HTTP/1.1 reverse proxy on 127.0.0.1 that injects faults in front of a test
registry (python3 stdlib only, one thread per connection).

Passes every request through to --upstream, streaming bodies both ways in 64 KiB pieces (large
blobs are never buffered), including chunked PATCH uploads and PUTs, and rewrites absolute
Location headers that name the upstream so clients come back through the proxy.

Faults, each applied to the first N requests whose path matches a regex (Python re.search):
  --status REGEX:CODE:N        answer CODE (e.g. 503, 429) instead of forwarding; 429 and 503 carry
                               Retry-After (--retry-after, default 1)
  --drop REGEX:N               forward a GET, send the headers and half the body, then close
  --tamper REGEX:N             forward a GET, flip one byte in the middle of the body (same length)
  --slow REGEX:RATE:N          forward a GET, sending the body at about RATE bytes a second
                               (a slow link, for progress displays)
  --bloat REGEX:N              forward a GET and, after the whole upstream body, append 5 MiB of
                               spaces (JSON whitespace) with Content-Length raised to match: a
                               manifest over 4 MiB that still parses as JSON. Only 200 answers are
                               changed; headers such as Docker-Content-Digest pass unchanged (so
                               they no longer match the body) and HEAD answers are untouched

Lies (a registry that misbehaves on purpose), also per REGEX:N unless said otherwise:
  --length REGEX:DELTA:N       forward a GET, announce Content-Length + DELTA: a positive DELTA
                               sends the real body and closes (the body is short), a negative
                               one sends the whole body anyway (longer than announced), then
                               closes
  --endless REGEX:N            forward a GET, drop Content-Length and send the body followed by
                               spaces without end (until the client hangs up)
  --huge-headers REGEX:N       forward, adding 512 headers of 8 KiB each (4 MiB) to the answer
  --redirect-loop REGEX:N      answer 302 with Location: the same URL, for ever
  --redirect-away REGEX:N      answer 307 to --away-host (another loopback address, so another
                               host to the client), where a second listener serves the request
                               from the upstream with the credentials of the original request
                               (as a presigned storage URL would) and logs "AWAY METHOD PATH
                               auth=yes|no": whether the client sent Authorization there
  --content-type REGEX:TYPE:N  forward, replacing the Content-Type of the answer by TYPE
  --self-index REGEX:N         when a manifest GET answers an index, remember it; a later GET of
                               a manifest by a digest that index lists gets the index's own bytes
                               (with Docker-Content-Digest claiming the digest asked for)
  --wrong-blob REGEX:N         forward a GET; a 200 gets other bytes (another length, their own
                               Content-Length) instead of the body
  --token MODE                 act as a token-auth registry in front of an open upstream: requests
                               without "Authorization: Bearer" get 401 with a Bearer challenge
                               whose realm is this proxy's /_token, which answers by MODE:
                               garbage (not JSON), notoken (JSON without a token), stall (never
                               answers), or good (a token the proxy then accepts)
Only the upstream is ever contacted; the proxy listens on 127.0.0.1 (and --away-host) only.

Prints the listening port on stdout (and to --port-file if given), then serves until killed.
Each request is logged to stderr as "METHOD PATH -> STATUS [fault]".
"""
import argparse
import http.client
import itertools
import json
import time
import http.server
import re
import sys
import threading

CHUNK = 64 * 1024
BLOAT = 5 * 1024 * 1024  # bytes of whitespace --bloat appends
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")
GET_ONLY = ("drop", "tamper", "bloat", "length", "endless", "self-index", "wrong-blob", "slow")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade"}


class Rule:
    def __init__(self, kind, pattern, count, code=0, arg=None):
        self.kind, self.regex, self.left, self.code = kind, re.compile(pattern), count, code
        self.arg = arg

    def take(self, path):
        if self.left > 0 and self.regex.search(path):
            self.left -= 1
            return True
        return False


class Faults:
    def __init__(self, rules):
        self.rules, self.lock = rules, threading.Lock()

    def pick(self, method, path):
        """The first rule that applies to this request (and consumes one of its uses), or None."""
        with self.lock:
            for r in self.rules:
                if r.kind in GET_ONLY and method != "GET":
                    continue
                if r.take(path):
                    return r
        return None


def parse_rules(args):
    rules = []
    for s in args.status or []:
        pat, code, n = s.rsplit(":", 2)
        rules.append(Rule("status", pat, int(n), int(code)))
    for s in args.length or []:
        pat, delta, n = s.rsplit(":", 2)
        rules.append(Rule("length", pat, int(n), int(delta)))
    for s in args.slow or []:
        pat, rate, n = s.rsplit(":", 2)
        rules.append(Rule("slow", pat, int(n), int(rate)))
    for s in args.content_type or []:
        # The type holds no colon; the regex may.
        pat, ctype, n = s.rsplit(":", 2)
        rules.append(Rule("content-type", pat, int(n), arg=ctype))
    for kind in ("drop", "tamper", "bloat", "endless", "huge-headers", "redirect-loop",
                 "redirect-away", "self-index", "wrong-blob"):
        for s in getattr(args, kind.replace("-", "_")) or []:
            pat, n = s.rsplit(":", 1)
            rules.append(Rule(kind, pat, int(n)))
    return rules


class State:
    """What the lies remember between requests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.indexes = {}  # digest listed by a served index -> that index's bytes and type
        self.away = {}     # id -> (method, path, Authorization of the original request)
        self.ids = itertools.count(1)
        self.tokens = set()


def make_handler(upstream, faults, retry_after, state, opts):
    up_host, up_port = upstream.rsplit(":", 1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def note(self, status, fault=""):
            sys.stderr.write("%s %s -> %s%s\n" % (self.command, self.path, status,
                                                   " [%s]" % fault if fault else ""))

        def request_body(self):
            """Yields the client's request body in pieces (Content-Length or chunked)."""
            te = self.headers.get("Transfer-Encoding", "").lower()
            if "chunked" in te:
                while True:
                    line = self.rfile.readline()
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return
                    left = size
                    while left:
                        b = self.rfile.read(min(CHUNK, left))
                        if not b:
                            raise ConnectionError("client closed mid-chunk")
                        left -= len(b)
                        yield b
                    self.rfile.readline()
            else:
                left = int(self.headers.get("Content-Length") or 0)
                while left:
                    b = self.rfile.read(min(CHUNK, left))
                    if not b:
                        raise ConnectionError("client closed mid-body")
                    left -= len(b)
                    yield b

        def answer(self, code, body=b"", headers=(), note=""):
            for _ in self.request_body():
                pass
            self.send_response(code)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.note(code, note)

        def token_lie(self):
            """--token: True when the request was answered here (challenge or token endpoint)."""
            mode = opts.token
            if self.path.startswith("/_token"):
                if mode == "stall":
                    self.note("-", "token stall")
                    # Hold the connection without a byte until the client gives up.
                    while True:
                        time.sleep(1)
                if mode == "garbage":
                    body = b"\x00\xff<html>not a token</html>" * 100
                elif mode == "notoken":
                    body = json.dumps({"expires_in": 300, "issued_at": "now"}).encode()
                else:
                    tok = "tok%d" % next(state.ids)
                    with state.lock:
                        state.tokens.add(tok)
                    body = json.dumps({"token": tok, "expires_in": 300}).encode()
                self.answer(200, body, [("Content-Type", "application/json")], "token " + mode)
                return True
            auth = self.headers.get("Authorization", "")
            with state.lock:
                ok = auth.startswith("Bearer ") and auth[7:] in state.tokens
            if ok:
                return False
            here = self.headers.get("Host") or "127.0.0.1"
            realm = 'Bearer realm="http://%s/_token",service="faultproxy"' % here
            m = re.match(r"^/v2/(.+)/(manifests|blobs|tags)/", self.path)
            if m:
                realm += ',scope="repository:%s:pull"' % m.group(1)
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}'
            self.answer(401, body, [("WWW-Authenticate", realm), ("Content-Type", "application/json")],
                        "challenge")
            return True

        def proxy(self):
            if opts.token and self.token_lie():
                return
            rule = faults.pick(self.command, self.path)
            here = self.headers.get("Host") or self.server.server_address[0]
            if rule and rule.kind == "redirect-loop":
                self.answer(302, headers=[("Location", "http://%s%s" % (here, self.path))],
                            note="redirect loop")
                return
            if rule and rule.kind == "redirect-away":
                with state.lock:
                    rid = next(state.ids)
                    state.away[rid] = (self.command, self.path, self.headers.get("Authorization"))
                loc = "http://%s:%d/_away/%d" % (opts.away_host, opts.away_port, rid)
                self.answer(307, headers=[("Location", loc)], note="redirect away")
                return
            if rule and rule.kind == "self-index":
                m = re.search(r"/manifests/(sha256:[0-9a-f]{64})$", self.path)
                with state.lock:
                    hit = state.indexes.get(m.group(1)) if m else None
                if hit:
                    body, ctype = hit
                    self.answer(200, body, [("Content-Type", ctype),
                                            ("Docker-Content-Digest", m.group(1))],
                                "self-index: served the index as %s" % m.group(1)[:19])
                    return
                rule.left += 1  # not used yet: the index has not been seen
            if rule and rule.kind == "status":
                for _ in self.request_body():
                    pass
                body = ('{"errors":[{"code":"UNAVAILABLE","message":"injected %d"}]}' % rule.code).encode()
                self.send_response(rule.code)
                if rule.code in (429, 503):
                    self.send_header("Retry-After", str(retry_after))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.note(rule.code, "injected")
                return

            conn = http.client.HTTPConnection(up_host, int(up_port), timeout=120)
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            for k, v in self.headers.items():
                if k.lower() in HOP_BY_HOP:
                    continue
                if k.lower() == "host":
                    v = upstream
                conn.putheader(k, v)
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for piece in self.request_body():
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            if chunked:
                conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()

            length = resp.getheader("Content-Length")
            fault = ""
            if rule and rule.kind in ("huge-headers", "content-type"):
                fault = rule.kind
            elif rule and self.command == "GET":
                if rule.kind == "bloat":
                    fault = "bloat" if resp.status == 200 else ""
                elif rule.kind == "wrong-blob":
                    fault = rule.kind if resp.status == 200 else ""
                elif rule.kind == "self-index":
                    fault = ""
                elif resp.status in (200, 206):
                    fault = rule.kind
            ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip()
            prefetched = None
            if opts.self_index and self.command == "GET" and resp.status == 200 and \
                    "/manifests/" in self.path and ctype in INDEX_TYPES:
                # Remember which digests this index lists; the body is then sent as usual.
                prefetched = resp.read()
                try:
                    listed = [m["digest"] for m in json.loads(prefetched).get("manifests", [])]
                except (ValueError, AttributeError, KeyError, TypeError):
                    listed = []
                with state.lock:
                    for d in listed:
                        state.indexes[d] = (prefetched, ctype)
            if fault == "wrong-blob":
                resp.read()
                conn.close()
                body = b"these are not the bytes of the blob you asked for\n" * 3
                self.answer(200, body, [("Content-Type", "application/octet-stream"),
                                        ("Docker-Content-Digest", self.path.rsplit("/", 1)[-1])],
                            "wrong-blob: %d other bytes" % len(body))
                return
            self.send_response_only(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() in HOP_BY_HOP:
                    continue
                if k.lower() == "location":
                    v = re.sub(r"^(https?://)" + re.escape(upstream), r"\g<1>" + here, v)
                if k.lower() == "content-length" and fault == "bloat":
                    v = str(int(v) + BLOAT)
                if k.lower() == "content-length" and fault == "length":
                    v = str(max(0, int(v) + rule.code))
                if k.lower() == "content-length" and fault == "endless":
                    continue
                if k.lower() == "content-type" and fault == "content-type":
                    v = rule.arg
                self.send_header(k, v)
            if fault == "huge-headers":
                for i in range(512):
                    self.send_header("X-Filler-%d" % i, "f" * 8192)
            if fault in ("length", "endless"):
                self.send_header("Connection", "close")
                self.close_connection = True
            close = (length is None or fault == "endless") and self.command != "HEAD" and \
                resp.status not in (204, 304)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()

            total = int(length) if length is not None else None
            half = total // 2 if total is not None else CHUNK
            sent = 0
            if self.command != "HEAD":
                while True:
                    if prefetched is not None:
                        b, prefetched = prefetched, b""
                    else:
                        b = resp.read(CHUNK)
                    if not b:
                        break
                    if fault == "drop" and sent + len(b) >= half:
                        self.wfile.write(b[: half - sent])
                        self.wfile.flush()
                        self.note(resp.status, "dropped after %d of %s bytes" % (half, length))
                        self.close_connection = True
                        conn.close()
                        return
                    if fault == "tamper" and sent <= half < sent + len(b):
                        ba = bytearray(b)
                        ba[half - sent] ^= 0xFF
                        b = bytes(ba)
                    self.wfile.write(b)
                    sent += len(b)
                    if fault == "slow":
                        self.wfile.flush()
                        time.sleep(len(b) / rule.code)
                if fault == "length":
                    conn.close()
                    self.note(resp.status, "Content-Length %+d of the %s bytes sent" % (rule.code, length))
                    return
                if fault == "endless":
                    conn.close()
                    spaces = b" " * CHUNK
                    n = 0
                    try:
                        while True:
                            self.wfile.write(spaces)
                            n += 1
                    except (ConnectionError, BrokenPipeError):
                        pass
                    self.note(resp.status, "endless: client hung up after %d extra bytes" % (n * CHUNK))
                    self.close_connection = True
                    return
                if fault == "bloat":
                    left = BLOAT
                    while left:
                        n = min(CHUNK, left)
                        self.wfile.write(b" " * n)
                        left -= n
                    fault = "bloated by %d bytes" % BLOAT
            conn.close()
            self.note(resp.status, fault)

        def handle_one_request(self):
            try:
                super().handle_one_request()
            except (ConnectionError, BrokenPipeError):
                self.close_connection = True

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = proxy

    return Handler


def make_away_handler(upstream, state):
    """The other host of --redirect-away: serves a redirected request from the upstream."""
    up_host, up_port = upstream.rsplit(":", 1)

    class Away(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def serve(self):
            sent_auth = "yes" if self.headers.get("Authorization") else "no"
            sys.stderr.write("AWAY %s %s auth=%s\n" % (self.command, self.path, sent_auth))
            m = re.match(r"^/_away/(\d+)$", self.path)
            with state.lock:
                orig = state.away.get(int(m.group(1))) if m else None
            if not orig:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            method, path, auth = orig
            conn = http.client.HTTPConnection(up_host, int(up_port), timeout=120)
            headers = {"Host": upstream}
            if auth:
                headers["Authorization"] = auth
            conn.request(method, path, headers=headers)
            resp = conn.getresponse()
            self.send_response_only(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            self.end_headers()
            while self.command != "HEAD":
                b = resp.read(CHUNK)
                if not b:
                    break
                self.wfile.write(b)
            conn.close()

        do_GET = do_HEAD = serve

    return Away


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, help="127.0.0.1:PORT of the registry")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (default: any free)")
    ap.add_argument("--port-file", help="also write the port here (atomically)")
    ap.add_argument("--status", action="append", metavar="REGEX:CODE:N")
    ap.add_argument("--drop", action="append", metavar="REGEX:N")
    ap.add_argument("--tamper", action="append", metavar="REGEX:N")
    ap.add_argument("--bloat", action="append", metavar="REGEX:N")
    ap.add_argument("--slow", action="append", metavar="REGEX:RATE:N")
    ap.add_argument("--retry-after", type=int, default=1)
    ap.add_argument("--length", action="append", metavar="REGEX:DELTA:N")
    ap.add_argument("--endless", action="append", metavar="REGEX:N")
    ap.add_argument("--huge-headers", action="append", metavar="REGEX:N")
    ap.add_argument("--redirect-loop", action="append", metavar="REGEX:N")
    ap.add_argument("--redirect-away", action="append", metavar="REGEX:N")
    ap.add_argument("--away-host", default="127.0.0.2",
                    help="loopback address of the other host for --redirect-away")
    ap.add_argument("--content-type", action="append", metavar="REGEX:TYPE:N")
    ap.add_argument("--self-index", action="append", metavar="REGEX:N")
    ap.add_argument("--wrong-blob", action="append", metavar="REGEX:N")
    ap.add_argument("--token", choices=("garbage", "notoken", "stall", "good"))
    args = ap.parse_args()
    if not args.away_host.startswith("127."):
        ap.error("--away-host must be a loopback address")
    if not (args.upstream.startswith("127.0.0.1:") or args.upstream.startswith("localhost:")):
        ap.error("--upstream must be on 127.0.0.1")
    faults = Faults(parse_rules(args))
    state = State()
    args.away_port = 0
    if args.redirect_away:
        away = http.server.ThreadingHTTPServer((args.away_host, 0), make_away_handler(args.upstream, state))
        away.daemon_threads = True
        args.away_port = away.server_address[1]
        threading.Thread(target=away.serve_forever, daemon=True).start()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port),
                                          make_handler(args.upstream, faults, args.retry_after,
                                                       state, args))
    srv.daemon_threads = True
    port = srv.server_address[1]
    if args.port_file:
        import os
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    print(port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
