"""Self-checks of the grant flattening: the exact-set IAM comparisons are only as good as it is."""

from __future__ import annotations

from typing import Any

import pytest

from tests.template.grants import explicit_names, grants, normalise

PREFIX = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
NAMES = {"${AWS::StackName}-BackfillWorkflow": "BackfillWorkflow"}


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("*", "*"),
        ({"Fn::Sub": "${SourceBucket.Arn}/*"}, "SourceBucket/*"),
        ({"Fn::GetAtt": ["SourceBucket", "Arn"]}, "SourceBucket"),
        ({"Ref": "ThumbnailWorkflow"}, "ThumbnailWorkflow"),
        (
            {"Fn::Sub": [
                "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
                "${functionName}*",
                {"functionName": {"Ref": "ValidateFunction"}},
            ]},
            "function:ValidateFunction*",
        ),
        (
            {"Fn::Sub": [
                "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:${topicName}",
                {"topicName": {"Fn::GetAtt": ["AlertTopic", "TopicName"]}},
            ]},
            "topic:AlertTopic",
        ),
        # SAM's EventBridgePutEventsPolicy: a literal variable value.
        (
            {"Fn::Sub": [
                "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${eventBusName}",
                {"eventBusName": "default"},
            ]},
            "event-bus/default",
        ),
        # The list form with a resource's Name attribute.
        (
            {"Fn::Sub": [PREFIX + "execution:${Name}:*",
                         {"Name": {"Fn::GetAtt": ["ThumbnailWorkflow", "Name"]}}]},
            "execution:ThumbnailWorkflow:*",
        ),
        # A global service's ARN has no region.
        (
            {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/"
                        "${ThumbnailDistribution}"},
            "distribution/ThumbnailDistribution",
        ),
        # ARNs built from an explicit name read as the resource that has it.
        ({"Fn::Sub": PREFIX + "stateMachine:${AWS::StackName}-BackfillWorkflow"},
         "stateMachine:BackfillWorkflow"),
        ({"Fn::Sub": PREFIX + "execution:${AWS::StackName}-BackfillWorkflow/*"},
         "execution:BackfillWorkflow/*"),
        (
            {"Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/SomeManagedRule"},
            "rule/SomeManagedRule",
        ),
    ],
)
def test_normalise(resource: Any, expected: str) -> None:
    assert normalise(resource, NAMES) == expected


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:s3:::some-bucket/*",
        {"Fn::Sub": "arn:aws:s3:::${Name}"},
        {"Fn::Join": ["", []]},
        # A name nobody declared stays a pseudo parameter: refused, not read as a resource.
        {"Fn::Sub": PREFIX + "stateMachine:${AWS::StackName}-Other"},
        # An ARN put where a name belongs.
        {"Fn::Sub": [PREFIX + "execution:${Name}:*", {"Name": {"Fn::GetAtt": ["ThumbnailWorkflow", "Arn"]}}]},
        {"Fn::Sub": [PREFIX + "execution:${Name}:*", {"Name": {"Fn::Join": ["", ["a"]]}}]},
        {"Fn::Sub": [PREFIX + "execution:${Name}:*"]},
    ],
)
def test_normalise_rejects_unknown_shapes(resource: Any) -> None:
    """An unforeseen resource shape must fail loudly, never be compared as junk."""
    with pytest.raises(ValueError):
        normalise(resource, NAMES)


def test_explicit_names_come_from_the_template() -> None:
    template = {"Resources": {
        "M": {"Type": "AWS::StepFunctions::StateMachine",
              "Properties": {"StateMachineName": {"Fn::Sub": "${AWS::StackName}-M"}}},
        "N": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"StateMachineName": "fixed"}},
        "Q": {"Type": "AWS::SQS::Queue", "Properties": {}},
    }}
    assert explicit_names(template) == {"${AWS::StackName}-M": "M"}


def test_fn_if_policies_keep_both_branches_marked() -> None:
    """A conditional statement must count, marked with its condition, not vanish."""
    role = {"Properties": {"Policies": [
        {"Fn::If": ["C", {"PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "a:B", "Resource": "*"}]}},
            {"PolicyDocument": {"Statement": [
                {"Effect": "Allow", "Action": ["a:C"], "Resource": "*"}]}}]},
        {"Fn::If": ["D", {"PolicyDocument": {"Statement": []}}, {"Ref": "AWS::NoValue"}]},
    ]}}
    assert grants(role) == {("a:B", "*", "C"), ("a:C", "*", "!C")}
