"""A MongoDB wire-protocol peer for the MongoDB store's tests, on mockupdb (Debian's python3-mockupdb).

It listens on a free loopback port, prints {"port": N} on one line, and runs until its stdin reaches EOF (the
test process closing it, or dying). It answers the handshake as a standalone server, writes every other command
it receives to --log as a JSON line (relaxed extended JSON) before it replies, and replies from --script: a JSON
list of {"command": NAME, "reply": {...}} or {"command": NAME, "hangup": true}, each used once, by the first
command of that name that comes after it is due; a reply's "firstBatch": "$lastInserted" stands for the documents
of the last insert received. Commands without a scripted reply get what a server answers when all goes well.

Run it with Debian's /usr/bin/python3, which sees python3-mockupdb and python3-pymongo.
"""

import argparse
import json
import sys
import threading

from bson import json_util
from bson.json_util import JSONOptions, JSONMode
import mockupdb

HANDSHAKES = {"ismaster", "hello"}
RELAXED = JSONOptions(json_mode=JSONMode.RELAXED)


class Fixture:
    def __init__(self, log_path, script, max_wire_version):
        self.log = open(log_path, "a", encoding="utf-8")
        self.script = script
        self.max_wire_version = max_wire_version
        self.lock = threading.Lock()
        self.last_inserted = []

    def handle(self, request):
        name = (request.command_name or "").lower() if request.is_command else ""
        if name in HANDSHAKES:
            return request.replies(
                ismaster=True, isWritablePrimary=True, minWireVersion=0, maxWireVersion=self.max_wire_version,
                maxBsonObjectSize=16 * 1024 * 1024, maxMessageSizeBytes=48_000_000, maxWriteBatchSize=100_000,
            )
        document = dict(request.doc)
        with self.lock:
            self.log.write(json_util.dumps(
                {"command": request.command_name, "db": request.namespace, "document": document},
                json_options=RELAXED,
            ) + "\n")
            self.log.flush()
            if name == "insert":
                self.last_inserted = list(document.get("documents", []))
            scripted = next((entry for entry in self.script if entry["command"].lower() == name), None)
            if scripted is not None:
                self.script.remove(scripted)
            last_inserted = self.last_inserted
        if scripted is not None and scripted.get("hangup"):
            return request.hangup()
        if scripted is not None:
            reply = json_util.loads(json.dumps(scripted["reply"]))
            cursor = reply.get("cursor")
            if isinstance(cursor, dict) and cursor.get("firstBatch") == "$lastInserted":
                cursor["firstBatch"] = last_inserted
            return request.replies(reply)
        return request.replies(self.success(name, document))

    @staticmethod
    def success(name, document):
        namespace = f"{document.get('$db')}.{document.get(name, '')}"
        if name == "insert":
            return {"ok": 1, "n": len(document.get("documents", []))}
        if name in ("update", "delete"):
            return {"ok": 1, "n": 1, "nModified": 1} if name == "update" else {"ok": 1, "n": 1}
        if name == "find":
            return {"ok": 1, "cursor": {"id": 0, "ns": namespace, "firstBatch": []}}
        if name == "createindexes":
            return {"ok": 1, "numIndexesBefore": 1, "numIndexesAfter": 2}
        return {"ok": 1}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--log", required=True, help="where to append each command received, a JSON line each")
    parser.add_argument("--script", help="a JSON file of scripted replies")
    parser.add_argument("--max-wire-version", type=int, default=8, help="8 is MongoDB 4.2's")
    options = parser.parse_args()
    script = []
    if options.script:
        with open(options.script, encoding="utf-8") as file:
            script = json.load(file)
    fixture = Fixture(options.log, script, options.max_wire_version)
    server = mockupdb.MockupDB(port=None, request_timeout=3600)
    server.autoresponds(fixture.handle)
    port = server.run()
    print(json.dumps({"port": port}), flush=True)
    sys.stdin.buffer.read()
    server.stop()


if __name__ == "__main__":
    main()
