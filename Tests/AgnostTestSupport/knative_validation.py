#!/usr/bin/env python3
"""Validates Kubernetes objects as an API server with Knative installed would, for tests only.

    knative_validation.py --crds DIR FILE...

FILE holds JSON or YAML: one object, a list of them, JSON Lines, or several YAML documents. Exit 0 when every object
would be accepted; 1 with one line per problem (`FILE: KIND NAME: PATH: message`) when one would be refused; 2 for
bad arguments or unreadable files.

As a module, `validate(obj, crds)` returns the problems in the order a real server meets them, each a `Problem`
whose `kind` says how the server answers:

- `unknown`: a field the schema does not know (outside `x-kubernetes-preserve-unknown-fields`), which
  `fieldValidation=Strict` refuses with 400 BadRequest "strict decoding error: unknown field …";
- `decode`: a value that cannot be decoded at all (a Secret's data that is not base64): 400 BadRequest;
- `schema`: a violation of the CRD's openAPIV3Schema or of ObjectMeta's rules: 422 Invalid, one cause each;
- `webhook`: what Knative's validating admission webhook denies (400 BadRequest), checked only for objects that
  pass the schema, as the webhook only ever sees those.

The webhook rules are those of knative/serving's `pkg/apis/serving` (k8s_validation.go, metadata_validation.go,
fieldmask.go), `pkg/apis/serving/v1` and `pkg/apis/autoscaling` with the default `config-features` and
`config-defaults` (max-revision-timeout-seconds 600, container-concurrency-max-limit 1000, multi-container enabled,
every `kubernetes.podspec-*` flag disabled), and a light subset of knative/eventing's for PingSource, Trigger and
Broker (robfig/cron schedules, `ceOverrides`, destinations, and `DeliverySpec` with the default feature flags).
"""
import argparse
import base64
import binascii
import collections
import copy
import json
import os
import re
import sys

import jsonschema
import yaml

Problem = collections.namedtuple("Problem", "path message kind reason", defaults=("FieldValueInvalid",))

# libyaml's loader reads the CRDs ten times faster than the pure-Python one, where it is there.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SERVING_WEBHOOK = "validation.webhook.serving.knative.dev"
EVENTING_WEBHOOK = "validation.webhook.eventing.knative.dev"

OBJECT_META_FIELDS = {
    "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
    "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
    "managedFields",
}
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
CONFIG_MAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")

DNS1035_MESSAGE = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
                   "alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', "
                   "regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
DNS1123_SUBDOMAIN_MESSAGE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
                             "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
                             "regex used for validation is "
                             "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def go_quote(value):
    return json.dumps(value) if isinstance(value, str) else str(value)


# --- CRDs and their schemas ----------------------------------------------------------------------------------------

def load_crds(folder):
    """Maps (apiVersion, kind) to the openAPIV3Schema of every CRD in `folder` (each served version)."""
    crds = {}
    for name in sorted(os.listdir(folder)):
        if not name.endswith((".yaml", ".yml", ".json")):
            continue
        with open(os.path.join(folder, name)) as stream:
            for document in yaml.load_all(stream, Loader=YAML_LOADER):
                if not isinstance(document, dict) or document.get("kind") != "CustomResourceDefinition":
                    continue
                spec = document["spec"]
                for version in spec["versions"]:
                    if version.get("served", True) and "schema" in version:
                        key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                        crds[key] = {"schema": version["schema"]["openAPIV3Schema"], "plural": spec["names"]["plural"],
                                     "scope": spec.get("scope", "Namespaced")}
    return crds


