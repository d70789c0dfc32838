"""The SAM template translates offline into the resources the design relies on.

These checks read the translated CloudFormation, so they catch what SAM generates
(or silently stops generating) as well as typos in template.yaml itself.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from thumbnailer.spec import parse_sizes

ROOT = Path(__file__).resolve().parents[2]
# The workflow invokes these; the on-demand resizer is reached by its function URL instead.
WORKFLOW_FUNCTIONS = ("ValidateFunction", "ResizeFunction", "FlagFunction")
FUNCTIONS = (*WORKFLOW_FUNCTIONS, "OnDemandFunction")
POWERTOOLS_VARS = (
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_METRICS_NAMESPACE",
)
# Step Functions' own ${...} syntax never occurs in JSONPath, so every ${Name} is ours.
SUBSTITUTION = re.compile(r"\$\{([^}]*)\}")


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, Any]:
    """Logical id -> resource for every resource of one type."""
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def upload_rule(translated: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The one EventBridge rule whose target is the workflow."""
    rules = [
        (name, target)
        for name, rule in resources_of_type(translated, "AWS::Events::Rule").items()
        for target in rule["Properties"]["Targets"]
        if target["Arn"] == {"Ref": "ThumbnailWorkflow"}
    ]
    assert len(rules) == 1, rules
    return rules[0]


def test_translation_leaves_no_serverless_resources(translated: dict[str, Any]) -> None:
    """A leftover AWS::Serverless::* type or Transform would mean SAM did not run."""
    assert "Transform" not in translated
    leftovers = {k: v["Type"] for k, v in translated["Resources"].items()
                 if v["Type"].startswith("AWS::Serverless::")}
    assert leftovers == {}


@pytest.mark.parametrize(
    ("logical_id", "resource_type"),
    [
        ("SourceBucket", "AWS::S3::Bucket"),
        ("ThumbnailBucket", "AWS::S3::Bucket"),
        ("AlertTopic", "AWS::SNS::Topic"),
        ("ValidateFunction", "AWS::Lambda::Function"),
        ("ResizeFunction", "AWS::Lambda::Function"),
        ("FlagFunction", "AWS::Lambda::Function"),
        ("ThumbnailWorkflow", "AWS::StepFunctions::StateMachine"),
        ("UploadEventsDeadLetterQueue", "AWS::SQS::Queue"),
    ],
)
def test_expected_resource_exists(
    translated: dict[str, Any], logical_id: str, resource_type: str
) -> None:
    """Outputs, alarms and local mode refer to these logical ids by name."""
    assert translated["Resources"][logical_id]["Type"] == resource_type


def test_exactly_the_three_functions(translated: dict[str, Any]) -> None:
    """A function added without its own tests and IAM expectations should fail here."""
    assert set(resources_of_type(translated, "AWS::Lambda::Function")) == set(FUNCTIONS)


def test_source_bucket_sends_events_to_eventbridge(translated: dict[str, Any]) -> None:
    """Without EventBridge notifications the upload rule never sees an upload."""
    config = translated["Resources"]["SourceBucket"]["Properties"]["NotificationConfiguration"]
    assert config["EventBridgeConfiguration"]["EventBridgeEnabled"] is True


def test_upload_rule_matches_source_bucket_object_created(translated: dict[str, Any]) -> None:
    """The rule must start the workflow for S3 Object Created events of SourceBucket only."""
    name, _ = upload_rule(translated)
    pattern = translated["Resources"][name]["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": "SourceBucket"}]


def test_upload_rule_target_retries(
    translated: dict[str, Any], sam_template: dict[str, Any]
) -> None:
    """EventBridge keeps retrying a failed StartExecution for a day, as configured."""
    _, target = upload_rule(translated)
    event = sam_template["Resources"]["ThumbnailWorkflow"]["Properties"]["Events"]["Upload"]
    assert target["RetryPolicy"] == event["Properties"]["RetryPolicy"]
    assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}


def test_upload_rule_dead_letters_to_generated_queue(translated: dict[str, Any]) -> None:
    """Events that never start an execution must land in a queue EventBridge may write to."""
    rule_name, target = upload_rule(translated)
    assert target["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": ["UploadEventsDeadLetterQueue", "Arn"]}
    }
    assert translated["Resources"]["UploadEventsDeadLetterQueue"]["Type"] == "AWS::SQS::Queue"

    policies = [
        p["Properties"]
        for p in resources_of_type(translated, "AWS::SQS::QueuePolicy").values()
        if {"Ref": "UploadEventsDeadLetterQueue"} in p["Properties"]["Queues"]
    ]
    assert len(policies) == 1
    statements = policies[0]["PolicyDocument"]["Statement"]
    assert statements == [
        {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Resource": {"Fn::GetAtt": ["UploadEventsDeadLetterQueue", "Arn"]},
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_name, "Arn"]}}},
        }
    ]


