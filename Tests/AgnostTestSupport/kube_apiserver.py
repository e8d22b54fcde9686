#!/usr/bin/env python3
"""A small Kubernetes API server with Knative's resources, for tests only: the one stand-in the project allows.

    kube_apiserver.py --state DIR --cert PEM --key PEM --client-ca PEM --tokens FILE --crds DIR
                      [--port 0] [--read-only USER]... [--admin USER]... [--role USER=ROLE.yaml]...
                      [--without-knative | --without-eventing] [--bundle-command PATH] [--ready-timeout SECONDS]
                      [--history N]

It serves HTTPS on 127.0.0.1, prints one JSON line ({"port": N}) once it listens, and stops, with every process it
started, when its stdin reaches EOF. It implements what the deployer calls, as a real API server answers it, and
refuses whatever a real one would refuse; where it implements less (POST, PUT, merge patches), it refuses.

- Authentication: bearer tokens (FILE lines `token,user[,uid[,"group1,group2"]]`, as kube-apiserver's
  --token-auth-file) and client certificates signed by the client CA (CN = user); anything else is 401.
- Authorization: every authenticated user may do everything, except `--read-only` users (get, list, watch) and
  users given a Role (`--role USER=FILE`, a rbac.authorization.k8s.io/v1 Role whose rules are enforced for USER, as
  RBAC does); 403 Status worded as Kubernetes words it.
- Resources: v1 Secrets; serving.knative.dev/v1 Services and Revisions (created by the controller);
  sources.knative.dev/v1 PingSources; eventing.knative.dev/v1 Triggers and Brokers. Namespaced, in any namespace.
  --without-knative serves none of Knative's; --without-eventing serves Knative Serving's alone.
- Verbs: get, list (labelSelector, fieldSelector metadata.name / metadata.namespace), watch (from a
  resourceVersion, 410 Expired past the bounded history, timeoutSeconds, bookmarks), delete, and server-side
  apply (`application/apply-patch+yaml`): fieldManager, force, dryRun=All, fieldValidation, managedFields with
  conflicts, generation and resourceVersion, validation through knative_validation.py.
- A simulated Knative controller reconciles Services: Revisions, conditions Unknown then True (or False), and,
  with --bundle-command, a process per revision behind a reverse proxy per Service whose URL is status.url.
- Test hooks, for --admin users only: POST /fixture/fail-next-revision {"reason", "message"},
  POST /fixture/drop-watches, GET /fixture/requests, and POST /fixture/status {"group", "plural", "namespace",
  "name", "status"}, which writes an object's status as its controller would (a Broker's Ready condition and
  address, say: no controller runs for Eventing's objects). Every other request is logged to STATE/requests.jsonl.
"""
import argparse
import base64
import copy
import ctypes
import datetime
import http.client
import json
import os
import queue
import random
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

# The fixture runs from the source tree: no __pycache__ may land there.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import knative_validation  # noqa: E402

PR_SET_PDEATHSIG = 1


def die_with_parent():
    """Run in each child before exec: the kernel kills it when this server dies, however it dies."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class Spawner:
    """Starts children from one thread that lives as long as the server.

    PR_SET_PDEATHSIG fires when the thread that forked the child ends, not the process, so children started from a
    short-lived reconcile thread would die with it.
    """

    def __init__(self):
        self.requests = queue.Queue()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            arguments, keywords, reply = self.requests.get()
            try:
                reply.put((subprocess.Popen(*arguments, preexec_fn=die_with_parent, **keywords), None))
            except OSError as error:
                reply.put((None, error))

    def popen(self, *arguments, **keywords):
        reply = queue.Queue(maxsize=1)
        self.requests.put((arguments, keywords, reply))
        process, error = reply.get()
        if error is not None:
            raise error
        return process


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status(code, reason, message, details=None):
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return code, body


class Resource:
    def __init__(self, group, version, plural, kind, knative, served_verbs):
        self.group, self.version, self.plural, self.kind = group, version, plural, kind
        self.knative = knative
        self.eventing = group in ("eventing.knative.dev", "sources.knative.dev")
        self.verbs = served_verbs

    @property
    def api_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self):
        """`services.serving.knative.dev`, or `secrets` for the core group, as error messages name it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def kind_qualified(self):
        return f"{self.kind}.{self.group}" if self.group else self.kind

    def details(self, name=None):
        details = {}
        if name is not None:
            details["name"] = name
        if self.group:
            details["group"] = self.group
        details["kind"] = self.plural
        return details


CRUD = ["delete", "get", "list", "patch", "watch"]
RESOURCES = [
    Resource("", "v1", "secrets", "Secret", False, CRUD),
    Resource("serving.knative.dev", "v1", "services", "Service", True, CRUD),
    Resource("serving.knative.dev", "v1", "revisions", "Revision", True, ["delete", "get", "list", "watch"]),
    Resource("sources.knative.dev", "v1", "pingsources", "PingSource", True, CRUD),
    Resource("eventing.knative.dev", "v1", "triggers", "Trigger", True, CRUD),
    Resource("eventing.knative.dev", "v1", "brokers", "Broker", True, CRUD),
]
UNTRACKED_METADATA = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                      "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"}


# --- Field sets, as server-side apply tracks them (every list atomic) ---------------------------------------------

def leaves(value, path=()):
    """The paths a manager owns by applying `value`: each scalar, each (atomic) list, each empty map."""
    if isinstance(value, dict) and value:
        found = set()
        for key, sub in value.items():
            found |= leaves(sub, path + (key,))
        return found
    return {path}


def apply_fields(config):
    fields = set()
    for key, value in config.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata":
            for meta_key, meta_value in (value or {}).items():
                if meta_key not in UNTRACKED_METADATA:
                    fields |= leaves(meta_value, ("metadata", meta_key))
        else:
            fields |= leaves(value, (key,))
    return fields


