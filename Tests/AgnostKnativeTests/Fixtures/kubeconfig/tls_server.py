#!/usr/bin/env python3
"""An HTTPS server for the Kubernetes client's TLS tests: tls_server.py --cert PEM --key PEM --client-ca PEM.

It prints its port once it listens on 127.0.0.1, and exits when its stdin closes or after --deadline seconds. Every
GET is answered with a Secret whose name is the common name of the client certificate presented ("anonymous" when
none was); a request with neither a client certificate nor an Authorization header gets a 401 Status.
"""
import argparse
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        certificate = self.connection.getpeercert()
        name = "anonymous"
        if certificate:
            for entry in certificate.get("subject", ()):
                for key, value in entry:
                    if key == "commonName":
                        name = value
        if not certificate and "Authorization" not in self.headers:
            self.answer(401, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "Unauthorized",
                              "reason": "Unauthorized", "code": 401})
            return
        self.answer(200, {"kind": "Secret", "apiVersion": "v1", "metadata": {"name": name}})

    def answer(self, status, document):
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--client-ca", required=True)
    parser.add_argument("--deadline", type=float, default=300)
    options = parser.parse_args()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(options.cert, options.key)
    context.load_verify_locations(options.client_ca)
    context.verify_mode = ssl.CERT_OPTIONAL
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    threading.Thread(target=lambda: (sys.stdin.read(), server.shutdown()), daemon=True).start()
    deadline = threading.Timer(options.deadline, server.shutdown)
    deadline.daemon = True
    deadline.start()
    server.serve_forever()


if __name__ == "__main__":
    main()
