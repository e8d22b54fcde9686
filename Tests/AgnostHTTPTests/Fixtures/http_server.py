#!/usr/bin/env python3
"""HTTP/1.1 server for the AgnostHTTP tests.

Binds 127.0.0.1 on a free port, prints the port on stdout and serves until stdin closes, so that it never outlives
the test process, even one that crashed, and for at most --deadline seconds. With --cert and --key it speaks TLS
only; with --client-ca as well it requires a client certificate issued by that CA. Routes:

  /echo              JSON of the request: method, path, query, headers (in order), body (base64), clientPort
  /status/N          status N, body "status N"
  /slow?ms=N         waits N milliseconds, then answers "slow"
  /big?bytes=N       N bytes; with &chunked=1 without Content-Length, in chunks
  /redirect          302 to /echo
  /early-hints       a 103 interim response with headers of its own, then a 200
  /close             closes the connection without answering
  /not-http          answers with a line that is not HTTP, then closes
  /truncated         answers with a status line and one header, then closes before the headers end
  /trickle?chunks=N&ms=M  a chunked body of N lines "tick K", one every M milliseconds
  /stall?ms=N        a chunked body whose first line "first" comes at once, then nothing for N milliseconds
  /peer              the common name of the client certificate, or "none"
"""

import argparse
import base64
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections open, which the keep-alive test needs; every response then needs a length.
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def handle_one_request(self):
        # BaseHTTPRequestHandler dispatches to do_<METHOD>; every method goes to one router here.
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline:
            self.close_connection = True
            return
        if not self.parse_request():
            return
        self.route()
        self.wfile.flush()

    def route(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/echo":
            self.echo(url, body)
        elif url.path.startswith("/status/"):
            status = int(url.path[len("/status/"):])
            self.reply(status, b"" if status in (204, 304) else f"status {status}".encode())
        elif url.path == "/slow":
            time.sleep(int(query["ms"][0]) / 1000)
            self.reply(200, b"slow")
        elif url.path == "/big":
            self.big(int(query["bytes"][0]), query.get("chunked") == ["1"])
        elif url.path == "/redirect":
            self.reply(302, b"redirecting", [("Location", "/echo")])
        elif url.path == "/early-hints":
            self.send_response_only(103)
            self.send_header("Link", "</style.css>; rel=preload")
            self.send_header("X-Interim", "yes")
            self.end_headers()
            self.reply(200, b"final", [("X-Final", "yes")])
        elif url.path == "/close":
            self.close_connection = True
        elif url.path == "/truncated":
            self.wfile.write(b"HTTP/1.1 202 Accepted\r\nRange: 0-99\r\n")
            self.close_connection = True
        elif url.path == "/trickle":
            self.chunked([b"tick %d\n" % k for k in range(int(query["chunks"][0]))], int(query["ms"][0]) / 1000)
        elif url.path == "/stall":
            self.chunked([b"first\n", b"late\n"], int(query["ms"][0]) / 1000)
        elif url.path == "/peer":
            certificate = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
            subject = dict(pair[0] for pair in certificate["subject"]) if certificate else {}
            self.reply(200, subject.get("commonName", "none").encode())
        elif url.path == "/not-http":
            self.wfile.write(b"hello, this is not HTTP\r\n")
            self.close_connection = True
        else:
            self.reply(404, b"no such route")

    def echo(self, url, body):
        document = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "headers": [[name, value] for name, value in self.headers.items()],
            "body": base64.b64encode(body).decode(),
            "clientPort": self.client_address[1],
        }
        headers = [("Content-Type", "application/json"), ("X-Multi", "first"), ("x-multi", "second")]
        self.reply(200, json.dumps(document).encode(), headers)

    def big(self, count, chunked):
        pattern = bytes(range(256)) * 256
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(count))
        self.end_headers()
        sent = 0
        while sent < count:
            chunk = pattern[: min(len(pattern), count - sent)]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            sent += len(chunk)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def chunked(self, pieces, pause):
        """Sends each piece as a chunk, pausing before every one but the first."""
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index, piece in enumerate(pieces):
            if index:
                time.sleep(pause)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    tls = None

    def finish_request(self, request, client_address):
        # The handshake runs here, on the connection's own thread, so that a failing client holds up no other.
        if self.tls:
            connection = self.tls.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
            try:
                connection.do_handshake()
            except (ssl.SSLError, OSError):
                # OpenSSL has sent its alert. Closing now, with the client's request unread, would reset the
                # connection and could discard the alert before the client reads it; drain the socket first.
                # After shutdown the SSL socket reads the plain TCP stream.
                try:
                    connection.settimeout(2)
                    connection.shutdown(socket.SHUT_WR)
                    while connection.recv(65536):
                        pass
                except OSError:
                    pass
                connection.close()
                return
            request = connection
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        # Clients that time out or give up on a large body close their end; that is what those tests want.
        pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--client-ca")
    parser.add_argument("--deadline", type=float, default=1800)
    options = parser.parse_args()
    # A child inherits the signal mask of the thread that started it, and the test's threads block SIGTERM.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    # However the test ends, this process does not outlive its deadline.
    deadline = threading.Timer(options.deadline, lambda: os._exit(3))
    deadline.daemon = True
    deadline.start()
    server = Server(("127.0.0.1", 0), Handler)
    if options.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(options.cert, options.key)
        if options.client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(options.client_ca)
        server.tls = context
    print(server.server_address[1], flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
