"""Checks AWS CLI commands against the service models the AWS CLI itself uses (botocore).

Reads a JSON list of {"id", "argv"} on stdin (argv: what follows `aws`, as the shell passes it)
and prints a JSON list of {"id", "problems"}: the service, the operation and every option must
exist, and an option's JSON value must parse. Used by test/docs/runnable.test.ts.
"""
import json
import sys

import botocore.session
from botocore import xform_name

try:  # the AWS CLI's renamed options, e.g. sns subscribe's --notification-endpoint
    from awscli.customizations.argrename import ARGUMENT_RENAMES
except ImportError:  # botocore alone (a moto install): the renames the docs use
    ARGUMENT_RENAMES = {"sns.subscribe.endpoint": "notification-endpoint"}

# Global options (AWS CLI v1 and v2; --cli-binary-format and --cli-read-timeout are v2's).
GLOBAL_WITH_VALUE = {
    "endpoint-url", "region", "profile", "output", "query", "cli-binary-format",
    "cli-read-timeout", "cli-connect-timeout", "page-size", "max-items", "starting-token",
    "cli-input-json", "generate-cli-skeleton", "color", "ca-bundle",
}
GLOBAL_FLAGS = {"debug", "no-paginate", "no-verify-ssl", "no-sign-request", "no-cli-pager"}
# Operations whose CLI command takes positional arguments (lambda invoke's outfile).
POSITIONALS = {("lambda", "invoke"): 1}

session = botocore.session.get_session()
services = set(session.get_available_services())


def check(argv):
    if len(argv) < 2:
        return ["expected `aws <service> <operation>`"]
    service, operation, rest = argv[0], argv[1], argv[2:]
    if service not in services:
        return [f"no AWS service `{service}`"]
    model = session.get_service_model(service)
    operations = {xform_name(o, "-"): o for o in model.operation_names}
    if operation not in operations:
        return [f"`aws {service}` has no operation `{operation}`"]
    op = model.operation_model(operations[operation])
    members = {}
    if op.input_shape is not None:
        for name, shape in op.input_shape.members.items():
            cli = xform_name(name, "-")
            cli = ARGUMENT_RENAMES.get(f"{service}.{operation}.{cli}", cli)
            members[cli] = shape
    problems, positional, i = [], 0, 0
    while i < len(rest):
        word = rest[i]
        if not word.startswith("--"):
            positional += 1
            i += 1
            continue
        name = word[2:]
        value = rest[i + 1] if i + 1 < len(rest) else None
        if name in GLOBAL_FLAGS:
            i += 1
        elif name in GLOBAL_WITH_VALUE:
            i += 2
        elif name in members or (name.startswith("no-") and name[3:] in members):
            shape = members.get(name) or members[name[3:]]
            if shape.type_name == "boolean":
                i += 1
                continue
            if value is None or value.startswith("--"):
                problems.append(f"--{name} needs a value")
                i += 1
                continue
            json_like = value.lstrip().startswith(("{", "["))
            if json_like or (shape.type_name == "blob" and name == "payload"):
                try:
                    json.loads(value)
                except ValueError as e:
                    problems.append(f"--{name}: not JSON ({e}): {value}")
            i += 2
        else:
            problems.append(f"`aws {service} {operation}` has no option --{name}")
            i += 1
    wanted = POSITIONALS.get((service, operation), 0)
    if positional != wanted:
        problems.append(f"{positional} positional argument(s), `aws {service} {operation}` takes {wanted}")
    return problems


print(json.dumps([{"id": c["id"], "problems": check(c["argv"])} for c in json.load(sys.stdin)]))
