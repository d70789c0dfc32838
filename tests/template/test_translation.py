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

from tests.template.asl import states_of

ROOT = Path(__file__).resolve().parents[2]
# The workflows invoke these; the on-demand resizer is reached by its function URL instead.
WORKFLOW_FUNCTIONS = ("ValidateFunction", "ResizeFunction", "FlagFunction", "PurgeFunction",
                      "BackfillFunction")
FUNCTIONS = (*WORKFLOW_FUNCTIONS, "OnDemandFunction")
STATE_MACHINES = ("ThumbnailWorkflow", "PurgeWorkflow", "BackfillWorkflow")
# The rule SAM generates for each state machine's EventBridgeRule event, and what it matches.
RULES = {"ThumbnailWorkflow": ("ThumbnailWorkflowUpload", "Upload", "Object Created"),
         "PurgeWorkflow": ("PurgeWorkflowDelete", "Delete", "Object Deleted")}
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


def rule_for(translated: dict[str, Any], machine: str) -> tuple[str, dict[str, Any]]:
    """The one EventBridge rule whose target is the state machine, and that target."""
    rules = [
        (name, target)
        for name, rule in resources_of_type(translated, "AWS::Events::Rule").items()
        for target in rule["Properties"]["Targets"]
        if target["Arn"] == {"Ref": machine}
    ]
    assert len(rules) == 1, rules
    return rules[0]