def test_lost_events_alarm_watches_the_dead_letter_queue(translated: dict[str, Any]) -> None:
    """The alarm is the only signal that uploads were dropped; it must watch the real DLQ."""
    alarm = translated["Resources"]["LostUploadEventsAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["UploadEventsDeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_runtime_and_architecture(translated: dict[str, Any], function: str) -> None:
    """Dependencies are built for python3.13 on arm64; a mismatch fails at import time."""
    props = translated["Resources"][function]["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_powertools_environment(translated: dict[str, Any], function: str) -> None:
    """Powertools reads its service, level and namespace only from the environment."""
    env = translated["Resources"][function]["Properties"]["Environment"]["Variables"]
    missing = [name for name in POWERTOOLS_VARS if name not in env]
    assert missing == []
    assert env["POWERTOOLS_SERVICE_NAME"] == "thumbflow"
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "thumbflow"
    assert env["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_handler_exists(
    sam_template: dict[str, Any], translated: dict[str, Any], function: str
) -> None:
    """A Handler naming a missing module or function only fails at the first invocation."""
    handler = translated["Resources"][function]["Properties"]["Handler"]
    module, _, attribute = handler.rpartition(".")
    code_dir = ROOT / sam_template["Globals"]["Function"]["CodeUri"]
    source = Path(code_dir, *module.split(".")).with_suffix(".py")
    assert source.is_file(), source
    tree = ast.parse(source.read_text(encoding="utf-8"))
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert attribute in defined


def test_state_machine_is_traced_and_uses_generated_role(translated: dict[str, Any]) -> None:
    """Tracing: Enabled must reach the state machine, and it must run as SAM's scoped role."""
    props = translated["Resources"]["ThumbnailWorkflow"]["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["RoleArn"] == {"Fn::GetAtt": ["ThumbnailWorkflowRole", "Arn"]}
    # WorkflowType decides; STANDARD (redrive, execution history) unless asked otherwise.
    assert props["StateMachineType"] == {"Ref": "WorkflowType"}


def test_definition_substitutions_match_placeholders(
    sam_template: dict[str, Any], definition_text: str
) -> None:
    """A placeholder without a value stays literal; a value without a placeholder is dead."""
    used = set(SUBSTITUTION.findall(definition_text))
    provided = set(
        sam_template["Resources"]["ThumbnailWorkflow"]["Properties"]["DefinitionSubstitutions"]
    )
    assert used == provided


def test_function_arn_substitutions_point_at_their_functions(sam_template: dict[str, Any]) -> None:
    """Swapping two ARNs would run the wrong Lambda with a payload it cannot read."""
    subs = sam_template["Resources"]["ThumbnailWorkflow"]["Properties"]["DefinitionSubstitutions"]
    for function in WORKFLOW_FUNCTIONS:
        assert subs[f"{function}Arn"] == {"Fn::GetAtt": [function, "Arn"]}
    assert subs["AlertTopicArn"] == {"Ref": "AlertTopic"}


def test_translated_state_machine_keeps_substitutions(
    sam_template: dict[str, Any], translated: dict[str, Any]
) -> None:
    """SAM must pass DefinitionSubstitutions through unchanged to CloudFormation."""
    sam_props = sam_template["Resources"]["ThumbnailWorkflow"]["Properties"]
    cfn_props = translated["Resources"]["ThumbnailWorkflow"]["Properties"]
    assert cfn_props["DefinitionSubstitutions"] == sam_props["DefinitionSubstitutions"]


def test_definition_is_json_and_survives_translation(
    translated: dict[str, Any], definition_text: str
) -> None:
    """The file must parse, and SAM's DefinitionString must be that same document."""
    definition = json.loads(definition_text)
    joined = translated["Resources"]["ThumbnailWorkflow"]["Properties"]["DefinitionString"]
    separator, parts = joined["Fn::Join"]
    assert all(isinstance(part, str) for part in parts)
    assert json.loads(separator.join(parts)) == definition


def test_configure_state_holds_valid_sizes(definition_text: str) -> None:
    """Sizes live only in Configure; the functions must accept every one of them."""
    definition = json.loads(definition_text)
    assert definition["StartAt"] == "Configure"
    configure = definition["States"]["Configure"]
    assert configure["Type"] == "Pass"
    config = configure["Parameters"]["config"]
    sizes = config["sizes"]
    specs = parse_sizes(sizes)  # raises ConfigError on anything the Lambdas would reject
    assert len(specs) >= 1
    names = [spec.name for spec in specs]
    assert all(names), "every size needs a name"
    assert len(set(names)) == len(names), names
    # Keys are <stem>_<W>x<H>.<ext>: two sizes with one box would overwrite each other.
    assert len({spec.label for spec in specs}) == len(specs)
    assert isinstance(config["groupMaxPixels"], int) and config["groupMaxPixels"] >= 0
    assert config["moderation"] == {
        "enabled": "${ModerationEnabled}",
        "minConfidence": "${ModerationMinConfidence}",
    }
