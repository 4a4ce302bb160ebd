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
  --bloat REGEX:N              forward a GET and, after the whole upstream body, append 5 MiB of
                               spaces (JSON whitespace) with Content-Length raised to match: a
                               manifest over 4 MiB that still parses as JSON. Only 200 answers are
                               changed; headers such as Docker-Content-Digest pass unchanged (so
                               they no longer match the body) and HEAD answers are untouched
Only the upstream is ever contacted; the proxy listens on 127.0.0.1 only.

Prints the listening port on stdout (and to --port-file if given), then serves until killed.
Each request is logged to stderr as "METHOD PATH -> STATUS [fault]".
"""
import argparse
import http.client
import http.server
import re
import sys
import threading

CHUNK = 64 * 1024
BLOAT = 5 * 1024 * 1024  # bytes of whitespace --bloat appends
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade"}


class Rule:
    def __init__(self, kind, pattern, count, code=0):
        self.kind, self.regex, self.left, self.code = kind, re.compile(pattern), count, code

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
                if r.kind in ("drop", "tamper", "bloat") and method != "GET":
                    continue
                if r.take(path):
                    return r
        return None


def parse_rules(args):
    rules = []
    for s in args.status or []:
        pat, code, n = s.rsplit(":", 2)
        rules.append(Rule("status", pat, int(n), int(code)))
    for kind in ("drop", "tamper", "bloat"):
        for s in getattr(args, kind) or []:
            pat, n = s.rsplit(":", 1)
            rules.append(Rule(kind, pat, int(n)))
    return rules


def make_handler(upstream, faults, retry_after):
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

        def proxy(self):
            rule = faults.pick(self.command, self.path)
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
            if rule and self.command == "GET":
                if rule.kind == "bloat":
                    fault = "bloat" if resp.status == 200 else ""
                elif resp.status in (200, 206):
                    fault = rule.kind
            self.send_response_only(resp.status, resp.reason)
            here = self.headers.get("Host") or self.server.server_address[0]
            for k, v in resp.getheaders():
                if k.lower() in HOP_BY_HOP:
                    continue
                if k.lower() == "location":
                    v = re.sub(r"^(https?://)" + re.escape(upstream), r"\g<1>" + here, v)
                if k.lower() == "content-length" and fault == "bloat":
                    v = str(int(v) + BLOAT)
                self.send_header(k, v)
            close = length is None and self.command != "HEAD" and resp.status not in (204, 304)
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()

            total = int(length) if length is not None else None
            half = total // 2 if total is not None else CHUNK
            sent = 0
            if self.command != "HEAD":
                while True:
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upstream", required=True, help="127.0.0.1:PORT of the registry")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (default: any free)")
    ap.add_argument("--port-file", help="also write the port here (atomically)")
    ap.add_argument("--status", action="append", metavar="REGEX:CODE:N")
    ap.add_argument("--drop", action="append", metavar="REGEX:N")
    ap.add_argument("--tamper", action="append", metavar="REGEX:N")
    ap.add_argument("--bloat", action="append", metavar="REGEX:N")
    ap.add_argument("--retry-after", type=int, default=1)
    args = ap.parse_args()
    if not (args.upstream.startswith("127.0.0.1:") or args.upstream.startswith("localhost:")):
        ap.error("--upstream must be on 127.0.0.1")
    faults = Faults(parse_rules(args))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port),
                                          make_handler(args.upstream, faults, args.retry_after))
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
