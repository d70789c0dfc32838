"""Names and environments local mode gives the template's resources, before creating any."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from thumbflow.local.deploy import lambda_environment
from thumbflow.local.names import physical_names, workflow_functions
from thumbflow.local.template import TemplateError, load_template

ROOT = Path(__file__).resolve().parents[4]


def test_names_follow_ref_and_getatt() -> None:
    refs, attrs = physical_names(load_template(ROOT / "template.yaml"), "demo")
    assert refs["SourceBucket"] == "demo-sourcebucket"
    assert attrs[("ResizeFunction", "Arn")] == (
        "arn:aws:lambda:us-east-1:123456789012:function:demo-ResizeFunction")
    assert refs["ThumbnailWorkflow"].endswith(":stateMachine:demo-ThumbnailWorkflow")
    # SAM names the rule of an EventBridgeRule event <StateMachine><Event>.
    assert attrs[("ThumbnailWorkflowUpload", "Arn")] == (
        "arn:aws:events:us-east-1:123456789012:rule/demo-ThumbnailWorkflowUpload")


def test_a_dead_letter_queue_sam_generates_is_named_like_one_declared() -> None:
    event = {"Type": "EventBridgeRule", "Properties": {"DeadLetterConfig": {"Type": "SQS"}}}
    template: dict[str, Any] = {"Resources": {"Flow": {"Type": "AWS::Serverless::StateMachine",
                                                       "Properties": {"Events": {"Up": event}}}}}
    _, attrs = physical_names(template, "s")
    assert attrs[("FlowEventsDeadLetterQueue", "Arn")] == (
        "arn:aws:sqs:us-east-1:123456789012:s-FlowEventsDeadLetterQueue")


def test_the_environment_is_the_templates_variables_then_lambdas(tmp_path: Path) -> None:
    env = lambda_environment("demo-Fn", "pkg.mod.handler", tmp_path, 512, "python3.13",
                             {"SOURCE_BUCKET": "src", "MAX": 5}, "Fn")
    assert env["SOURCE_BUCKET"] == "src" and env["MAX"] == "5"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "demo-Fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path) and env["_HANDLER"] == "pkg.mod.handler"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert all(isinstance(v, str) for v in env.values())


@pytest.mark.parametrize("name", ["AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "LAMBDA_TASK_ROOT", "_HANDLER"])
def test_reserved_variables_are_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="reserves"):
        lambda_environment("f", "m.h", tmp_path, 128, "python3.13", {name: "x"}, "F")


def test_a_workflows_functions_are_those_its_substitutions_name() -> None:
    template = load_template(ROOT / "template.yaml")
    assert workflow_functions(template, "ThumbnailWorkflow") == {
        "ValidateFunction", "ResizeFunction", "FlagFunction"}
    assert workflow_functions(template, "PurgeWorkflow") == {"PurgeFunction"}
    assert workflow_functions(template, "NoSuchWorkflow") == set()
