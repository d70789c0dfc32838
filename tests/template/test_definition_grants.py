"""Each state machine's role grants what its definition calls, as Step Functions documents it.

The needs are derived from the definition files (every Task's integration, every Distributed
Map, every ItemReader), resolved through DefinitionSubstitutions, with the policy AWS documents
for each integration. A state added to a definition without its grant fails here, and so does a
grant no state uses, except the few listed, each with its reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tests.template.asl import states_of
from tests.template.grants import Grant

Need = tuple[str, str]  # (action, readable resource), as tests/template/grants.py writes it

SYNC_RULE = "rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
# Granted on purpose although no state calls it, per state machine.
EXTRAS: dict[str, set[Need]] = {
    # Step Functions' documented policy for logging Express executions (only with EXPRESS).
    "ThumbnailWorkflow": {
        (action, "*") for action in (
            "logs:CreateLogDelivery", "logs:CreateLogStream", "logs:GetLogDelivery",
            "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
            "logs:PutLogEvents", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups")
    },
    # The Distributed Map's child executions (<name>/<map run>:<id>): stopped with an aborted run.
    "BackfillWorkflow": {
        ("states:DescribeExecution", "execution:BackfillWorkflow/*"),
        ("states:StopExecution", "execution:BackfillWorkflow/*"),
    },
    "PurgeWorkflow": set(),
}


def _target(value: Any, subs: Mapping[str, Any]) -> str:
    """The logical id a "${Name}" placeholder's substitution refers to (Ref or GetAtt)."""
    assert isinstance(value, str) and value.startswith("${") and value.endswith("}"), value
    node = subs[value[2:-1]]
    if set(node) == {"Ref"}:
        return str(node["Ref"])
    assert set(node) == {"Fn::GetAtt"}, node
    return str(node["Fn::GetAtt"][0])


def needs(machine: str, definition: Mapping[str, Any], subs: Mapping[str, Any]) -> set[Need]:
    """What the definition's states need, per the policies Step Functions documents."""
    result: set[Need] = set()
    for state in states_of(definition):
        processor = state.get("ItemProcessor", {}).get("ProcessorConfig", {})
        if state["Type"] == "Map" and processor.get("Mode") == "DISTRIBUTED":
            # https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html
            result |= {("states:StartExecution", f"stateMachine:{machine}"),
                       ("states:DescribeExecution", f"execution:{machine}:*")}
        reader = state.get("ItemReader")
        if reader:
            assert reader["Resource"] == "arn:aws:states:::s3:listObjectsV2", reader
            result.add(("s3:ListBucket", _target(reader["Parameters"]["Bucket"], subs)))
        if state["Type"] != "Task":
            continue
        resource, params = state["Resource"], state.get("Parameters", {})
        if resource == "arn:aws:states:::lambda:invoke":
            # SAM's LambdaInvokePolicy: the function and its versions and aliases.
            result.add(("lambda:InvokeFunction", f"function:{_target(params['FunctionName'], subs)}*"))
        elif resource == "arn:aws:states:::sns:publish":
            result.add(("sns:Publish", f"topic:{_target(params['TopicArn'], subs)}"))
        elif resource == "arn:aws:states:::events:putEvents":
            # https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-iam.html
            for entry in params["Entries"]:
                result.add(("events:PutEvents", f"event-bus/{entry.get('EventBusName', 'default')}"))
        elif resource == "arn:aws:states:::states:startExecution.sync:2":
            # https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html (Synchronous)
            child = _target(params["StateMachineArn"], subs)
            result |= {("states:StartExecution", child),
                       ("states:DescribeExecution", f"execution:{child}:*"),
                       ("states:StopExecution", f"execution:{child}:*"),
                       *((action, SYNC_RULE) for action in
                         ("events:PutTargets", "events:PutRule", "events:DescribeRule"))}
        elif resource == "arn:aws:states:::aws-sdk:cloudfront:createInvalidation":
            # An AWS SDK integration needs the API's own action on its resource
            # (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html);
            # CreateInvalidation's resource is the distribution
            # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudfront.html).
            result.add(("cloudfront:CreateInvalidation",
                        f"distribution/{_target(params['DistributionId'], subs)}"))
        elif resource == "arn:aws:states:::aws-sdk:rekognition:detectModerationLabels":
            # No resource ARN; Rekognition reads the S3 object with the caller's rights. The
            # bucket is the validated source's, which Validate only accepts from SourceBucket.
            result |= {("rekognition:DetectModerationLabels", "*"), ("s3:GetObject", "SourceBucket/*")}
        else:
            raise AssertionError(f"{machine}: no documented policy known here for {resource}")
    return result


def test_states_of_finds_nested_states() -> None:
    inner = {"Type": "Task", "Resource": "x"}
    definition = {"States": {"M": {"Type": "Map", "ItemProcessor": {"States": {"T": inner}}},
                             "P": {"Type": "Parallel", "Branches": [{"States": {"U": inner}}]}}}
    assert sum(1 for s in states_of(definition) if s is inner) == 2


@pytest.mark.parametrize("machine", sorted(EXTRAS))
def test_role_grants_what_the_definition_calls(
    machine: str, sam_template: dict[str, Any], definitions: dict[str, dict[str, Any]],
    all_grants: dict[str, set[Grant]],
) -> None:
    subs = sam_template["Resources"][machine]["Properties"]["DefinitionSubstitutions"]
    wanted = needs(machine, definitions[machine], subs)
    granted = {(action, resource) for action, resource, _ in all_grants[machine]}
    assert wanted - granted == set(), "needed by the definition, not granted"
    assert granted - wanted == EXTRAS[machine], "granted, used by no state"


def test_every_state_machine_is_checked(definitions: dict[str, dict[str, Any]]) -> None:
    assert set(definitions) == set(EXTRAS)
