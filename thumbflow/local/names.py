"""What the template's resources are called locally: the names Ref and GetAtt give.

Read from the template alone, before anything exists, so the definitions' substitutions and
the functions' environment can be resolved while the resources are created (``deploy``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from .template import Resolver

REGION = "us-east-1"
ACCOUNT = "123456789012"


def pseudo_parameters(stack: str) -> dict[str, str]:
    return {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::Partition": "aws",
            "AWS::StackName": stack, "AWS::URLSuffix": "amazonaws.com", "AWS::StackId":
            f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack}/local"}


def _queue(refs: dict[str, Any], attrs: dict[tuple[str, str], Any], lid: str, name: str) -> None:
    refs[lid] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
    attrs[(lid, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
    attrs[(lid, "QueueName")] = name
    attrs[(lid, "QueueUrl")] = refs[lid]


def state_machines(template: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for lid, res in (template.get("Resources") or {}).items():
        if res.get("Type") == "AWS::Serverless::StateMachine":
            yield lid, res


def workflow_functions(template: Mapping[str, Any], logical_id: str) -> set[str]:
    """The functions a state machine's DefinitionSubstitutions name (by Ref or GetAtt)."""
    resources = template.get("Resources") or {}
    functions = {lid for lid, res in resources.items() if res.get("Type") == "AWS::Serverless::Function"}
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "Ref" and inner in functions:
                    found.add(inner)
                elif key == "Fn::GetAtt":
                    target = inner.split(".", 1)[0] if isinstance(inner, str) else (inner or [None])[0]
                    if target in functions:
                        found.add(target)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(((resources.get(logical_id) or {}).get("Properties") or {}).get("DefinitionSubstitutions"))
    return found


def rule_events(res: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for event_id, event in ((res.get("Properties") or {}).get("Events") or {}).items():
        if event.get("Type") == "EventBridgeRule":
            yield event_id, event


def physical_names(template: Mapping[str, Any], stack: str, parameters: Mapping[str, Any] | None = None,
                   ) -> tuple[dict[str, Any], dict[tuple[str, str], Any]]:
    """Local names for every resource, as Ref and GetAtt would give them.

    A resource type local mode does not create still gets a name for Ref (a placeholder);
    the CloudFront distribution's id is filled in once it exists.
    """
    refs: dict[str, Any] = {}
    attrs: dict[tuple[str, str], Any] = {}
    names = Resolver(template, parameters or {}, {}, {}, pseudo_parameters(stack))
    for lid, res in (template.get("Resources") or {}).items():
        kind, name = res.get("Type", ""), f"{stack}-{lid}"
        given = (res.get("Properties") or {}).get("Name")
        if given is not None and kind == "AWS::Serverless::StateMachine":
            name = str(names.resolve(given))
        refs[lid] = name  # the placeholder; each type below says what its Ref is
        if kind == "AWS::S3::Bucket":
            refs[lid] = name.lower()
            attrs[(lid, "Arn")] = f"arn:aws:s3:::{name.lower()}"
            attrs[(lid, "DomainName")] = f"{name.lower()}.s3.amazonaws.com"
            attrs[(lid, "RegionalDomainName")] = f"{name.lower()}.s3.{REGION}.amazonaws.com"
        elif kind == "AWS::Serverless::Function":
            refs[lid] = name
            attrs[(lid, "Arn")] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            if (res.get("Properties") or {}).get("FunctionUrlConfig"):  # SAM's <Function>Url
                attrs[(f"{lid}Url", "FunctionUrl")] = f"https://{name.lower()}.lambda-url.{REGION}.on.aws/"
        elif kind == "AWS::SNS::Topic":
            refs[lid] = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
            attrs[(lid, "TopicName")] = name
            attrs[(lid, "TopicArn")] = refs[lid]
        elif kind == "AWS::Serverless::StateMachine":
            refs[lid] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
            attrs[(lid, "Name")] = name
            attrs[(lid, "Arn")] = refs[lid]
        elif kind == "AWS::SQS::Queue":
            _queue(refs, attrs, lid, name)
        elif kind == "AWS::DynamoDB::Table":
            table_name = (res.get("Properties") or {}).get("TableName")
            refs[lid] = str(names.resolve(table_name)) if table_name is not None else name
            attrs[(lid, "Arn")] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{refs[lid]}"
    for lid, res in state_machines(template):
        for event_id, event in rule_events(res):
            rule = f"{stack}-{lid}{event_id}"  # SAM names the rule <StateMachine><Event>
            refs[f"{lid}{event_id}"] = rule
            attrs[(f"{lid}{event_id}", "Arn")] = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"
            dlq = (event.get("Properties") or {}).get("DeadLetterConfig") or {}
            if dlq.get("Type") == "SQS":  # SAM generates the queue
                qid = dlq.get("QueueLogicalId") or f"{lid}EventsDeadLetterQueue"
                _queue(refs, attrs, qid, f"{stack}-{qid}")
    return refs, attrs
