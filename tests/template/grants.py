"""IAM roles of the translated template, flattened to comparable (action, resource, condition) grants.

A policy resource is written many ways (GetAtt, Sub with pseudo parameters, Sub with a
variable map, an ARN built from a state machine's explicit name); ``normalise`` turns each
into one readable string, so exact-set comparisons read like the design: ``SourceBucket/*``,
``function:ResizeFunction*``, ``execution:ThumbnailWorkflow:*``. Any shape it does not know
raises, so nothing is ever compared as junk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

Grant = tuple[str, str, str]  # (action, readable resource, condition or "" when always)

# ARN prefixes written with pseudo parameters; global services (CloudFront) have no region.
_ARN_PREFIX = re.compile(
    r"^arn:\$\{AWS::Partition\}:(?P<service>[a-z0-9-]+):(?:\$\{AWS::Region\})?:\$\{AWS::AccountId\}:"
)
_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")
# Properties through which a resource is given an explicit physical name.
NAME_PROPERTIES = ("StateMachineName", "Name", "FunctionName", "TopicName", "QueueName", "BucketName")


# ---------------------------------------------------------------- Fn::If


def branches(node: Any, condition: str = "") -> Iterator[tuple[Any, str]]:
    """Both sides of an Fn::If (NoValue dropped), each marked with its condition."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        name, when_true, when_false = node["Fn::If"]
        yield from branches(when_true, _and(condition, name))
        yield from branches(when_false, _and(condition, f"!{name}"))
    elif node == {"Ref": "AWS::NoValue"}:
        return
    else:
        yield node, condition


def _and(left: str, right: str) -> str:
    return "&".join(sorted(filter(None, {*left.split("&"), right})))


def each(node: Any, condition: str) -> Iterator[tuple[Any, str]]:
    """Items of a value that may be a single item, a list, or Fn::If of either."""
    for value, cond in branches(node, condition):
        for item in value if isinstance(value, list) else [value]:
            yield from branches(item, cond)


# ---------------------------------------------------------------- resources


def explicit_names(template: Mapping[str, Any]) -> dict[str, str]:
    """Name template (the Sub text of an explicit name) -> the logical id it names.

    A role cannot Ref the state machine it belongs to (a circular reference), so it builds
    the ARN from the name instead; this lets such an ARN read as that resource.
    """
    names: dict[str, str] = {}
    for logical_id, resource in template["Resources"].items():
        for prop in NAME_PROPERTIES:
            value = resource.get("Properties", {}).get(prop)
            if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
                names[value["Fn::Sub"]] = logical_id
    return names


def _variable(name: str, node: Any) -> str:
    """The readable value of one variable of a Sub's variable map."""
    if isinstance(node, str) and "${" not in node and not node.startswith("arn:"):
        return node  # a literal, e.g. the event bus name "default"
    if isinstance(node, dict) and set(node) == {"Ref"}:
        return str(node["Ref"])
    if isinstance(node, dict) and set(node) == {"Fn::GetAtt"}:
        logical_id, attribute = node["Fn::GetAtt"]
        if attribute != "Arn":  # Name, TopicName...: a name inside an ARN reads as its resource
            return str(logical_id)
    raise ValueError(f"unrecognised Sub variable {name}={node!r}")


def normalise(resource: Any, names: Mapping[str, str] | None = None) -> str:
    """A policy resource as a readable string: 'SourceBucket/*', 'function:X*', '*'.

    ``names`` (see ``explicit_names``) lets an ARN built from an explicit name read as the
    resource that has it.
    """
    if isinstance(resource, str):
        if resource == "*":
            return resource
        raise ValueError(f"literal resource ARN {resource!r}: use an intrinsic")
    if set(resource) == {"Ref"}:
        return str(resource["Ref"])
    if set(resource) == {"Fn::GetAtt"}:
        logical_id, attribute = resource["Fn::GetAtt"]
        return logical_id if attribute == "Arn" else f"{logical_id}.{attribute}"
    if set(resource) == {"Fn::Sub"}:
        arg = resource["Fn::Sub"]
        if isinstance(arg, str):
            text, variables = arg, {}
        elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
            text, variables = arg
        else:
            raise ValueError(f"unrecognised Sub {resource!r}")
        values = {key: _variable(key, value) for key, value in variables.items()}

        def one(match: re.Match[str]) -> str:
            var = match.group(1)
            if var in values:
                return values[var]
            if var.endswith(".Arn"):
                return var.removesuffix(".Arn")
            if "::" not in var and "." not in var:
                return var  # ${X} is Ref X (a distribution's id, a function's name)
            return match.group(0)  # a pseudo parameter or another attribute: fails below

        prefix = _ARN_PREFIX.match(text)
        body = text[prefix.end():] if prefix else text
        for template, logical_id in (names or {}).items():
            body = body.replace(template, logical_id)
        readable = _SUB_VAR.sub(one, body)
        if prefix and prefix["service"] == "sns":
            readable = f"topic:{readable}"
        if "${" in readable or readable.startswith("arn:"):
            raise ValueError(f"unrecognised resource {resource!r}")
        return readable
    raise ValueError(f"unrecognised resource {resource!r}")


# ---------------------------------------------------------------- roles


def statements(role: Mapping[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Every inline policy statement of a role, with the condition it exists under."""
    for policy, cond in each(role["Properties"].get("Policies", []), ""):
        yield from each(policy["PolicyDocument"]["Statement"], cond)


def grants(role: Mapping[str, Any], names: Mapping[str, str] | None = None) -> set[Grant]:
    """(action, normalised resource, condition) for every Allow in the role's inline policies."""
    result: set[Grant] = set()
    for statement, cond in statements(role):
        for action, action_cond in each(statement["Action"], cond):
            for resource, resource_cond in each(statement["Resource"], action_cond):
                result.add((action, normalise(resource, names), resource_cond))
    return result


def role_owners(translated: Mapping[str, Any]) -> list[str]:
    """Everything that runs as an IAM role: functions, state machines, rules with role targets."""
    kinds = ("AWS::Lambda::Function", "AWS::StepFunctions::StateMachine", "AWS::Events::Rule")
    return sorted(lid for lid, r in translated["Resources"].items() if r["Type"] in kinds)


def role_logical_id(translated: Mapping[str, Any], owner: str) -> str:
    """The IAM role a function, state machine or rule target actually runs as."""
    props = translated["Resources"][owner]["Properties"]
    if "Targets" in props:
        role_refs = [target["RoleArn"] for target in props["Targets"]]
        assert len(role_refs) == 1, role_refs
        role_ref = role_refs[0]
    else:
        role_ref = props.get("Role", props.get("RoleArn"))
    assert isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref, role_ref
    logical_id, attribute = role_ref["Fn::GetAtt"]
    assert attribute == "Arn"
    assert translated["Resources"][logical_id]["Type"] == "AWS::IAM::Role"
    return str(logical_id)
