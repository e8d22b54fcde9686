#!/usr/bin/env python3
"""Sends CloudEvents to a running agnost server with the CloudEvents Python SDK, for the interop tests only.

    send_events.py BASE_URL CASES_JSON

Each case of the JSON array is {"path", "mode": "binary" | "structured" | "raw", "attributes",
"data", "bytes", "authorization"} (raw cases give "headers" and "body" instead of an event); prints one JSON line per
case, {"status": N}, in order. The SDK builds every event, so what the server accepts is what the SDK sends.
"""
import json
import sys
import urllib.error
import urllib.request

try:
    from cloudevents.http import CloudEvent, to_binary, to_structured
except ImportError:  # cloudevents 2.x keeps the 1.x API under cloudevents.v1
    from cloudevents.v1.http import CloudEvent, to_binary, to_structured


def post(url, headers, body):
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def main():
    base = sys.argv[1]
    for case in json.loads(sys.argv[2]):
        if case["mode"] == "raw":
            headers, body = case["headers"], case["body"].encode()
        else:
            data = case.get("data")
            event = CloudEvent(case["attributes"], data.encode() if case.get("bytes") else data)
            headers, body = (to_binary if case["mode"] == "binary" else to_structured)(event)
            headers = dict(headers)
        if "authorization" in case:
            headers["Authorization"] = case["authorization"]
        if isinstance(body, str):
            body = body.encode()
        print(json.dumps({"status": post(base + case["path"], headers, body)}), flush=True)


main()