def upload_rule(translated: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The one EventBridge rule whose target is the thumbnail workflow."""
    return rule_for(translated, "ThumbnailWorkflow")


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
        ("OnDemandFunction", "AWS::Lambda::Function"),
        ("PurgeFunction", "AWS::Lambda::Function"),
        ("BackfillFunction", "AWS::Lambda::Function"),
        ("ThumbnailWorkflow", "AWS::StepFunctions::StateMachine"),
        ("PurgeWorkflow", "AWS::StepFunctions::StateMachine"),
        ("BackfillWorkflow", "AWS::StepFunctions::StateMachine"),
        ("ThumbnailWorkflowUpload", "AWS::Events::Rule"),
        ("PurgeWorkflowDelete", "AWS::Events::Rule"),
        ("UploadEventsDeadLetterQueue", "AWS::SQS::Queue"),
        ("ThumbnailDistribution", "AWS::CloudFront::Distribution"),
    ],
)
def test_expected_resource_exists(
    translated: dict[str, Any], logical_id: str, resource_type: str
) -> None:
    """Outputs, alarms and local mode refer to these logical ids by name."""
    assert translated["Resources"][logical_id]["Type"] == resource_type


def test_exactly_the_known_functions_and_state_machines(translated: dict[str, Any]) -> None:
    """A function or workflow added without its own tests and IAM expectations should fail here."""
    assert set(resources_of_type(translated, "AWS::Lambda::Function")) == set(FUNCTIONS)
    assert set(resources_of_type(translated, "AWS::StepFunctions::StateMachine")) == set(STATE_MACHINES)
    rules = {name for name, _, _ in RULES.values()}
    assert set(resources_of_type(translated, "AWS::Events::Rule")) == rules


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


def test_upload_rule_dead_letters_to_declared_queue(
    sam_template: dict[str, Any], translated: dict[str, Any]
) -> None:
    """Events that never start an execution land in our queue, which EventBridge may write to.

    Given by Arn, the queue gets no policy from SAM (it does for DeadLetterConfig Type: SQS), so
    the template declares the one SAM would: SendMessage from events.amazonaws.com, for this
    rule and the delete rule only.
    """
    event = sam_template["Resources"]["ThumbnailWorkflow"]["Properties"]["Events"]["Upload"]
    assert event["Properties"]["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": ["UploadEventsDeadLetterQueue", "Arn"]}
    }
    assert sam_template["Resources"]["UploadEventsDeadLetterQueue"]["Type"] == "AWS::SQS::Queue"

    rule_name, target = upload_rule(translated)
    assert target["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": ["UploadEventsDeadLetterQueue", "Arn"]}
    }
    delete_rule, _ = rule_for(translated, "PurgeWorkflow")
    policies = [
        p["Properties"]
        for p in resources_of_type(translated, "AWS::SQS::QueuePolicy").values()
        if {"Ref": "UploadEventsDeadLetterQueue"} in p["Properties"]["Queues"]
    ]
    assert len(policies) == 1
    statements = policies[0]["PolicyDocument"]["Statement"]
    assert statements == [
        {
            "Sid": "UploadRuleSendsUndeliveredEvents",
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Resource": {"Fn::GetAtt": ["UploadEventsDeadLetterQueue", "Arn"]},
            "Condition": {"ArnEquals": {"aws:SourceArn": [
                {"Fn::GetAtt": [rule_name, "Arn"]}, {"Fn::GetAtt": [delete_rule, "Arn"]}]}},
        }
    ]


def test_dead_letter_queue_keeps_events_for_14_days_encrypted(translated: dict[str, Any]) -> None:
    """Lost events are re-run from this queue: SQS's default 4 days could lose them over a holiday."""
    queues = resources_of_type(translated, "AWS::SQS::Queue")
    assert set(queues) == {"UploadEventsDeadLetterQueue"}
    props = queues["UploadEventsDeadLetterQueue"]["Properties"]
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600  # SQS's maximum
    assert props["SqsManagedSseEnabled"] is True
    assert "KmsMasterKeyId" not in props  # SSE-SQS: no key policy for EventBridge to need


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


@pytest.mark.parametrize("machine", STATE_MACHINES)
def test_state_machine_is_traced_and_uses_generated_role(translated: dict[str, Any], machine: str) -> None:
    """Tracing: Enabled must reach each state machine, and each must run as SAM's scoped role."""
    props = translated["Resources"][machine]["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["RoleArn"] == {"Fn::GetAtt": [f"{machine}Role", "Arn"]}


def test_state_machine_types(translated: dict[str, Any]) -> None:
    """WorkflowType decides the upload path; the purge (redrivable, rare) and the backfill (a
    Distributed Map waiting on .sync children, which Express cannot do) are always STANDARD."""
    types = {m: translated["Resources"][m]["Properties"]["StateMachineType"] for m in STATE_MACHINES}
    assert types == {"ThumbnailWorkflow": {"Ref": "WorkflowType"}, "PurgeWorkflow": "STANDARD",
                     "BackfillWorkflow": "STANDARD"}


def test_backfill_is_named_as_its_role_names_it(translated: dict[str, Any]) -> None:
    """The role grants StartExecution on the ARN built from this name (a Ref would be circular)."""
    props = translated["Resources"]["BackfillWorkflow"]["Properties"]
    assert props["StateMachineName"] == {"Fn::Sub": "${AWS::StackName}-BackfillWorkflow"}


@pytest.mark.parametrize("machine", STATE_MACHINES)
def test_definition_substitutions_match_placeholders(sam_template: dict[str, Any], machine: str) -> None:
    """A placeholder without a value stays literal; a value without a placeholder is dead."""
    props = sam_template["Resources"][machine]["Properties"]
    text = (ROOT / props["DefinitionUri"]).read_text(encoding="utf-8")
    used = set(SUBSTITUTION.findall(text))
    provided = set(props["DefinitionSubstitutions"])
    assert used, f"{machine}: a definition without placeholders cannot name its resources"
    assert used - provided == set(), "placeholders without a value"
    assert provided - used == set(), "values no placeholder uses"


def test_every_definition_file_is_checked(sam_template: dict[str, Any]) -> None:
    """Each state machine's definition lives in statemachine/, one file each, and no file there is
    left out of the template (a stray definition would be untested and undeployed)."""
    uris = {lid: r["Properties"]["DefinitionUri"] for lid, r in sam_template["Resources"].items()
            if r["Type"] == "AWS::Serverless::StateMachine"}
    assert set(uris) == set(STATE_MACHINES)
    files = {p.relative_to(ROOT).as_posix() for p in (ROOT / "statemachine").glob("*.asl.json")}
    assert sorted(uris.values()) == sorted(files)


def _named_by(key: str, value: Any) -> bool:
    """A substitution's key names what its value refers to: FooArn -> Foo, FooName -> Foo, or the
    parameter itself (Region is the pseudo parameter AWS::Region)."""
    if key == "Region":
        return value == {"Ref": "AWS::Region"}
    if value == {"Ref": key}:
        return True  # a template parameter, e.g. ModerationEnabled
    for suffix, shapes in (("Arn", ("Ref", "Arn")), ("Name", ("Ref",)), ("Id", ("Ref",))):
        if key.endswith(suffix):
            target = key.removesuffix(suffix)
            if suffix == "Id" and value == {"Ref": f"Thumbnail{target}"}:
                return True  # DistributionId: the stack's one distribution, ThumbnailDistribution
            return (value == {"Ref": target} and "Ref" in shapes) or (
                value == {"Fn::GetAtt": [target, "Arn"]} and "Arn" in shapes)
    return False


@pytest.mark.parametrize("machine", STATE_MACHINES)
def test_substitutions_point_at_what_they_name(sam_template: dict[str, Any], machine: str) -> None:
    """Swapping two ARNs would run the wrong Lambda (or workflow) with a payload it cannot read."""
    subs = sam_template["Resources"][machine]["Properties"]["DefinitionSubstitutions"]
    wrong = {key: value for key, value in subs.items() if not _named_by(key, value)}
    assert wrong == {}
    resources, parameters = sam_template["Resources"], sam_template["Parameters"]
    for key, value in subs.items():
        target = value.get("Ref") or value.get("Fn::GetAtt", [None])[0]
        assert target in resources or target in parameters or target == "AWS::Region", key


def test_named_by_catches_swaps() -> None:
    assert _named_by("ResizeFunctionArn", {"Fn::GetAtt": ["ResizeFunction", "Arn"]})
    assert _named_by("ThumbnailWorkflowArn", {"Ref": "ThumbnailWorkflow"})
    assert _named_by("SourceBucketName", {"Ref": "SourceBucket"})
    assert not _named_by("ResizeFunctionArn", {"Fn::GetAtt": ["ValidateFunction", "Arn"]})
    assert not _named_by("SourceBucketName", {"Fn::GetAtt": ["SourceBucket", "Arn"]})
    assert not _named_by("Region", {"Ref": "AWS::AccountId"})


@pytest.mark.parametrize("machine", STATE_MACHINES)
def test_translated_state_machine_keeps_substitutions(
    sam_template: dict[str, Any], translated: dict[str, Any], machine: str
) -> None:
    """SAM must pass DefinitionSubstitutions through unchanged to CloudFormation."""
    sam_props = sam_template["Resources"][machine]["Properties"]
    cfn_props = translated["Resources"][machine]["Properties"]
    assert cfn_props["DefinitionSubstitutions"] == sam_props["DefinitionSubstitutions"]


@pytest.mark.parametrize("machine", STATE_MACHINES)
def test_definition_is_json_and_survives_translation(
    translated: dict[str, Any], definitions: dict[str, dict[str, Any]], machine: str
) -> None:
    """The file must parse, and SAM's DefinitionString must be that same document."""
    joined = translated["Resources"][machine]["Properties"]["DefinitionString"]
    separator, parts = joined["Fn::Join"]
    assert all(isinstance(part, str) for part in parts)
    assert json.loads(separator.join(parts)) == definitions[machine]


def test_delete_rule_matches_what_the_upload_rule_matches(translated: dict[str, Any]) -> None:
    """A deleted source is purged exactly when its upload would have been rendered: same bucket,
    prefix and suffix filter, same retries, same dead-letter queue; only the detail-type differs."""
    resources = translated["Resources"]
    patterns, targets = {}, {}
    for machine, (rule, _, detail_type) in RULES.items():
        name, targets[machine] = rule_for(translated, machine)
        assert name == rule
        patterns[machine] = resources[rule]["Properties"]["EventPattern"]
        assert patterns[machine]["detail-type"] == [detail_type]
        assert patterns[machine]["source"] == ["aws.s3"]
    upload, delete = patterns["ThumbnailWorkflow"], patterns["PurgeWorkflow"]
    assert {**delete, "detail-type": upload["detail-type"]} == upload
    assert targets["PurgeWorkflow"]["RetryPolicy"] == targets["ThumbnailWorkflow"]["RetryPolicy"]
    assert targets["PurgeWorkflow"]["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": ["UploadEventsDeadLetterQueue", "Arn"]}}


def test_outcome_events_match_the_outputs(
    translated: dict[str, Any], definitions: dict[str, dict[str, Any]]
) -> None:
    """Apps subscribe with the exported source and bus; every event a definition publishes uses
    exactly those, so a subscription built from the outputs sees them all."""
    outputs = translated["Outputs"]
    assert outputs["EventBusArn"]["Value"] == {
        "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default"}
    for name in ("EventSource", "EventBusArn"):
        assert outputs[name]["Export"] == {"Name": {"Fn::Sub": f"${{AWS::StackName}}-{name}"}}
    entries = [
        entry
        for definition in definitions.values()
        for state in states_of(definition)
        if state.get("Resource") == "arn:aws:states:::events:putEvents"
        for entry in state["Parameters"]["Entries"]
    ]
    assert entries
    assert {(e["Source"], e.get("EventBusName", "default")) for e in entries} == {
        (outputs["EventSource"]["Value"], "default")}
    arns = {"ThumbnailWorkflow": "StateMachineArn", "PurgeWorkflow": "PurgeStateMachineArn",
            "BackfillWorkflow": "BackfillStateMachineArn"}
    for machine, output in arns.items():
        assert outputs[output]["Value"] == {"Ref": machine}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_log_group_is_declared_with_retention(translated: dict[str, Any], function: str) -> None:
    """Lambda's own log group would keep logs forever; the declared one is the one Lambda writes to."""
    groups = [r["Properties"] for r in resources_of_type(translated, "AWS::Logs::LogGroup").values()
              if r["Properties"]["LogGroupName"] == {"Fn::Sub": f"/aws/lambda/${{{function}}}"}]
    assert len(groups) == 1
    assert groups[0]["RetentionInDays"] > 0


def test_new_functions_read_their_targets_from_the_template(translated: dict[str, Any]) -> None:
    """The purge workflow invalidates the stack's own distribution; the backfill reads the deployed
    workflow's Configure and routes keys as the upload rule does."""
    subs = translated["Resources"]["PurgeWorkflow"]["Properties"]["DefinitionSubstitutions"]
    assert subs["DistributionId"] == {"Ref": "ThumbnailDistribution"}
    env = translated["Resources"]["BackfillFunction"]["Properties"]["Environment"]["Variables"]
    assert env["STATE_MACHINE_ARN"] == {"Ref": "ThumbnailWorkflow"}
    assert env["ROUTED_SUFFIXES"] == {"Fn::Join": [",", {"Ref": "AllowedSuffixes"}]}


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


def test_xray_samples_the_thumbnail_workflow_at_a_fixed_share(translated: dict[str, Any]) -> None:
    """The sampling rule matches the thumbnail workflow's executions and has no reservoir, so
    the share traced (and X-Ray's bill) is TraceSampleRate at any upload rate."""
    (rule,) = resources_of_type(translated, "AWS::XRay::SamplingRule").values()
    props = rule["Properties"]["SamplingRule"]
    assert props["ServiceType"] == "AWS::StepFunctions::StateMachine"
    assert props["ServiceName"] == {"Fn::GetAtt": ["ThumbnailWorkflow", "Name"]}
    assert props["ReservoirSize"] == 0 and props["FixedRate"] == {"Ref": "TraceSampleRate"}
    assert all(props[field] == "*" for field in ("ResourceARN", "Host", "HTTPMethod", "URLPath"))
    assert props["Version"] == 1
    # RuleName: at most 32 characters (AWS::XRay::SamplingRule), unique per stack: "thumbflow-"
    # and the first 8 hex digits of the stack's UUID (18 characters).
    separator, (prefix, unique) = props["RuleName"]["Fn::Join"]
    assert (separator, prefix) == ("-", "thumbflow")
    assert unique["Fn::Select"][0] == 0 and "AWS::StackId" in json.dumps(unique)
    rate = translated["Parameters"]["TraceSampleRate"]
    assert rate["MinValue"] == 0 and rate["MaxValue"] == 1 and 0 < float(rate["Default"]) <= 0.1