def get_path(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return None, False
        obj = obj[key]
    return obj, True


def remove_path(obj, path):
    parents = []
    for key in path[:-1]:
        if not isinstance(obj, dict) or key not in obj:
            return
        parents.append((obj, key))
        obj = obj[key]
    if isinstance(obj, dict):
        obj.pop(path[-1], None)
    # Maps emptied by the removal go too, except the top-level ones.
    for parent, key in reversed(parents[1:]):
        if parent[key] == {}:
            del parent[key]
        else:
            break


def merge(live, config):
    for key, value in config.items():
        if isinstance(value, dict) and isinstance(live.get(key), dict):
            merge(live[key], value)
        else:
            live[key] = copy.deepcopy(value)


def path_text(path):
    return "".join(f".{key}" for key in path)


def fields_v1(paths):
    tree = {}
    for path in sorted(paths):
        node = tree
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    return tree


def paths_of_fields_v1(tree, prefix=()):
    found = set()
    for key, sub in tree.items():
        if not key.startswith("f:"):
            continue
        path = prefix + (key[2:],)
        found |= paths_of_fields_v1(sub, path) if sub else {path}
    return found


def owns(paths, path):
    """Whether a field set covers `path`: the path itself, or an atomic value above it."""
    return any(path[:length] in paths for length in range(1, len(path) + 1))


# --- Selectors -------------------------------------------------------------------------------------------------------

class SelectorError(Exception):
    pass


def split_top(text):
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [part.strip() for part in parts if part.strip()]


def label_selector(text):
    requirements = []
    for part in split_top(text or ""):
        match = re.fullmatch(r"([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)", part)
        if match:
            values = {value.strip() for value in match.group(3).split(",") if value.strip()}
            requirements.append((match.group(1), match.group(2), values))
            continue
        match = re.fullmatch(r"([^\s!=]+)\s*(==|=|!=)\s*([^\s,]*)", part)
        if match:
            requirements.append((match.group(1), "!=" if match.group(2) == "!=" else "=", match.group(3)))
            continue
        match = re.fullmatch(r"(!?)([^\s!=()]+)", part)
        if match:
            requirements.append((match.group(2), "!exists" if match.group(1) else "exists", None))
            continue
        raise SelectorError(f"unable to parse requirement: found '{part}', expected: '=', '!=', '==', 'in', notin'")
    for key, _, _ in requirements:
        if knative_validation.qualified_name_problems(key, "labelSelector"):
            raise SelectorError(f"unable to parse requirement: invalid label key \"{key}\"")

    def matches(labels):
        for key, operator, value in requirements:
            present = key in labels
            if operator == "=" and labels.get(key) != value:
                return False
            if operator == "!=" and present and labels[key] == value:
                return False
            if operator == "exists" and not present:
                return False
            if operator == "!exists" and present:
                return False
            if operator == "in" and labels.get(key) not in value:
                return False
            if operator == "notin" and present and labels[key] in value:
                return False
        return True
    return matches


def field_selector(text):
    requirements = []
    for part in split_top(text or ""):
        match = re.fullmatch(r"([^\s!=]+)\s*(==|=|!=)\s*(.*)", part)
        if not match:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        field, operator, value = match.groups()
        if field not in ("metadata.name", "metadata.namespace"):
            raise SelectorError(f"\"{field}\" is not a known field selector: only \"metadata.name\", "
                                "\"metadata.namespace\"")
        requirements.append((field.split(".")[1], operator != "!=", value))

    def matches(obj):
        meta = obj.get("metadata") or {}
        return all((meta.get(field) == value) == equal for field, equal, value in requirements)
    return matches


# --- The store -------------------------------------------------------------------------------------------------------

class Store:
    """Every object, the global resourceVersion and a bounded history of changes, under one condition variable."""

    def __init__(self, history):
        self.lock = threading.Condition()
        self.objects = {}  # (plural, namespace, name) -> object
        self.version = 1
        self.history = deque(maxlen=history)  # (resourceVersion, plural, type, object)
        self.compacted = 1  # events at or below this resourceVersion are gone from the history

    def next_version(self):
        self.version += 1
        return self.version

    def record(self, plural, kind, obj):
        if len(self.history) == self.history.maxlen:
            self.compacted = self.history[0][0]
        self.history.append((int(obj["metadata"]["resourceVersion"]), plural, kind, copy.deepcopy(obj)))
        self.lock.notify_all()

    def write(self, plural, obj):
        """Stores `obj` under a new resourceVersion and records it; call with the lock held."""
        meta = obj["metadata"]
        key = (plural, meta["namespace"], meta["name"])
        event = "MODIFIED" if key in self.objects else "ADDED"
        meta["resourceVersion"] = str(self.next_version())
        self.objects[key] = obj
        self.record(plural, event, obj)
        return obj

    def delete(self, plural, namespace, name):
        obj = self.objects.pop((plural, namespace, name), None)
        if obj is not None:
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.next_version())
            self.record(plural, "DELETED", obj)
        return obj


# --- The simulated Knative controller --------------------------------------------------------------------------------

def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RevisionProcess:
    def __init__(self, service, process, port, log):
        self.service, self.process, self.port, self.log = service, process, port, log

    def stop(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=3)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.process.wait()
        self.log.close()


class RevisionFailure(Exception):
    """How a revision failed: `reason` and `message` for the Service, the revision's own (the kubelet's) if they
    differ, as Knative reports a CreateContainerConfigError on the Revision and RevisionFailed on the Service."""

    def __init__(self, reason, message, revision_reason=None, revision_message=None):
        super().__init__(message)
        self.reason, self.message = reason, message
        self.revision_reason, self.revision_message = revision_reason or reason, revision_message or message


