#!/usr/bin/env python3
"""A broker stand-in that checks what it receives with the CloudEvents Python SDK, for the send tests only.

    broker_receiver.py

Listens on 127.0.0.1, prints {"port": N} once it does, and one JSON line per request with the event the SDK's
from_http parsed (or the error it raised). The path says how to answer: /accept 202, /reject 500 with a short
body, /close closes the connection without answering, /stall answers 202 after 5 s. Exits when its parent does.
"""
import base64
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from cloudevents.http import from_http
except ImportError:  # cloudevents 2.x keeps the 1.x API under cloudevents.v1
    from cloudevents.v1.http import from_http


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        record = {"path": self.path, "authorization": self.headers.get("authorization"),
                  "clientPort": self.client_address[1]}
        try:
            event = from_http(dict(self.headers.items()), body)
            attributes = {key: str(value) for key, value in event.get_attributes().items()}
            data = event.get_data()
            raw = data if isinstance(data, (bytes, bytearray)) else json.dumps(data).encode()
            record.update(attributes=attributes, data=base64.b64encode(raw).decode())
        except Exception as error:  # the test asserts there is none
            record["error"] = f"{type(error).__name__}: {error}"
        print(json.dumps(record), flush=True)
        if self.path == "/close":
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if self.path == "/stall":
            time.sleep(5)
        status, reply = (500, b"broker overloaded") if self.path == "/reject" else (202, b"")
        self.send_response(status)
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def follow_parent():
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.2)
    os._exit(3)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
threading.Thread(target=follow_parent, daemon=True).start()
print(json.dumps({"port": server.server_address[1]}), flush=True)
server.serve_forever()