def to_json_schema(schema):
    """The OpenAPI v3 structural schema as JSON Schema: int-or-string and nullable spelled out, the rest as is."""
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {}
    for key, value in schema.items():
        if key in ("properties",):
            result[key] = {name: to_json_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            result[key] = to_json_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            result[key] = [to_json_schema(sub) for sub in value]
        elif key in ("description", "format", "nullable") or key.startswith("x-kubernetes-"):
            continue
        else:
            result[key] = value
    if schema.get("x-kubernetes-int-or-string"):
        result.pop("type", None)
        result.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if schema.get("nullable") and "type" in result:
        result["type"] = [result["type"], "null"]
    return result


def field_path(parts):
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def unknown_fields(value, schema, path=()):
    """Paths of fields the schema does not declare, as a server that prunes them (or refuses them under Strict) sees."""
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found = []
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        for key, sub in value.items():
            if properties is not None and key in properties:
                found += unknown_fields(sub, properties[key], path + (key,))
            elif isinstance(additional, dict):
                found += unknown_fields(sub, additional, path + (key,))
            elif properties is not None or additional is False:
                found.append(path + (key,))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found += unknown_fields(item, schema["items"], path + (index,))
    return found


def prune(value, schema):
    """`value` without its unknown fields, as a server stores it under fieldValidation=Ignore or Warn."""
    if not isinstance(schema, dict) or schema.get("x-kubernetes-preserve-unknown-fields"):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties")
        additional = schema.get("additionalProperties")
        result = {}
        for key, sub in value.items():
            if properties is not None and key in properties:
                result[key] = prune(sub, properties[key])
            elif isinstance(additional, dict):
                result[key] = prune(sub, additional)
            elif properties is None and additional is not False:
                result[key] = sub
        return result
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [prune(item, schema["items"]) for item in value]
    return value


def drop_nulls(value, schema):
    """Nulls in fields that are not nullable are dropped before validation, as the API server prunes them."""
    if isinstance(value, dict):
        properties = (schema or {}).get("properties") or {}
        additional = (schema or {}).get("additionalProperties")
        result = {}
        for key, sub in value.items():
            sub_schema = properties.get(key, additional if isinstance(additional, dict) else None)
            if sub is None and not (sub_schema or {}).get("nullable"):
                continue
            result[key] = drop_nulls(sub, sub_schema)
        return result
    if isinstance(value, list):
        items = (schema or {}).get("items")
        return [drop_nulls(item, items if isinstance(items, dict) else None) for item in value]
    return value


def type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def schema_problems(obj, validator):
    problems = []
    for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        parts = list(error.absolute_path)
        if error.validator == "required":
            missing = re.match(r"'([^']+)' is a required property", error.message)
            parts.append(missing.group(1) if missing else "?")
            problems.append(Problem(field_path(parts), "Required value", "schema", "FieldValueRequired"))
        elif error.validator == "type":
            wanted = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
            path = field_path(parts)
            problems.append(Problem(path, f"Invalid value: \"{type_name(error.instance)}\": {path} in body must be "
                                    f"of type {wanted}: {go_quote(error.instance)}", "schema",
                                    "FieldValueTypeInvalid"))
        elif error.validator == "enum":
            supported = ", ".join(go_quote(v) for v in error.validator_value)
            problems.append(Problem(field_path(parts), f"Unsupported value: {go_quote(error.instance)}: supported "
                                    f"values: {supported}", "schema", "FieldValueNotSupported"))
        elif error.validator == "anyOf" and all(set(s) == {"type"} for s in error.validator_value):
            path = field_path(parts)
            wanted = " or ".join(s["type"] for s in error.validator_value)
            problems.append(Problem(path, f"Invalid value: \"{type_name(error.instance)}\": {path} in body must be "
                                    f"of type {wanted}: {go_quote(error.instance)}", "schema",
                                    "FieldValueTypeInvalid"))
        elif error.validator == "pattern":
            path = field_path(parts)
            problems.append(Problem(path, f"Invalid value: {go_quote(error.instance)}: {path} in body should match "
                                    f"'{error.validator_value}'", "schema"))
        else:
            path = field_path(parts)
            problems.append(Problem(path, f"Invalid value: {go_quote(error.instance)}: {path} in body "
                                    f"{error.message}", "schema"))
    return problems


# --- ObjectMeta ----------------------------------------------------------------------------------------------------

def qualified_name_problems(key, path):
    problems = []
    prefix, slash, name = key.rpartition("/")
    if slash:
        if not prefix or len(prefix) > 253 or not DNS1123_SUBDOMAIN.match(prefix):
            problems.append(f"prefix part {DNS1123_SUBDOMAIN_MESSAGE}")
    else:
        name = key
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part must be no more than 63 characters")
    elif not QUALIFIED_NAME.match(name):
        problems.append("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                        "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
    return [Problem(path, f"Invalid value: {go_quote(key)}: {message}", "schema") for message in problems]


def metadata_problems(meta, path):
    """ObjectMeta as the API server checks it: name, labels and annotations (string to string, key syntax)."""
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return [Problem(path, f"Invalid value: \"{type_name(meta)}\": {path} in body must be of type object", "schema",
                        "FieldValueTypeInvalid")]
    problems = [Problem(f"{path}.{key}", f"unknown field \"{path}.{key}\"", "unknown", "FieldValueInvalid")
                for key in meta if key not in OBJECT_META_FIELDS]
    name = meta.get("name")
    if name is None and not meta.get("generateName"):
        problems.append(Problem(f"{path}.name", "Required value: name or generateName is required", "schema",
                                "FieldValueRequired"))
    elif name is not None:
        if not isinstance(name, str):
            problems.append(Problem(f"{path}.name", f"Invalid value: \"{type_name(name)}\": {path}.name in body must "
                                    "be of type string", "schema", "FieldValueTypeInvalid"))
        elif len(name) > 253 or not DNS1123_SUBDOMAIN.match(name):
            problems.append(Problem(f"{path}.name", f"Invalid value: {go_quote(name)}: "
                                    + ("must be no more than 253 characters" if len(name) > 253
                                       else DNS1123_SUBDOMAIN_MESSAGE), "schema"))
    for field in ("labels", "annotations"):
        entries = meta.get(field)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            problems.append(Problem(f"{path}.{field}", f"Invalid value: \"{type_name(entries)}\": {path}.{field} in "
                                    "body must be of type object", "schema", "FieldValueTypeInvalid"))
            continue
        for key, value in entries.items():
            problems += qualified_name_problems(key, f"{path}.{field}")
            if not isinstance(value, str):
                problems.append(Problem(f"{path}.{field}.{key}", f"Invalid value: \"{type_name(value)}\": "
                                        f"{path}.{field}.{key} in body must be of type string", "schema",
                                        "FieldValueTypeInvalid"))
            elif field == "labels" and (len(value) > 63 or not LABEL_VALUE.match(value)):
                problems.append(Problem(f"{path}.{field}", f"Invalid value: {go_quote(value)}: a valid label must "
                                        "be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                                        "and must start and end with an alphanumeric character, and be no more than "
                                        "63 characters", "schema"))
    return problems


# --- Core v1 Secret ------------------------------------------------------------------------------------------------

SECRET_FIELDS = {"apiVersion", "kind", "metadata", "data", "stringData", "type", "immutable"}
SECRET_REQUIRED_KEYS = {
    "kubernetes.io/tls": ["tls.crt", "tls.key"],
    "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
    "kubernetes.io/dockercfg": [".dockercfg"],
    "kubernetes.io/basic-auth": [],
    "kubernetes.io/ssh-auth": ["ssh-privatekey"],
}


def secret_problems(obj, old=None):
    problems = [Problem(key, f"unknown field \"{key}\"", "unknown") for key in obj if key not in SECRET_FIELDS]
    problems += metadata_problems(obj.get("metadata"), "metadata")
    keys = set()
    for field in ("data", "stringData"):
        entries = obj.get(field)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            problems.append(Problem(field, f"Invalid value: \"{type_name(entries)}\": {field} must be an object "
                                    "of strings", "decode", "FieldValueTypeInvalid"))
            continue
        for key, value in entries.items():
            keys.add(key)
            if len(key) > 253 or not CONFIG_MAP_KEY.match(key):
                problems.append(Problem(f"{field}[{key}]", f"Invalid value: {go_quote(key)}: a valid config key must "
                                        "consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
                                        "'KEY_NAME',  or 'key-name', regex used for validation is "
                                        "'[-._a-zA-Z0-9]+')", "schema"))
            if not isinstance(value, str):
                problems.append(Problem(f"{field}[{key}]", f"json: cannot unmarshal {type_name(value)} into Go "
                                        "struct field Secret." + field + " of type "
                                        + ("[]uint8" if field == "data" else "string"), "decode"))
            elif field == "data":
                try:
                    base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    problems.append(Problem(f"{field}[{key}]", "illegal base64 data in Secret.data", "decode"))
    kind = obj.get("type", "Opaque")
    if not isinstance(kind, str):
        problems.append(Problem("type", f"Invalid value: \"{type_name(kind)}\": type must be a string", "decode"))
    else:
        for key in SECRET_REQUIRED_KEYS.get(kind, []):
            if key not in keys:
                problems.append(Problem(f"data[{key}]", "Required value", "schema", "FieldValueRequired"))
    if "immutable" in obj and not isinstance(obj["immutable"], bool):
        problems.append(Problem("immutable", "json: cannot unmarshal into Go struct field Secret.immutable of type "
                                "bool", "decode"))
    if old is not None:
        if old.get("type", "Opaque") != kind:
            problems.append(Problem("type", f"Invalid value: {go_quote(kind)}: field is immutable", "schema"))
        if old.get("immutable"):
            if obj.get("data") != old.get("data") or obj.get("stringData"):
                problems.append(Problem("data", "Forbidden: field is immutable when `immutable` is set", "schema",
                                        "FieldValueForbidden"))
            if not obj.get("immutable"):
                problems.append(Problem("immutable", "Forbidden: field is immutable when `immutable` is set",
                                        "schema", "FieldValueForbidden"))
    return problems


# --- Knative Serving's webhook -------------------------------------------------------------------------------------

RESERVED_ENV = {"PORT", "K_SERVICE", "K_CONFIGURATION", "K_REVISION"}
RESERVED_PORTS = {8012, 8013, 8022, 9090, 9091, 8008}
VALID_PORT_NAMES = {"h2c", "http1", ""}
# RevisionSpec's own fields, then what PodSpecMask keeps with every `kubernetes.podspec-*` flag off.
POD_SPEC_ALLOWED = {"containerConcurrency", "timeoutSeconds", "responseStartTimeoutSeconds", "idleTimeoutSeconds",
                    "serviceAccountName", "containers", "volumes", "imagePullSecrets", "enableServiceLinks"}
CONTAINER_ALLOWED = {"name", "args", "command", "env", "workingDir", "envFrom", "image", "imagePullPolicy",
                     "livenessProbe", "ports", "readinessProbe", "resources", "securityContext", "startupProbe",
                     "terminationMessagePath", "terminationMessagePolicy", "volumeMounts"}
SECURITY_CONTEXT_ALLOWED = {"capabilities", "readOnlyRootFilesystem", "runAsUser", "runAsGroup", "runAsNonRoot",
                            "allowPrivilegeEscalation", "seccompProfile"}
PROBE_ALLOWED = {"initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold",
                 "httpGet", "tcpSocket", "exec", "grpc"}
PORT_ALLOWED = {"containerPort", "name", "protocol"}
ENV_ALLOWED = {"name", "value", "valueFrom"}
ENV_SOURCE_ALLOWED = {"configMapKeyRef", "secretKeyRef"}
AUTOSCALING = "autoscaling.knative.dev"
MIN_SCALE = ("autoscaling.knative.dev/min-scale", "autoscaling.knative.dev/minScale")
MAX_SCALE = ("autoscaling.knative.dev/max-scale", "autoscaling.knative.dev/maxScale")
MAX_REVISION_TIMEOUT = 600
MAX_CONTAINER_CONCURRENCY = 1000
INT32_MAX = 2**31 - 1


def webhook(path, message, details=None):
    return Problem(path, message + (f"\n{details}" if details else ""), "webhook", "webhook")


def disallowed(value, allowed, path):
    """What Knative's field masks refuse: `must not set the field(s)` for every field outside the mask."""
    if not isinstance(value, dict):
        return []
    extra = sorted(key for key in value if key not in allowed)
    if not extra:
        return []
    return [webhook(", ".join(f"{path}.{key}" for key in extra), "must not set the field(s)")]


def dns1035_messages(name):
    messages = []
    if len(name) > 63:
        messages.append("must be no more than 63 characters")
    if not DNS1035_LABEL.match(name):
        messages.append(DNS1035_MESSAGE)
    return messages


def annotation_value(annotations, keys):
    for key in keys:
        if key in annotations:
            return key, annotations[key]
    return None, None


def int_ge0(annotations, keys, path):
    key, value = annotation_value(annotations, keys)
    if key is None:
        return 0, []
    try:
        number = int(value, 10)
    except (TypeError, ValueError):
        return 0, [webhook(f"{path}.{key}", f"invalid value: {value}")]
    if number < 0 or number > INT32_MAX:
        return 0, [webhook(f"{path}.{key}", f"expected 0 <= {value} <= {INT32_MAX}")]
    return number, []


def autoscaling_problems(annotations, path):
    if not isinstance(annotations, dict):
        return []
    minimum, problems = int_ge0(annotations, MIN_SCALE, path)
    maximum, more = int_ge0(annotations, MAX_SCALE, path)
    problems += more
    if maximum != 0 and maximum < minimum:
        problems.append(webhook(f"{path}.{MAX_SCALE[0]}, {path}.{MIN_SCALE[0]}",
                                f"max-scale={maximum} is less than min-scale={minimum}"))
    for key in ("autoscaling.knative.dev/target",):
        if key in annotations:
            try:
                if float(annotations[key]) < 0.01:
                    problems.append(webhook(f"{path}.{key}", f"target {annotations[key]} should be at least 0.01"))
            except ValueError:
                problems.append(webhook(f"{path}.{key}", f"invalid value: {annotations[key]}"))
    key = "autoscaling.knative.dev/target-utilization-percentage"
    if key in annotations:
        try:
            if not 1 <= float(annotations[key]) <= 100:
                problems.append(webhook(f"{path}.{key}", f"expected 1 <= {annotations[key]} <= 100"))
        except ValueError:
            problems.append(webhook(f"{path}.{key}", f"invalid value: {annotations[key]}"))
    key = "autoscaling.knative.dev/class"
    value = annotations.get(key)
    if isinstance(value, str) and value.endswith(AUTOSCALING) and value not in (
            "kpa.autoscaling.knative.dev", "hpa.autoscaling.knative.dev"):
        problems.append(webhook(f"{path}.{key}", f"invalid value: {value}"))
    key = "autoscaling.knative.dev/metric"
    if key in annotations:
        klass = annotations.get("autoscaling.knative.dev/class", "kpa.autoscaling.knative.dev")
        if klass == "kpa.autoscaling.knative.dev" and annotations[key] not in ("concurrency", "rps"):
            problems.append(webhook(f"{path}.{key}", f"invalid value: {annotations[key]}"))
    key = "autoscaling.knative.dev/initial-scale"
    if key in annotations:
        try:
            if int(annotations[key]) < 0:
                problems.append(webhook(f"{path}.{key} must be greater than 0", f"invalid value: {annotations[key]}"))
        except ValueError:
            problems.append(webhook(f"{path}.{key}", f"invalid value: {annotations[key]}"))
    return problems


def probe_problems(probe, port, path, readiness):
    if not isinstance(probe, dict):
        return []
    problems = disallowed(probe, PROBE_ALLOWED, path)
    handlers = [name for name in ("httpGet", "tcpSocket", "exec", "grpc") if probe.get(name) is not None]
    for name in ("httpGet", "tcpSocket"):
        handler = probe.get(name)
        if isinstance(handler, dict):
            probe_port = handler.get("port")
            if isinstance(probe_port, str) and probe_port != port["name"]:
                problems.append(webhook(f"{path}.{name}.port", f"invalid value: {probe_port}",
                                        "Probe port must match container port"))
    if not handlers:
        problems.append(webhook(", ".join(f"{path}.{h}" for h in ("exec", "grpc", "httpGet", "tcpSocket")),
                                "expected exactly one, got neither"))
    elif len(handlers) > 1:
        problems.append(webhook(", ".join(f"{path}.{h}" for h in sorted(handlers)), "expected exactly one, got both"))
    if readiness:
        period = probe.get("periodSeconds", 0)
        for field, low in (("periodSeconds", 0), ("initialDelaySeconds", 0)):
            if probe.get(field, 0) < low:
                problems.append(webhook(f"{path}.{field}", f"expected {low} <= {probe[field]} <= {INT32_MAX}"))
        if probe.get("successThreshold", 1) < 1:
            problems.append(webhook(f"{path}.successThreshold",
                                    f"expected 1 <= {probe['successThreshold']} <= {INT32_MAX}"))
        if period == 0:
            for field in ("failureThreshold", "timeoutSeconds"):
                if probe.get(field, 0) != 0:
                    problems.append(webhook(f"{path}.{field}", f"{field} is disallowed when periodSeconds is zero"))
        else:
            for field, default in (("timeoutSeconds", 1), ("failureThreshold", 3)):
                if probe.get(field, default) < 1:
                    problems.append(webhook(f"{path}.{field}", f"expected 1 <= {probe[field]} <= {INT32_MAX}"))
    return problems


def container_problems(container, port, path):
    if not container:
        return [webhook(path, "missing field(s)")]
    problems = disallowed(container, CONTAINER_ALLOWED, path)
    if container.get("name") == "queue-proxy":
        problems.append(webhook(f"{path}.name", "\"queue-proxy\" is a reserved container name"))
    for index, env in enumerate(container.get("env") or []):
        env_path = f"{path}.env[{index}]"
        problems += disallowed(env, ENV_ALLOWED, env_path)
        if not env.get("name"):
            problems.append(webhook(f"{env_path}.name", "missing field(s)"))
        elif env["name"] in RESERVED_ENV:
            problems.append(webhook(f"{env_path}.name", f"\"{env['name']}\" is a reserved environment variable"))
        problems += disallowed(env.get("valueFrom"), ENV_SOURCE_ALLOWED, f"{env_path}.valueFrom")
    if not container.get("image"):
        problems.append(webhook(f"{path}.image", "missing field(s)"))
    elif not re.match(r"^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]+[a-z0-9]+)*)*"
                      r"(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$", container["image"]):
        problems.append(webhook(f"{path}.image", "Failed to parse image reference",
                                f"image: {go_quote(container['image'])}"))
    ports = container.get("ports") or []
    if len(ports) > 1:
        problems.append(webhook(f"{path}.ports", "more than one container port is set",
                                "Only a single port is allowed"))
    if ports:
        user_port = ports[0]
        problems += disallowed(user_port, PORT_ALLOWED, f"{path}.ports[0]")
        number = user_port.get("containerPort", 0)
        if number in RESERVED_PORTS:
            problems.append(webhook(f"{path}.ports[0].containerPort", f"invalid value: {number} is a reserved port",
                                    f"{number} is a reserved port, please use a different value"))
        if not 0 <= number <= 65535:
            problems.append(webhook(f"{path}.ports[0].containerPort", f"expected 0 <= {number} <= 65535"))
        if user_port.get("protocol", "TCP") != "TCP":
            problems.append(webhook(f"{path}.ports[0].protocol", f"invalid value: {user_port['protocol']}"))
        if user_port.get("name", "") not in VALID_PORT_NAMES:
            problems.append(webhook(f"{path}.ports[0]", f"Port name {user_port['name']} is not allowed",
                                    "Name must be empty, or one of: 'h2c', 'http1'"))
    for field, readiness in (("livenessProbe", False), ("readinessProbe", True), ("startupProbe", False)):
        problems += probe_problems(container.get(field), port, f"{path}.{field}", readiness)
    context = container.get("securityContext")
    if isinstance(context, dict):
        allowed = set(SECURITY_CONTEXT_ALLOWED)
        if context.get("privileged") is False:
            allowed.add("privileged")
        problems += disallowed(context, allowed, f"{path}.securityContext")
        capabilities = context.get("capabilities")
        if isinstance(capabilities, dict):
            problems += disallowed(capabilities, {"drop"}, f"{path}.securityContext.capabilities")
        for field, low in (("runAsUser", 0), ("runAsGroup", 0)):
            value = context.get(field)
            if isinstance(value, int) and not low <= value <= INT32_MAX:
                problems.append(webhook(f"{path}.securityContext.{field}", f"expected {low} <= {value} <= {INT32_MAX}"))
    policy = container.get("terminationMessagePolicy", "")
    if policy not in ("File", "FallbackToLogsOnError", ""):
        problems.append(webhook(f"{path}.terminationMessagePolicy", f"invalid value: {policy}"))
    return problems


def pod_spec_problems(spec, path):
    # Only `automountServiceAccountToken: false` passes the mask.
    allowed = POD_SPEC_ALLOWED | ({"automountServiceAccountToken"}
                                  if spec.get("automountServiceAccountToken") is False else set())
    problems = disallowed(spec, allowed, path)
    containers = spec.get("containers") or []
    with_ports = [c for c in containers if c.get("ports")]
    count = sum(len(c["ports"]) for c in with_ports)
    port = dict(with_ports[-1]["ports"][0]) if with_ports else {}
    port.setdefault("name", "http")
    port["name"] = port["name"] or "http"
    if count == 0 and len(containers) > 1:
        problems.append(webhook(f"{path}.containers[*].ports", "missing field(s)"))
    if count > 1:
        problems.append(webhook(f"{path}.containers[*].ports", "more than one container port is set",
                                "Only a single port is allowed across all containers"))
    if not containers:
        problems.append(webhook(f"{path}.containers", "missing field(s)"))
    names = set()
    for index, container in enumerate(containers):
        container_path = f"{path}.containers[{index}]"
        if len(containers) > 1:
            if container.get("name", "") in names:
                problems.append(webhook(f"{container_path}.name",
                                        f"duplicate container name {go_quote(container.get('name', ''))}"))
            names.add(container.get("name", ""))
        if len(containers) > 1 and not container.get("ports"):
            sidecar = container_problems(container, port, container_path)
            problems += [p for p in sidecar if not p.message.startswith("\"PORT\"")]
        else:
            problems += container_problems(container, port, container_path)
    account = spec.get("serviceAccountName")
    if account and (len(account) > 253 or not DNS1123_SUBDOMAIN.match(account)):
        problems.append(webhook(f"{path}.serviceAccountName", f"invalid value: {account}"))
    return problems


def revision_spec_problems(spec, path):
    problems = pod_spec_problems(spec, path)
    timeout = spec.get("timeoutSeconds")
    if isinstance(timeout, int) and timeout != 0 and not 0 <= timeout <= MAX_REVISION_TIMEOUT:
        problems.append(webhook(f"{path}.timeoutSeconds", f"expected 0 <= {timeout} <= {MAX_REVISION_TIMEOUT}"))
    concurrency = spec.get("containerConcurrency")
    if isinstance(concurrency, int) and not 0 <= concurrency <= MAX_CONTAINER_CONCURRENCY:
        problems.append(webhook(f"{path}.containerConcurrency",
                                f"expected 0 <= {concurrency} <= {MAX_CONTAINER_CONCURRENCY}"))
    return problems


def knative_object_meta_problems(meta, path, allow_autoscaling):
    """knative.dev/pkg's ValidateObjectMetadata (a DNS-1035 name) and the autoscaling-annotation placement rule."""
    problems = []
    name = meta.get("name", "")
    if meta.get("generateName") and dns1035_messages(meta["generateName"].rstrip("-") or "x"):
        problems.append(webhook(f"{path}.generateName", "not a DNS 1035 label prefix: "
                                f"[{' '.join(dns1035_messages(meta['generateName']))}]"))
    if name and dns1035_messages(name):
        problems.append(webhook(f"{path}.name", f"not a DNS 1035 label: [{' '.join(dns1035_messages(name))}]"))
    annotations = meta.get("annotations") or {}
    if allow_autoscaling:
        problems += autoscaling_problems(annotations, f"{path}.annotations")
    else:
        for key in sorted(annotations):
            if key.startswith(AUTOSCALING):
                problems.append(webhook(f"{path}.annotations", f"invalid key name {go_quote(key)}",
                                        'autoscaling annotations must be put under '
                                        '"spec.template.metadata.annotations" to work'))
    return problems


def template_problems(template, parent, path):
    problems = revision_spec_problems(template.get("spec") or {}, f"{path}.spec")
    meta = template.get("metadata") or {}
    unknown = sorted(key for key in meta if key not in OBJECT_META_FIELDS)
    if unknown:
        # The webhook decodes the template's metadata as ObjectMeta, refusing what ObjectMeta lacks.
        problems.append(webhook(f"{path}.metadata", f"cannot decode incoming new object: json: unknown field "
                                f"{go_quote(unknown[0])}"))
    problems += autoscaling_problems(meta.get("annotations") or {}, f"{path}.metadata.annotations")
    name = meta.get("name", "")
    if meta.get("generateName") and dns1035_messages(meta["generateName"].rstrip("-") or "x"):
        problems.append(webhook(f"{path}.metadata.generateName", "invalid value: not a DNS 1035 label prefix: "
                                f"[{' '.join(dns1035_messages(meta['generateName']))}]"))
    if name:
        messages = dns1035_messages(name)
        if messages:
            problems.append(webhook(f"{path}.metadata.name",
                                    f"invalid value: not a DNS 1035 label: [{' '.join(messages)}]"))
        elif not parent.get("name") and parent.get("generateName"):
            problems.append(webhook(f"{path}.metadata.name", "must not set the field(s)"))
        elif not name.startswith(parent.get("name", "") + "-"):
            problems.append(webhook(f"{path}.metadata.name", f"invalid value: {go_quote(name)} must have prefix "
                                    f"{go_quote(parent.get('name', '') + '-')}"))
    return problems


def traffic_problems(traffic, path):
    if not traffic:
        return []  # The defaulting webhook, which runs first, sets 100% to the latest revision.
    problems = []
    total = 0
    tags = {}
    for index, target in enumerate(traffic):
        target_path = f"{path}[{index}]"
        latest = target.get("latestRevision")
        revision = target.get("revisionName", "")
        if latest is not None and (revision != "") == latest:
            problems.append(webhook(f"{target_path}.latestRevision",
                                    f"may not set revisionName {go_quote(revision)} when latestRevision is "
                                    f"{str(latest).lower()}"))
        if target.get("configurationName"):
            problems.append(webhook(f"{target_path}.configurationName", "must not set the field(s)"))
        elif revision and (len(revision) > 63 or not QUALIFIED_NAME.match(revision)):
            problems.append(webhook(f"{target_path}.revisionName", f"invalid key name {go_quote(revision)}"))
        percent = target.get("percent")
        if percent is not None:
            total += percent
            if not 0 <= percent <= 100:
                problems.append(webhook(f"{target_path}.percent", f"expected 0 <= {percent} <= 100"))
        if target.get("url"):
            problems.append(webhook(f"{target_path}.url", "must not set the field(s)"))
        tag = target.get("tag", "")
        if tag:
            messages = dns1035_messages(tag)
            if messages:
                problems.append(webhook(f"{path}[{index}].tag", f"invalid value: not a DNS 1035 label: "
                                        f"[{' '.join(messages)}]"))
            if tag in tags:
                problems.append(webhook(f"{path}[{index}].tag, {path}[{tags[tag]}].tag",
                                        f"Multiple definitions for {go_quote(tag)}"))
            else:
                tags[tag] = index
    if total != 100:
        problems.append(webhook(path, f"Traffic targets sum to {total}, want 100"))
    return problems


def service_problems(obj, old=None):
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    problems = knative_object_meta_problems(meta, "metadata", allow_autoscaling=False)
    template = spec.get("template") or {}
    problems += template_problems(template, meta, "spec.template")
    problems += traffic_problems(spec.get("traffic"), "spec.traffic")
    if old is not None:
        old_template = (old.get("spec") or {}).get("template") or {}
        name = (template.get("metadata") or {}).get("name")
        if name and name == (old_template.get("metadata") or {}).get("name") and template != old_template:
            problems.append(webhook("spec.template.metadata.name",
                                    "Saw the following changes without a name change (-old +new)"))
    return problems


def revision_problems(obj, old=None):
    meta = obj.get("metadata") or {}
    problems = knative_object_meta_problems(meta, "metadata", allow_autoscaling=True)
    if old is not None and old.get("spec") != obj.get("spec"):
        return problems + [webhook("spec", "Immutable fields changed (-old +new)")]
    return problems + revision_spec_problems(obj.get("spec") or {}, "spec")


# --- Knative Eventing's webhook (light) ----------------------------------------------------------------------------

# robfig/cron's bounds: day-of-week is 0-6, and 7 (Sunday to many other crons) does not parse.
CRON_FIELDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
CRON_NAMES = {3: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
              4: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]}


def cron_is_valid(schedule):
    """robfig/cron with optional seconds and descriptors, as PingSource parses its schedule (without @every)."""
    schedule = re.sub(r"^(CRON_TZ|TZ)=\S+\s+", "", schedule.strip())
    if schedule in ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"):
        return True
    fields = schedule.split()
    if len(fields) == 6:
        seconds = fields.pop(0)
        if not cron_field_is_valid(seconds, 0, 59, []):
            return False
    if len(fields) != 5:
        return False
    return all(cron_field_is_valid(field, low, high, CRON_NAMES.get(index, []))
               for index, (field, (low, high)) in enumerate(zip(fields, CRON_FIELDS)))


def cron_field_is_valid(field, low, high, names):
    for part in field.split(","):
        span, slash, step = part.partition("/")
        if slash and not (step.isdigit() and int(step) > 0):
            return False
        if span in ("*", "?"):
            continue
        bounds = span.split("-")
        if len(bounds) > 2:
            return False
        for bound in bounds:
            if bound.upper() in names:
                continue
            if not bound.isdigit() or not low <= int(bound) <= high:
                return False
    return True


def destination_problems(destination, path):
    """knative.dev/pkg's ValidateDestination: a ref (apiVersion, kind, name) or an absolute URI, not both."""
    destination = destination if isinstance(destination, dict) else {}
    ref, uri = destination.get("ref"), destination.get("uri")
    absolute = isinstance(uri, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]+", uri)
    if ref is None and uri is None:
        return [webhook(f"{path}.ref, {path}.uri", "expected at least one, got none")]
    if ref is not None and absolute:
        return [webhook(f"{path}.[apiVersion, kind, name], {path}.ref, {path}.uri",
                        "Absolute URI is not allowed when Ref or [apiVersion, kind, name] is present")]
    if ref is None and not absolute:
        return [webhook(f"{path}.uri", "invalid value: Relative URI is not allowed when Ref and [apiVersion, kind, "
                        "name] is absent")]
    if ref is not None:
        missing = [f"{path}.ref.{field}" for field in ("apiVersion", "kind", "name") if not ref.get(field)]
        if missing:
            return [webhook(", ".join(missing), "missing field(s)")]
    return []


# ISO-8601 durations as knative's period.Parse reads them: PT1S, P1DT2H, PT0.5S; at least one component.
ISO8601_DURATION = re.compile(r"^[-+]?P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?$")
DELIVERY_FIELDS = {"deadLetterSink", "retry", "timeout", "backoffPolicy", "backoffDelay", "retryAfterMax", "format"}


def delivery_problems(delivery, path):
    """knative/eventing's DeliverySpec.Validate with the default features (delivery-timeout and
    delivery-retryafter disabled); the webhook decodes strictly, so fields the type lacks are refused too."""
    if delivery is None:
        return []
    if not isinstance(delivery, dict):
        return [webhook(path, "invalid value: not an object")]
    problems = []
    for key in sorted(set(delivery) - DELIVERY_FIELDS):
        problems.append(webhook(path, f"json: unknown field {go_quote(key)}"))
    if delivery.get("deadLetterSink") is not None:
        problems += destination_problems(delivery["deadLetterSink"], f"{path}.deadLetterSink")
    retry = delivery.get("retry")
    if retry is not None and (not isinstance(retry, int) or isinstance(retry, bool) or retry < 0):
        problems.append(webhook(f"{path}.retry", f"invalid value: {retry}"))
    for flagged in ("timeout", "retryAfterMax"):
        if delivery.get(flagged) is not None:
            problems.append(webhook(f"{path}.{flagged}", "must not set the field(s)"))
    policy = delivery.get("backoffPolicy")
    if policy is not None and policy not in ("exponential", "linear"):
        problems.append(webhook(f"{path}.backoffPolicy", f"invalid value: {policy}"))
    backoff = delivery.get("backoffDelay")
    if backoff is not None and not (isinstance(backoff, str) and ISO8601_DURATION.match(backoff)):
        problems.append(webhook(f"{path}.backoffDelay", f"invalid value: {backoff}"))
    return problems


def ce_overrides_problems(overrides, path):
    """CloudEventOverrides.Validate: extension names of lowercase letters and digits, values strings."""
    if overrides is None:
        return []
    problems = []
    for key, value in sorted(((overrides or {}).get("extensions") or {}).items()):
        if not key:
            problems.append(webhook(f"{path}.extensions", "invalid key name \"\"", "keys MUST NOT be empty"))
        elif not re.match(r"^[a-z0-9]+$", key):
            problems.append(webhook(f"{path}.extensions", f"invalid key name {go_quote(key)}",
                                    "keys are expected to be alphanumeric"))
        if not isinstance(value, str):
            problems.append(webhook(f"{path}.extensions.{key}", "json: cannot unmarshal into Go struct field "
                                    "CloudEventOverrides.extensions of type string"))
    return problems


def ping_source_problems(obj, old=None):
    spec = obj.get("spec") or {}
    problems = []
    problems += ce_overrides_problems(spec.get("ceOverrides"), "spec.ceOverrides")
    schedule = spec.get("schedule", "")
    if "@every" in schedule:
        problems.append(webhook("spec.schedule", "invalid value: unsupported descriptor @every"))
    elif not cron_is_valid(schedule):
        problems.append(webhook("spec.schedule", f"invalid value: the schedule {go_quote(schedule)} does not parse"))
    timezone = spec.get("timezone")
    if timezone and not os.path.exists(os.path.join("/usr/share/zoneinfo", timezone)):
        problems.append(webhook("spec.timezone", f"invalid value: provided bad location {timezone}: unknown time "
                                "zone " + timezone))
    problems += destination_problems(spec.get("sink"), "spec.sink")
    json_content = spec.get("contentType") == "application/json"
    if spec.get("data") and spec.get("dataBase64"):
        problems.append(webhook("spec.data, spec.dataBase64", "expected exactly one, got both"))
    elif spec.get("dataBase64"):
        try:
            decoded = base64.b64decode(spec["dataBase64"], validate=True)
            if json_content and not isinstance(json.loads(decoded), dict):
                raise ValueError("not a JSON object")
        except (binascii.Error, ValueError) as error:
            problems.append(webhook("spec.dataBase64", f"invalid value: {error}"))
    elif spec.get("data") and json_content:
        try:
            if not isinstance(json.loads(spec["data"]), dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            problems.append(webhook("spec.data", f"invalid value: {error}"))
    return problems


def trigger_problems(obj, old=None):
    spec = obj.get("spec") or {}
    problems = []
    broker, broker_ref = spec.get("broker"), spec.get("brokerRef")
    if not broker and broker_ref is None:
        problems.append(webhook("spec.broker", "missing field(s)"))
    elif broker and broker_ref is not None:
        problems.append(webhook("spec.broker, spec.brokerRef", "expected exactly one, got both"))
    if isinstance(broker_ref, dict) and broker_ref.get("namespace"):
        problems.append(webhook("spec.brokerRef.namespace", "must not set the field(s)",
                                "only name, apiVersion and kind are supported fields when "
                                "feature.CrossNamespaceEventLinks is disabled"))
    attributes = (spec.get("filter") or {}).get("attributes") or {}
    for key in sorted(attributes):
        if not re.match(r"^[a-z][a-z0-9]*$", key):
            problems.append(webhook(f"spec.filter.attributes[{key}]", f"invalid key name {go_quote(key)}",
                                    "Attribute name must start with a letter and can only contain lowercase "
                                    "alphanumeric"))
    problems += destination_problems(spec.get("subscriber"), "spec.subscriber")
    problems += delivery_problems(spec.get("delivery"), "spec.delivery")
    if old is not None and (old.get("spec") or {}).get("broker") != spec.get("broker"):
        problems.append(webhook("broker, spec", "Immutable fields changed (-old +new)"))
    return problems


BROKER_CLASS = "eventing.knative.dev/broker.class"


def broker_problems(obj, old=None):
    """BrokerSpec.Validate, lightly: a config reference names apiVersion, kind and name; the delivery is a valid
    DeliverySpec; the broker class annotation never changes."""
    spec = obj.get("spec") or {}
    problems = []
    config = spec.get("config")
    if config is not None:
        missing = [f"spec.config.{field}" for field in ("apiVersion", "kind", "name") if not config.get(field)]
        if missing:
            problems.append(webhook(", ".join(missing), "missing field(s)"))
    problems += delivery_problems(spec.get("delivery"), "spec.delivery")
    if old is not None:
        before = ((old.get("metadata") or {}).get("annotations") or {}).get(BROKER_CLASS)
        after = ((obj.get("metadata") or {}).get("annotations") or {}).get(BROKER_CLASS)
        if before != after:
            problems.append(webhook(f"metadata.annotations[{BROKER_CLASS}]", "Immutable fields changed (-old +new)"))
    return problems


WEBHOOKS = {
    ("serving.knative.dev/v1", "Service"): (SERVING_WEBHOOK, service_problems),
    ("serving.knative.dev/v1", "Revision"): (SERVING_WEBHOOK, revision_problems),
    ("sources.knative.dev/v1", "PingSource"): (EVENTING_WEBHOOK, ping_source_problems),
    ("eventing.knative.dev/v1", "Trigger"): (EVENTING_WEBHOOK, trigger_problems),
    ("eventing.knative.dev/v1", "Broker"): (EVENTING_WEBHOOK, broker_problems),
}


def webhook_name(obj):
    entry = WEBHOOKS.get((obj.get("apiVersion"), obj.get("kind")))
    return entry[0] if entry else None


# --- The whole check -----------------------------------------------------------------------------------------------

def validate(obj, crds, old=None):
    """The problems a real API server with Knative's webhooks finds in `obj` (`old`: the stored object, on update)."""
    if not isinstance(obj, dict):
        return [Problem("", f"Object 'Kind' is missing in {json.dumps(obj)[:80]}", "decode")]
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not api_version or not kind:
        return [Problem("apiVersion" if not api_version else "kind", "Object 'Kind' is missing or 'apiVersion' is "
                        "missing: both are required", "decode", "FieldValueRequired")]
    if (api_version, kind) == ("v1", "Secret"):
        return secret_problems(obj, old)
    crd = crds.get((api_version, kind))
    if crd is None:
        return [Problem("kind", f"no matches for kind {go_quote(kind)} in version {go_quote(api_version)}",
                        "decode")]
    schema = crd["schema"]
    obj = drop_nulls(obj, schema)
    problems = []
    root = {key: value for key, value in obj.items() if key not in ("apiVersion", "kind", "metadata")}
    if "validator" not in crd:
        # metadata is checked as ObjectMeta, by hand; the rest of the schema once compiled, for every object.
        crd["root"] = dict(schema, properties={key: value for key, value in (schema.get("properties") or {}).items()
                                               if key not in ("apiVersion", "kind", "metadata")})
        crd["validator"] = jsonschema.Draft7Validator(to_json_schema(crd["root"]))
    root_schema = crd["root"]
    problems += [Problem(field_path(path), f"unknown field \"{field_path(path)}\"", "unknown")
                 for path in unknown_fields(root, root_schema)]
    problems += metadata_problems(obj.get("metadata"), "metadata")
    pruned = dict(prune(root, root_schema), apiVersion=api_version, kind=kind)
    problems += schema_problems(pruned, crd["validator"])
    if any(problem.kind in ("schema", "decode") for problem in problems):
        return problems
    entry = WEBHOOKS.get((api_version, kind))
    if entry:
        full = dict(pruned, metadata=obj.get("metadata") or {})
        problems += entry[1](full, old)
    return problems


def prune_unknown(obj, crds):
    """`obj` without the fields its schema does not know, as stored under fieldValidation=Ignore or Warn."""
    crd = crds.get((obj.get("apiVersion"), obj.get("kind")))
    if crd is None:
        return copy.deepcopy(obj)
    schema = crd["schema"]
    result = {key: value for key, value in prune(drop_nulls(obj, schema), schema).items()}
    for key in ("apiVersion", "kind", "metadata"):
        if key in obj:
            result[key] = copy.deepcopy(obj[key])
    if isinstance(result.get("metadata"), dict):
        result["metadata"] = {k: v for k, v in result["metadata"].items() if k in OBJECT_META_FIELDS}
    return result


def documents(path):
    with open(path) as stream:
        text = stream.read()
    try:
        loaded = [json.loads(text)]
    except ValueError:
        try:  # JSON Lines: one object a line.
            loaded = [json.loads(line) for line in text.splitlines() if line.strip()]
        except ValueError:
            loaded = list(yaml.load_all(text, Loader=YAML_LOADER))
    objects = []
    for document in loaded:
        if document is None:
            continue
        if isinstance(document, list):
            objects += document
        elif isinstance(document, dict) and document.get("kind") == "List":
            objects += document.get("items") or []
        else:
            objects.append(document)
    return objects


def main(arguments):
    parser = argparse.ArgumentParser(description="Validates Kubernetes objects as an API server with Knative would.")
    parser.add_argument("--crds", required=True, help="a folder of CustomResourceDefinition YAML files")
    parser.add_argument("files", nargs="+", metavar="FILE", help="JSON or YAML files of objects to validate")
    options = parser.parse_args(arguments)
    if not os.path.isdir(options.crds):
        parser.error(f"--crds {options.crds}: not a folder of CRD files")
    try:
        crds = load_crds(options.crds)
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        parser.error(f"--crds {options.crds}: cannot read the CRDs: {error}")
    if not crds:
        parser.error(f"--crds {options.crds}: the folder holds no CustomResourceDefinition")
    failed = False
    for path in options.files:
        try:
            objects = documents(path)
        except (OSError, yaml.YAMLError) as error:
            parser.error(f"{path}: cannot read it as JSON or YAML: {error}")
        if not objects:
            parser.error(f"{path}: holds no object")
        for obj in objects:
            name = ((obj.get("metadata") or {}).get("name") if isinstance(obj, dict) else None) or "(no name)"
            kind = (obj.get("kind") if isinstance(obj, dict) else None) or "(no kind)"
            for problem in validate(obj, crds):
                failed = True
                message = problem.message.replace("\n", " ")
                print(f"{path}: {kind} {name}: {problem.path}: {message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