class Proxy:
    """The Service's URL: forwards each request to a revision process chosen by the traffic split."""

    def __init__(self):
        self.routes = []  # (percent, port)
        self.last_host = None
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *arguments):
                pass

            def forward(self):
                proxy.last_host = self.headers.get("Host")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                port = proxy.pick()
                if port is None:
                    return self.reply(503, b"no ready revision\n", {"Content-Type": "text/plain"})
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",
                                                                                         "transfer-encoding")}
                    connection.request(self.command, self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    data = response.read()
                    out = {k: v for k, v in response.getheaders()
                           if k.lower() not in ("connection", "transfer-encoding", "content-length")}
                    self.reply(response.status, data, out)
                except OSError as error:
                    self.reply(502, f"revision unreachable: {error}\n".encode(), {"Content-Type": "text/plain"})
                finally:
                    connection.close()

            def reply(self, code, data, headers):
                self.send_response(code)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def pick(self):
        routes = [(percent, port) for percent, port in self.routes if percent > 0]
        if not routes:
            return None
        draw = random.uniform(0, sum(percent for percent, _ in routes))
        for percent, port in routes:
            draw -= percent
            if draw <= 0:
                return port
        return routes[-1][1]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Controller:
    def __init__(self, server):
        self.server = server
        self.store = server.store
        self.processes = {}  # (namespace, revision) -> RevisionProcess
        self.proxies = {}  # (namespace, service) -> Proxy
        self.fail_next = None
        self.busy = {}  # (namespace, service) -> lock
        self.lock = threading.Lock()
        self.stopping = False
        self.spawner = Spawner()

    def kick(self, namespace, name):
        threading.Thread(target=self.reconcile, args=(namespace, name), daemon=True).start()

    def service_lock(self, key):
        with self.lock:
            return self.busy.setdefault(key, threading.Lock())

    def write_status(self, namespace, name, generation, mutate):
        """Updates a Service's status as the controller does, through the status subresource."""
        with self.store.lock:
            live = self.store.objects.get(("services", namespace, name))
            if live is None or live["metadata"].get("generation") != generation:
                return None
            updated = copy.deepcopy(live)
            status_block = updated.setdefault("status", {})
            mutate(status_block)
            status_block["observedGeneration"] = generation
            if updated == live:
                return live
            managed = [entry for entry in updated["metadata"].get("managedFields", [])
                       if entry.get("manager") != "controller"]
            managed.append({"manager": "controller", "operation": "Update", "apiVersion": "serving.knative.dev/v1",
                            "time": now(), "fieldsType": "FieldsV1",
                            "fieldsV1": fields_v1(leaves(updated["status"], ("status",))), "subresource": "status"})
            updated["metadata"]["managedFields"] = managed
            return self.store.write("services", updated)

    def reconcile(self, namespace, name):
        with self.service_lock((namespace, name)):
            try:
                self.reconcile_locked(namespace, name)
            except Exception:  # A crash here must not pass silently: the test's stderr shows it.
                traceback.print_exc()

    def reconcile_locked(self, namespace, name):
        with self.store.lock:
            service = copy.deepcopy(self.store.objects.get(("services", namespace, name)))
        if service is None:
            return
        generation = service["metadata"]["generation"]
        if (service.get("status") or {}).get("observedGeneration", 0) >= generation:
            return
        template = service["spec"].get("template") or {}
        revision_name, created = self.ensure_revision(service, template)
        if created:
            waiting = f"Configuration \"{name}\" is waiting for a Revision to become ready."

            def unknown(block):
                block["latestCreatedRevisionName"] = revision_name
                block["conditions"] = conditions(
                    ("ConfigurationsReady", "Unknown", "RevisionMissing", waiting),
                    ("Ready", "Unknown", "RevisionMissing", waiting),
                    ("RoutesReady", "Unknown", "RevisionMissing", waiting))
            self.write_status(namespace, name, generation, unknown)
            failure = self.start_revision(service, revision_name, template)
            with self.store.lock:
                deleted = ("services", namespace, name) not in self.store.objects
            if deleted:  # Deleted while its revision started: collect what the deletion could not see yet.
                self.service_deleted(namespace, name)
                return
            time.sleep(0.2)  # Watchers see Unknown, then the outcome, as with a real controller.
            if failure is not None:
                self.set_revision_ready(namespace, revision_name, False, failure.revision_reason,
                                        failure.revision_message)

                def failed(block):
                    block["conditions"] = conditions(
                        ("ConfigurationsReady", "False", failure.reason, failure.message),
                        ("Ready", "False", failure.reason, failure.message),
                        ("RoutesReady", "True", None, None) if block.get("latestReadyRevisionName") else
                        ("RoutesReady", "Unknown", "RevisionMissing", waiting))
                self.write_status(namespace, name, generation, failed)
                return
            self.set_revision_ready(namespace, revision_name, True)
        self.route(service, generation, revision_name)

    def ensure_revision(self, service, template):
        """The revision for the template: the existing one if the name is taken by the same template, else new."""
        meta = service["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        with self.store.lock:
            existing = [obj for (plural, ns, _), obj in self.store.objects.items()
                        if plural == "revisions" and ns == namespace
                        and obj["metadata"]["labels"].get("serving.knative.dev/service") == name]
            given = (template.get("metadata") or {}).get("name")
            for revision in existing:
                if given and revision["metadata"]["name"] == given:
                    return given, False
                if not given and revision.get("spec") == template.get("spec") and \
                        revision["metadata"].get("annotations", {}) == (template.get("metadata") or {}).get(
                            "annotations", {}):
                    return revision["metadata"]["name"], False
            number = 1 + max([int(r["metadata"]["labels"].get("serving.knative.dev/configurationGeneration", 0))
                              for r in existing] or [0])
            revision_name = given or f"{name}-{number:05d}"
            template_meta = template.get("metadata") or {}
            labels = dict(template_meta.get("labels") or {})
            labels.update({"serving.knative.dev/service": name, "serving.knative.dev/configuration": name,
                           "serving.knative.dev/configurationGeneration": str(number),
                           "serving.knative.dev/serviceUID": meta["uid"]})
            revision = {
                "apiVersion": "serving.knative.dev/v1", "kind": "Revision",
                "metadata": {
                    "name": revision_name, "namespace": namespace, "uid": str(uuid.uuid4()), "generation": 1,
                    "creationTimestamp": now(), "labels": labels,
                    "annotations": dict(template_meta.get("annotations") or {}),
                    "ownerReferences": [{"apiVersion": "serving.knative.dev/v1", "kind": "Configuration",
                                         "name": name, "uid": meta["uid"], "controller": True,
                                         "blockOwnerDeletion": True}],
                },
                "spec": copy.deepcopy(template.get("spec") or {}),
                "status": {"observedGeneration": 1, "conditions": conditions(
                    ("Active", "Unknown", "Deploying", None), ("ContainerHealthy", "Unknown", "Deploying", None),
                    ("Ready", "Unknown", "Deploying", None), ("ResourcesAvailable", "Unknown", "Deploying", None))},
            }
            self.store.write("revisions", revision)
        return revision_name, True

    def set_revision_ready(self, namespace, revision_name, ready, reason=None, message=None):
        with self.store.lock:
            live = self.store.objects.get(("revisions", namespace, revision_name))
            if live is None:
                return
            revision = copy.deepcopy(live)
            if ready:
                revision["status"]["conditions"] = conditions(
                    ("Active", "True", None, None), ("ContainerHealthy", "True", None, None),
                    ("Ready", "True", None, None), ("ResourcesAvailable", "True", None, None))
            else:
                revision["status"]["conditions"] = conditions(
                    ("Active", "Unknown", "Deploying", None), ("ContainerHealthy", "False", reason, message),
                    ("Ready", "False", reason, message), ("ResourcesAvailable", "Unknown", "Deploying", None))
            self.store.write("revisions", revision)

    def start_revision(self, service, revision_name, template):
        """Starts the revision's process and waits for it to be ready; the failure, if it fails."""
        namespace, name = service["metadata"]["namespace"], service["metadata"]["name"]
        with self.lock:
            failure, self.fail_next = self.fail_next, None
        if failure is not None:
            return RevisionFailure(failure.get("reason", "RevisionFailed"), failure.get("message", ""))
        command = self.server.options.bundle_command
        if command is None:
            return None
        containers = (template.get("spec") or {}).get("containers") or [{}]
        container = next((c for c in containers if c.get("ports")), containers[0])
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for variable in container.get("env") or []:
            if "value" in variable:
                environment[variable["name"]] = str(variable["value"])
            elif "valueFrom" in variable:
                try:
                    environment[variable["name"]] = self.resolve(namespace, variable["valueFrom"])
                except RevisionFailure as unresolved:
                    return RevisionFailure(
                        "RevisionFailed", f"Revision \"{revision_name}\" failed with message: {unresolved.message}.",
                        unresolved.reason, unresolved.message)
        port = free_port()
        environment.update({"PORT": str(port), "AGNOST_HOST": "127.0.0.1", "K_SERVICE": name,
                            "K_REVISION": revision_name, "K_CONFIGURATION": name})
        folder = os.path.join(self.server.options.state, "revisions", namespace, revision_name)
        os.makedirs(folder, exist_ok=True)
        log = open(os.path.join(folder, "output.log"), "ab")
        try:
            process = self.spawner.popen([command], env=environment, cwd=folder, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as error:
            log.close()
            return RevisionFailure("RevisionFailed", f"Revision \"{revision_name}\" failed with message: "
                                   f"the container could not start: {error}.")
        running = RevisionProcess(name, process, port, log)
        with self.lock:
            if self.stopping:
                running.stop()
                return RevisionFailure("RevisionFailed", "the API server is stopping")
            self.processes[(namespace, revision_name)] = running
        deadline = time.monotonic() + self.server.options.ready_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return RevisionFailure("RevisionFailed", f"Revision \"{revision_name}\" failed with message: "
                                       f"Container failed with: exit code {process.returncode}.",
                                       f"ExitCode{process.returncode}",
                                       f"Container failed with: exit code {process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/agnost/ready")
                if connection.getresponse().status == 200:
                    connection.close()
                    return None
                connection.close()
            except OSError:
                pass
            time.sleep(0.05)
        return RevisionFailure("ProgressDeadlineExceeded", f"Revision \"{revision_name}\" failed with message: "
                               f"Initial scale was never achieved.")

    def resolve(self, namespace, source):
        reference = source.get("secretKeyRef")
        if reference is None:
            kind = next(iter(source), "valueFrom")
            raise RevisionFailure("CreateContainerConfigError", f"{kind} is not available in this cluster")
        with self.store.lock:
            secret = self.store.objects.get(("secrets", namespace, reference.get("name", "")))
        if secret is None:
            raise RevisionFailure("CreateContainerConfigError", f"secret \"{reference.get('name')}\" not found")
        data = secret.get("data") or {}
        if reference.get("key") not in data:
            raise RevisionFailure("CreateContainerConfigError", f"couldn't find key {reference.get('key')} in "
                                  f"Secret {namespace}/{reference.get('name')}")
        return base64.b64decode(data[reference["key"]]).decode("utf-8", "replace")

    def route(self, service, generation, latest_created):
        """Sets the traffic split, the proxy and Ready=True, or RoutesReady=False for a missing revision."""
        meta = service["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        with self.store.lock:
            live = self.store.objects.get(("services", namespace, name)) or service
            latest_ready = (live.get("status") or {}).get("latestReadyRevisionName")
            revisions = {obj["metadata"]["name"]: obj for (plural, ns, _), obj in self.store.objects.items()
                         if plural == "revisions" and ns == namespace}
        latest_revision = revisions.get(latest_created)
        if latest_revision is not None and ready_condition(latest_revision) == "True":
            latest_ready = latest_created
        elif latest_revision is not None and ready_condition(latest_revision) == "False":
            # The latest revision failed before: the Service stays not ready for it, as Knative reports.
            condition = next(c for c in latest_revision["status"]["conditions"] if c["type"] == "Ready")

            def still_failed(block):
                block["latestCreatedRevisionName"] = latest_created
                block["conditions"] = conditions(
                    ("ConfigurationsReady", "False", condition.get("reason"), condition.get("message")),
                    ("Ready", "False", condition.get("reason"), condition.get("message")),
                    ("RoutesReady", "True", None, None))
            self.write_status(namespace, name, generation, still_failed)
            return
        traffic = []
        for target in service["spec"].get("traffic") or [{"latestRevision": True, "percent": 100}]:
            resolved = {key: value for key, value in target.items() if key != "latestRevision"}
            if target.get("latestRevision", not target.get("revisionName")):
                resolved["revisionName"] = latest_ready
                resolved["latestRevision"] = True
            else:
                resolved["latestRevision"] = False
            if target.get("tag"):
                resolved["url"] = f"http://{target['tag']}-{name}.{namespace}.example.com"
            traffic.append(resolved)
        missing = [t["revisionName"] for t in traffic
                   if t.get("revisionName") is None or ready_condition(revisions.get(t["revisionName"])) != "True"]
        if missing:
            message = f"Revision \"{missing[0]}\" referenced in traffic not found."

            def not_found(block):
                block["conditions"] = conditions(("ConfigurationsReady", "True", None, None),
                                                 ("Ready", "False", "RevisionMissing", message),
                                                 ("RoutesReady", "False", "RevisionMissing", message))
            self.write_status(namespace, name, generation, not_found)
            return
        if self.server.options.bundle_command:
            with self.lock:
                proxy = self.proxies.get((namespace, name))
                if proxy is None:
                    proxy = self.proxies[(namespace, name)] = Proxy()
                routes = []
                for target in traffic:
                    running = self.processes.get((namespace, target["revisionName"]))
                    if running is not None:
                        routes.append((target.get("percent", 0), running.port))
                proxy.routes = routes
            url = f"http://127.0.0.1:{proxy.port}"
        else:
            url = f"http://{name}.{namespace}.example.com"

        def ready(block):
            block["latestCreatedRevisionName"] = latest_created
            block["latestReadyRevisionName"] = latest_ready
            block["url"] = url
            block["address"] = {"url": f"http://{name}.{namespace}.svc.cluster.local"}
            block["traffic"] = traffic
            block["conditions"] = conditions(("ConfigurationsReady", "True", None, None),
                                             ("Ready", "True", None, None), ("RoutesReady", "True", None, None))
        self.write_status(namespace, name, generation, ready)

    def service_deleted(self, namespace, name):
        """Garbage collection: the Service's revisions and their processes, and its proxy."""
        with self.store.lock:
            keys = [key for key, obj in self.store.objects.items()
                    if key[0] == "revisions" and key[1] == namespace
                    and obj["metadata"]["labels"].get("serving.knative.dev/service") == name]
            for key in keys:
                self.store.delete(*key)
        with self.lock:
            gone = [key for key, running in self.processes.items() if key[0] == namespace and running.service == name]
            stopping = [self.processes.pop(key) for key in gone]
            proxy = self.proxies.pop((namespace, name), None)
        for running in stopping:
            running.stop()
        if proxy is not None:
            proxy.stop()

    def revision_deleted(self, namespace, name):
        with self.lock:
            running = self.processes.pop((namespace, name), None)
        if running is not None:
            running.stop()

    def stop(self):
        with self.lock:
            self.stopping = True
            processes, self.processes = list(self.processes.values()), {}
        for running in processes:
            running.stop()


def conditions(*entries):
    stamp = now()
    result = []
    for kind, state, reason, message in sorted(entries):
        condition = {"type": kind, "status": state, "lastTransitionTime": stamp}
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
        result.append(condition)
    return result


def ready_condition(obj):
    for condition in ((obj or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status")
    return None


# --- HTTP ------------------------------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-apiserver-fixture"

    def log_message(self, *arguments):
        pass

    # Plumbing.

    def send_json(self, code, body, headers=None):
        data = (json.dumps(body) + "\n").encode()
        # Logged before the answer leaves, so that a client that got it finds it in the log.
        self.log_request_line(code)
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_request_line(self, code):
        if self.user in self.server.options.admin or self.path.startswith("/fixture/"):
            return
        entry = {"method": self.command, "path": self.path, "contentType": self.headers.get("Content-Type"),
                 "user": self.user, "status": code}
        with self.server.log_lock:
            with open(os.path.join(self.server.options.state, "requests.jsonl"), "a") as log:
                log.write(json.dumps(entry) + "\n")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def authenticate(self):
        header = self.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return self.server.tokens.get(header[7:].strip())
        if header:
            return None
        certificate = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
        for entry in (certificate or {}).get("subject", ()):
            for key, value in entry:
                if key == "commonName":
                    return value
        return None

    def allowed(self, verb, resource):
        user = self.user
        if user in self.server.options.read_only:
            return verb in ("get", "list", "watch")
        rules = self.server.roles.get(user)
        if rules is None:
            return True
        for rule in rules:
            if (resource.group in rule.get("apiGroups", []) or "*" in rule.get("apiGroups", [])) and \
                    (resource.plural in rule.get("resources", []) or "*" in rule.get("resources", [])) and \
                    (verb in rule.get("verbs", []) or "*" in rule.get("verbs", [])):
                return True
        return False

    def forbid(self, verb, resource, namespace, name):
        subject = f"{resource.qualified} \"{name}\"" if name else resource.qualified
        scope = f"in the namespace \"{namespace}\"" if namespace else "at the cluster scope"
        return status(403, "Forbidden", f"{subject} is forbidden: User \"{self.user}\" cannot {verb} resource "
                      f"\"{resource.plural}\" in API group \"{resource.group}\" {scope}",
                      resource.details(name) if name else resource.details())

    def handle_any(self):
        self.user = None
        try:
            self.user = self.authenticate()
            if self.user is None:
                self.read_body()
                return self.send_json(*status(401, "Unauthorized", "Unauthorized"))
            url = urllib.parse.urlsplit(self.path)
            query = {key: values[-1] for key, values in urllib.parse.parse_qs(url.query, keep_blank_values=True)
                     .items()}
            if url.path.startswith("/fixture/"):
                return self.fixture(url.path)
            answer = self.discovery(url.path)
            if answer is not None:
                self.read_body()
                return self.send_json(200, answer)
            self.route(url.path, query)
        except BrokenPipeError:
            self.close_connection = True
        except Exception as error:  # A fixture bug answers 500 with its cause, for the test's failure message.
            traceback.print_exc()
            try:
                self.send_json(*status(500, "InternalError", f"Internal error occurred: {error}"))
            except OSError:
                self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    # Discovery.

    def groups(self):
        return sorted({r.group for r in RESOURCES if r.group and self.server.serves(r)})

    def discovery(self, path):
        if path == "/version":
            return {"major": "1", "minor": "31", "gitVersion": "v1.31.0-agnost-fixture", "platform": "linux/amd64"}
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.server.server_address[1]}"}]}
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self.group(g) for g in self.groups()]}
        match = re.fullmatch(r"/apis/([^/]+)", path)
        if match and match.group(1) in self.groups():
            return dict(self.group(match.group(1)), kind="APIGroup", apiVersion="v1")
        match = re.fullmatch(r"/api/v1|/apis/([^/]+)/([^/]+)", path)
        if match:
            group, version = (match.group(1) or ""), (match.group(2) or "v1")
            resources = [r for r in RESOURCES if r.group == group and r.version == version and self.server.serves(r)]
            if resources:
                listed = []
                for r in resources:
                    listed.append({"name": r.plural, "singularName": r.kind.lower(), "namespaced": True,
                                   "kind": r.kind, "verbs": r.verbs})
                    if r.knative:
                        listed.append({"name": f"{r.plural}/status", "singularName": "", "namespaced": True,
                                       "kind": r.kind, "verbs": ["get", "patch", "update"]})
                return {"kind": "APIResourceList", "apiVersion": "v1",
                        "groupVersion": f"{group}/{version}" if group else version, "resources": listed}
        return None

    @staticmethod
    def group(name):
        version = {"groupVersion": f"{name}/v1", "version": "v1"}
        return {"name": name, "versions": [version], "preferredVersion": version}

    # Test hooks.

    def fixture(self, path):
        body = self.read_body()
        if self.user not in self.server.options.admin:
            return self.send_json(*status(403, "Forbidden", f"User \"{self.user}\" may not use the fixture's hooks"))
        if path == "/fixture/fail-next-revision" and self.command == "POST":
            with self.server.controller.lock:
                self.server.controller.fail_next = json.loads(body or b"{}")
            return self.send_json(200, {"armed": True})
        if path == "/fixture/drop-watches" and self.command == "POST":
            with self.server.store.lock:
                self.server.watch_epoch += 1
                self.server.store.lock.notify_all()
            return self.send_json(200, {"dropped": True})
        if path == "/fixture/requests" and self.command == "GET":
            try:
                with open(os.path.join(self.server.options.state, "requests.jsonl")) as log:
                    lines = [json.loads(line) for line in log if line.strip()]
            except FileNotFoundError:
                lines = []
            return self.send_json(200, {"requests": lines})
        if path == "/fixture/status" and self.command == "POST":
            request = json.loads(body or b"{}")
            resource = next((r for r in RESOURCES if r.group == request.get("group", "") and
                             r.plural == request.get("plural") and self.server.serves(r)), None)
            if resource is None or not resource.group or not isinstance(request.get("status"), dict):
                return self.send_json(*status(400, "BadRequest", "expected group, plural, namespace, name and a "
                                              "status object of a served custom resource"))
            store = self.server.store
            with store.lock:
                key = (resource.plural, request.get("namespace"), request.get("name"))
                obj = copy.deepcopy(store.objects.get(key))
                if obj is None:
                    return self.send_json(*self.not_found(resource, request.get("name")))
                obj["status"] = request["status"]
                written = copy.deepcopy(store.write(resource.plural, obj))
            return self.send_json(200, written)
        if path == "/fixture/proxies" and self.command == "GET":
            with self.server.controller.lock:
                proxies = {f"{ns}/{name}": {"port": p.port, "lastHost": p.last_host, "routes": p.routes}
                           for (ns, name), p in self.server.controller.proxies.items()}
            return self.send_json(200, proxies)
        return self.send_json(*status(404, "NotFound", "the server could not find the requested resource", {}))

    # Resources.

    def route(self, path, query):
        match = re.fullmatch(r"/api/v1(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?(?:/(status))?", path) or \
            re.fullmatch(r"/apis/([^/]+)/([^/]+)(?:/namespaces/([^/]+))?/([^/]+)(?:/([^/]+))?(?:/(status))?", path)
        resource = None
        if match and path.startswith("/api/v1"):
            namespace, plural, name, sub = match.groups()
            group, version = "", "v1"
        elif match:
            group, version, namespace, plural, name, sub = match.groups()
        if match:
            resource = next((r for r in RESOURCES if (r.group, r.version, r.plural) == (group, version, plural)
                             and self.server.serves(r)), None)
        if resource is None:
            self.read_body()
            return self.send_json(*status(404, "NotFound", "the server could not find the requested resource", {}))
        name = urllib.parse.unquote(name) if name else None
        watch = query.get("watch") in ("true", "1")
        verb = {"GET": "watch" if watch else ("get" if name else "list"), "PATCH": "patch", "DELETE": "delete",
                "POST": "create", "PUT": "update"}[self.command]
        if not self.allowed(verb, resource):
            self.read_body()
            return self.send_json(*self.forbid(verb, resource, namespace, name))
        if verb in ("patch", "delete") and verb not in resource.verbs:
            self.read_body()
            return self.send_json(*status(405, "MethodNotAllowed", f"the fixture's {resource.qualified} are written "
                                          "by its controller alone", resource.details(name)))
        if sub and self.command != "GET":
            self.read_body()
            return self.send_json(*status(405, "MethodNotAllowed", f"the fixture does not implement {self.command} "
                                          f"on {resource.qualified}/status", resource.details(name)))
        if self.command == "GET":
            if watch:
                return self.watch(resource, namespace, name, query)
            if name:
                return self.get(resource, namespace, name)
            return self.list(resource, namespace, query)
        if namespace is None:
            self.read_body()
            return self.send_json(*status(405, "MethodNotAllowed", "the server does not allow this method on the "
                                          "requested resource", {}))
        if self.command == "DELETE" and name:
            self.read_body()
            return self.delete(resource, namespace, name, query)
        if self.command == "PATCH" and name:
            return self.patch(resource, namespace, name, query)
        self.read_body()
        return self.send_json(*status(405, "MethodNotAllowed", f"the fixture implements only server-side apply "
                                      f"(PATCH) to change {resource.qualified}, not {self.command}", {}))

    def not_found(self, resource, name):
        return status(404, "NotFound", f"{resource.qualified} \"{name}\" not found", resource.details(name))

    def get(self, resource, namespace, name):
        with self.server.store.lock:
            obj = self.server.store.objects.get((resource.plural, namespace, name))
            obj = copy.deepcopy(obj)
        if obj is None:
            return self.send_json(*self.not_found(resource, name))
        self.send_json(200, obj)

    def selectors(self, query):
        try:
            return label_selector(query.get("labelSelector")), field_selector(query.get("fieldSelector"))
        except SelectorError as error:
            self.send_json(*status(400, "BadRequest", str(error)))
            return None

    def list(self, resource, namespace, query):
        selected = self.selectors(query)
        if selected is None:
            return
        labels, fields = selected
        with self.server.store.lock:
            items = [copy.deepcopy(obj) for (plural, ns, _), obj in sorted(self.server.store.objects.items())
                     if plural == resource.plural and (namespace is None or ns == namespace)
                     and labels(obj["metadata"].get("labels") or {}) and fields(obj)]
            version = str(self.server.store.version)
        if not resource.group:
            for item in items:  # Typed core lists carry no kind and apiVersion in their items.
                item.pop("kind", None)
                item.pop("apiVersion", None)
        self.send_json(200, {"kind": f"{resource.kind}List", "apiVersion": resource.api_version,
                             "metadata": {"resourceVersion": version}, "items": items})

    def delete(self, resource, namespace, name, query):
        dry_run = query.get("dryRun")
        if dry_run not in (None, "All"):
            return self.send_json(*status(400, "BadRequest", f"Invalid dryRun value \"{dry_run}\": must be \"All\""))
        store = self.server.store
        with store.lock:
            live = store.objects.get((resource.plural, namespace, name))
            if live is None:
                return self.send_json(*self.not_found(resource, name))
            deleted = copy.deepcopy(live) if dry_run else store.delete(resource.plural, namespace, name)
        if not dry_run:
            if resource.plural == "services":
                self.server.controller.service_deleted(namespace, name)
            elif resource.plural == "revisions":
                self.server.controller.revision_deleted(namespace, name)
        if resource.group:
            return self.send_json(200, deleted)
        self.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                             "details": {"name": name, "kind": resource.plural, "uid": deleted["metadata"]["uid"]}})

    def patch(self, resource, namespace, name, query):
        body = self.read_body()
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type != "application/apply-patch+yaml":
            return self.send_json(*status(415, "UnsupportedMediaType", "the body of the request was in an unknown "
                                          "format - accepted media types include: application/apply-patch+yaml"))
        manager = query.get("fieldManager", "")
        if not manager:
            return self.send_json(*status(400, "BadRequest", "fieldManager is required for apply requests"))
        if len(manager) > 128:
            return self.send_json(*status(400, "BadRequest", "fieldManager: Too long: may not be more than 128 "
                                          "bytes"))
        force = query.get("force")
        if force not in (None, "true", "false"):
            return self.send_json(*status(400, "BadRequest", f"Invalid value for force: \"{force}\""))
        dry_run = query.get("dryRun")
        if dry_run not in (None, "All"):
            return self.send_json(*status(400, "BadRequest", f"Invalid dryRun value \"{dry_run}\": must be \"All\""))
        validation = query.get("fieldValidation", "Warn")
        if validation not in ("Strict", "Warn", "Ignore"):
            return self.send_json(*status(400, "BadRequest", f"Invalid fieldValidation value \"{validation}\": must "
                                          "be one of \"Ignore\", \"Warn\", or \"Strict\""))
        try:
            config = yaml.load(body.decode("utf-8"), Loader=knative_validation.YAML_LOADER)
        except (UnicodeDecodeError, yaml.YAMLError) as error:
            return self.send_json(*status(400, "BadRequest", f"error decoding YAML: {error}"))
        if not isinstance(config, dict):
            return self.send_json(*status(400, "BadRequest", "the apply body must be a YAML or JSON object"))
        if config.get("apiVersion") != resource.api_version or config.get("kind") != resource.kind:
            return self.send_json(*status(400, "BadRequest", f"the API version and kind in the body "
                                          f"({config.get('apiVersion')}, {config.get('kind')}) do not match the "
                                          f"resource ({resource.api_version}, {resource.kind})"))
        meta = config.get("metadata")
        if not isinstance(meta, dict):
            return self.send_json(*status(400, "BadRequest", "metadata: the apply body must carry metadata"))
        if meta.get("managedFields") is not None:
            # An object read back and applied as is carries them; a real server refuses that.
            return self.send_json(*status(400, "BadRequest", "metadata.managedFields must be nil"))
        if meta.get("name", name) != name:
            return self.send_json(*status(400, "BadRequest", f"the name of the object ({meta.get('name')}) does not "
                                          f"match the name on the URL ({name})"))
        if meta.get("namespace", namespace) != namespace:
            return self.send_json(*status(400, "BadRequest", "the namespace of the provided object does not match "
                                          "the namespace sent on the request"))
        if "stringData" in config and resource.plural == "secrets" and isinstance(config["stringData"], dict):
            # The API server writes stringData into data and never stores it.
            data = dict(config.get("data") or {})
            for key, value in config.pop("stringData").items():
                data[key] = base64.b64encode(str(value).encode()).decode()
            config["data"] = data
        self.server.apply(self, resource, namespace, name, config, manager, force == "true", dry_run == "All",
                          validation)

    def watch(self, resource, namespace, name, query):
        selected = self.selectors(query)
        if selected is None:
            return
        labels, fields = selected
        if name:
            by_name = fields
            fields = lambda obj: by_name(obj) and obj["metadata"]["name"] == name  # noqa: E731
        try:
            timeout = float(query.get("timeoutSeconds") or 1800)
        except ValueError:
            return self.send_json(*status(400, "BadRequest", "timeoutSeconds: must be a number"))
        bookmarks = query.get("allowWatchBookmarks") == "true"
        start = query.get("resourceVersion")
        store = self.server.store
        with store.lock:
            # Taken before the request is logged: a drop that follows the log line ends this stream.
            epoch = self.server.watch_epoch
        self.log_request_line(200)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def chunk(event):
            data = (json.dumps(event) + "\n").encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def matches(plural, obj):
            return plural == resource.plural and (namespace is None or obj["metadata"]["namespace"] == namespace) \
                and labels(obj["metadata"].get("labels") or {}) and fields(obj)

        deadline = time.monotonic() + timeout
        with store.lock:
            if start in (None, "", "0"):
                pending = [("ADDED", copy.deepcopy(obj)) for (plural, _, _), obj in sorted(store.objects.items())
                           if matches(plural, obj)]
                last = store.version
            else:
                try:
                    last = int(start)
                except ValueError:
                    last = -1
                if last < store.compacted:
                    expired = status(410, "Expired", f"too old resource version: {start} ({store.compacted + 1})")[1]
                    try:
                        chunk({"type": "ERROR", "object": expired})
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                pending = []
        next_bookmark = time.monotonic() + 1
        try:
            while True:
                for kind, obj in pending:
                    chunk({"type": kind, "object": obj})
                with store.lock:
                    while True:
                        if self.server.watch_epoch != epoch or self.server.stopping:
                            # Dropped: the connection goes without the last chunk, as a broken network leaves it.
                            self.close_connection = True
                            self.connection.shutdown(socket.SHUT_RDWR)
                            return
                        pending = [(kind, obj) for version, plural, kind, obj in store.history
                                   if version > last and matches(plural, obj)]
                        newest = store.history[-1][0] if store.history else last
                        if pending or time.monotonic() >= deadline:
                            break
                        if bookmarks and time.monotonic() >= next_bookmark:
                            break
                        store.lock.wait(timeout=min(0.5, max(0.01, deadline - time.monotonic())))
                    last = max(last, newest)
                if not pending and time.monotonic() >= deadline:
                    if bookmarks:
                        chunk({"type": "BOOKMARK", "object": {"kind": resource.kind, "apiVersion": resource.api_version,
                                                              "metadata": {"resourceVersion": str(last)}}})
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    return
                if bookmarks and time.monotonic() >= next_bookmark:
                    next_bookmark = time.monotonic() + 1
                    if not pending:
                        chunk({"type": "BOOKMARK", "object": {"kind": resource.kind, "apiVersion": resource.api_version,
                                                              "metadata": {"resourceVersion": str(last)}}})
        except OSError:
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, options):
        self.options = options
        self.knative = not options.without_knative
        self.eventing = self.knative and not options.without_eventing
        self.crds = knative_validation.load_crds(options.crds)
        self.store = Store(options.history)
        self.tokens = load_tokens(options.tokens)
        self.roles = load_roles(options.role)
        self.log_lock = threading.Lock()
        self.watch_epoch = 0
        self.stopping = False
        self.controller = Controller(self)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(options.cert, options.key)
        self.context.load_verify_locations(options.client_ca)
        self.context.verify_mode = ssl.CERT_OPTIONAL
        super().__init__(("127.0.0.1", options.port), Handler)

    def finish_request(self, request, client_address):
        # The handshake runs on the request's own thread, so that a silent client stalls no other.
        request.settimeout(30)
        try:
            secure = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        secure.settimeout(None)
        try:
            Handler(secure, client_address, self)
        finally:
            try:
                secure.close()
            except OSError:
                pass

    def serves(self, resource):
        """Whether the cluster has the resource's product installed: core always, Knative's as the flags say."""
        if not resource.knative:
            return True
        return self.eventing if resource.eventing else self.knative

    def apply(self, handler, resource, namespace, name, config, manager, force, dry_run, validation):
        store = self.store
        warnings = []
        probe = knative_validation.validate(config, self.crds) if resource.group else \
            knative_validation.secret_problems(config)
        unknown = [p for p in probe if p.kind == "unknown"]
        if unknown and validation == "Strict":
            fields = ", ".join(f"unknown field \"{p.path}\"" for p in unknown)
            return handler.send_json(*status(400, "BadRequest", f"strict decoding error: {fields}"))
        if unknown:
            if validation == "Warn":
                warnings = [f"299 - \"unknown field \\\"{p.path}\\\"\"" for p in unknown]
            config = knative_validation.prune_unknown(config, self.crds) if resource.group else \
                {key: value for key, value in config.items() if key in knative_validation.SECRET_FIELDS}
        decode = [p for p in probe if p.kind == "decode"]
        if decode:
            return handler.send_json(*status(400, "BadRequest", f"{decode[0].path}: {decode[0].message}"))
        with store.lock:
            live = copy.deepcopy(store.objects.get((resource.plural, namespace, name)))
            if live is not None and config["metadata"].get("resourceVersion") not in (
                    None, live["metadata"]["resourceVersion"]):
                return handler.send_json(*status(409, "Conflict", f"Operation cannot be fulfilled on "
                                                 f"{resource.qualified} \"{name}\": the object has been modified; "
                                                 "please apply your changes to the latest version and try again",
                                                 resource.details(name)))
            if live is None and not handler.allowed("create", resource):
                return handler.send_json(*handler.forbid("create", resource, namespace, name))
            created = live is None
            base = live or {"apiVersion": resource.api_version, "kind": resource.kind,
                            "metadata": {"name": name, "namespace": namespace}}
            managed = {entry["manager"]: entry for entry in base["metadata"].get("managedFields", [])}
            owned = {key: paths_of_fields_v1(entry.get("fieldsV1") or {}) for key, entry in managed.items()}
            applied = apply_fields(config)
            conflicts = []
            for path in sorted(applied):
                value, present = get_path(config, path)
                current, exists = get_path(base, path)
                if exists and current == value:
                    continue
                for other, paths in sorted(owned.items()):
                    if other != manager and exists and owns(paths, path):
                        conflicts.append((other, path))
            if conflicts and not force:
                return handler.send_json(*conflict_status(conflicts, managed, resource, name))
            for other, path in conflicts:
                owned[other] = {p for p in owned[other] if not (path[:len(p)] == p)}
            result = copy.deepcopy(base)
            for path in owned.get(manager, set()) - applied:
                if not any(owns(paths, path) for other, paths in owned.items() if other != manager):
                    remove_path(result, path)
            merge(result, {key: value for key, value in config.items() if key != "status"})
            if resource.plural == "secrets":
                result.setdefault("type", "Opaque")
            result["metadata"].update({"name": name, "namespace": namespace})
            for key in UNTRACKED_METADATA:
                if key not in ("name", "namespace"):
                    result["metadata"].pop(key, None)
                    if live is not None and key in live["metadata"] and key != "managedFields":
                        result["metadata"][key] = live["metadata"][key]
            if resource.plural == "services":
                default_service(result)
                applied |= {path for path in leaves(result.get("spec") or {}, ("spec",))
                            if not any(owns(paths, path) for other, paths in owned.items() if other != manager)
                            and not owns(applied, path)}
            owned[manager] = applied
            stamp = now()
            entries = []
            for key, paths in owned.items():
                if not paths:
                    continue
                if key == manager:
                    entry = {"manager": manager, "operation": "Apply", "apiVersion": resource.api_version,
                             "time": stamp, "fieldsType": "FieldsV1", "fieldsV1": fields_v1(paths)}
                    previous = managed.get(manager)
                    if previous and previous.get("fieldsV1") == entry["fieldsV1"]:
                        entry["time"] = previous["time"]
                else:
                    entry = dict(managed[key], fieldsV1=fields_v1(paths))
                entries.append(entry)
            result["metadata"]["managedFields"] = entries
            problems = knative_validation.validate(result, self.crds, old=live) if resource.group else \
                knative_validation.secret_problems(result, old=live)
            problems = [p for p in problems if p.kind != "unknown"]
            schema = [p for p in problems if p.kind in ("schema", "decode")]
            if schema:
                return handler.send_json(*invalid_status(schema, resource, name))
            denied = [p for p in problems if p.kind == "webhook"]
            if denied:
                webhook = knative_validation.webhook_name(result)
                text = "\n".join(sorted(f"{p.message.splitlines()[0]}: {p.path}" +
                                        "".join(f"\n{line}" for line in p.message.splitlines()[1:])
                                        for p in denied))
                return handler.send_json(*status(400, "BadRequest", f"admission webhook \"{webhook}\" denied the "
                                                 f"request: validation failed: {text}"))
            if live is not None and strip_volatile(result) == strip_volatile(live):
                return handler.send_json(200, live, self.warning_headers(warnings))
            if created:
                result["metadata"]["uid"] = str(uuid.uuid4())
                result["metadata"]["creationTimestamp"] = now()
                if resource.group:
                    result["metadata"]["generation"] = 1
            elif resource.group and spec_of(result) != spec_of(live):
                result["metadata"]["generation"] = live["metadata"].get("generation", 1) + 1
            if resource.group and live is not None and "status" in live:
                result["status"] = live["status"]
            if dry_run:
                if created:
                    result["metadata"].pop("resourceVersion", None)
                return handler.send_json(201 if created else 200, result, self.warning_headers(warnings))
            written = copy.deepcopy(store.write(resource.plural, result))
        handler.send_json(201 if created else 200, written, self.warning_headers(warnings))
        if resource.plural == "services":
            self.controller.kick(namespace, name)

    @staticmethod
    def warning_headers(warnings):
        return {"Warning": ", ".join(warnings)} if warnings else {}


def spec_of(obj):
    """What bumps metadata.generation for a custom resource: anything but metadata and status."""
    return {key: value for key, value in obj.items() if key not in ("metadata", "status")}


def strip_volatile(obj):
    result = copy.deepcopy(obj)
    for entry in result["metadata"].get("managedFields", []):
        entry.pop("time", None)
    result.pop("status", None)
    for key in ("resourceVersion", "generation", "uid", "creationTimestamp"):
        result["metadata"].pop(key, None)
    return result


def default_service(service):
    """What Knative's defaulting webhook adds to a Service, where the types allow it (bad types fail validation)."""
    spec = service.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if not spec.get("traffic"):
        spec["traffic"] = [{"latestRevision": True, "percent": 100}]
    template = spec.get("template")
    pod = template.get("spec") if isinstance(template, dict) else None
    if not isinstance(pod, dict):
        return
    pod.setdefault("timeoutSeconds", 300)
    pod.setdefault("containerConcurrency", 0)
    pod.setdefault("enableServiceLinks", False)
    containers = pod.get("containers")
    if isinstance(containers, list) and len(containers) == 1 and isinstance(containers[0], dict):
        containers[0].setdefault("name", "user-container")


def conflict_status(conflicts, managed, resource, name):
    def manager_text(key):
        entry = managed.get(key, {})
        text = json.dumps(key)
        if entry.get("operation") == "Update":
            text += f" using {entry.get('apiVersion')}"
            if entry.get("time"):
                text += f" at {entry['time']}"
        return text
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {manager_text(m)}",
               "field": path_text(p)} for m, p in conflicts]
    if len(conflicts) == 1:
        message = f"Apply failed with 1 conflict: conflict with {manager_text(conflicts[0][0])}: " \
                  f"{path_text(conflicts[0][1])}"
    else:
        lines = []
        for key in sorted({m for m, _ in conflicts}):
            lines.append(f"conflicts with {manager_text(key)}:")
            lines += [f"- {path_text(p)}" for m, p in conflicts if m == key]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return status(409, "Conflict", message, {"causes": causes})


def invalid_status(problems, resource, name):
    texts = [f"{p.path}: {p.message}" for p in problems]
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details = {"name": name}
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.kind
    details["causes"] = [{"reason": p.reason, "message": p.message, "field": p.path} for p in problems]
    return status(422, "Invalid", f"{resource.kind_qualified} \"{name}\" is invalid: {summary}", details)


def load_tokens(path):
    tokens = {}
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            fields = line.strip().split(",")
            if len(fields) < 2 or not fields[0] or not fields[1]:
                raise SystemExit(f"{path}:{number}: expected token,user[,uid[,groups]]")
            tokens[fields[0]] = fields[1]
    return tokens


def load_roles(entries):
    roles = {}
    for entry in entries:
        user, _, path = entry.partition("=")
        if not user or not path:
            raise SystemExit(f"--role {entry}: expected USER=ROLE.yaml")
        rules = []
        with open(path) as stream:
            for document in yaml.safe_load_all(stream):
                if isinstance(document, dict) and document.get("kind") in ("Role", "ClusterRole"):
                    rules += document.get("rules") or []
        if not rules:
            raise SystemExit(f"--role {entry}: {path} holds no Role with rules")
        roles[user] = rules
    return roles


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--state", required=True, help="a folder for the request log and the revisions' output")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert", required=True, help="the server's certificate (PEM)")
    parser.add_argument("--key", required=True, help="the server's private key (PEM)")
    parser.add_argument("--client-ca", required=True, help="the CA that signs client certificates (PEM)")
    parser.add_argument("--tokens", required=True, help="a static token file: token,user[,uid[,groups]]")
    parser.add_argument("--crds", required=True, help="the folder of Knative CRD YAML files")
    parser.add_argument("--read-only", action="append", default=[], metavar="USER")
    parser.add_argument("--admin", action="append", default=[], metavar="USER",
                        help="users who may call /fixture/… and whose requests are not logged")
    parser.add_argument("--role", action="append", default=[], metavar="USER=ROLE.yaml")
    parser.add_argument("--without-knative", action="store_true")
    parser.add_argument("--without-eventing", action="store_true", help="serve Knative Serving but not Eventing")
    parser.add_argument("--bundle-command", help="an executable started for each revision")
    parser.add_argument("--ready-timeout", type=float, default=30)
    parser.add_argument("--history", type=int, default=500, help="watch events kept for resuming")
    options = parser.parse_args()
    if options.bundle_command and not os.access(options.bundle_command, os.X_OK):
        parser.error(f"--bundle-command {options.bundle_command}: not an executable file")
    os.makedirs(options.state, exist_ok=True)
    server = Server(options)
    print(json.dumps({"port": server.server_address[1]}), flush=True)

    def lifeline():
        sys.stdin.buffer.read()
        server.stopping = True
        with server.store.lock:
            server.store.lock.notify_all()
        server.controller.stop()
        server.shutdown()

    threading.Thread(target=lifeline, daemon=True).start()
    server.serve_forever()
    server.controller.stop()


if __name__ == "__main__":
    main()
