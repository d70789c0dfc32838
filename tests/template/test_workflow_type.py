"""WorkflowType: one parameter switches the translated template between STANDARD and EXPRESS."""

from __future__ import annotations

from typing import Any

import pytest

from thumbflow.cfn import Resolver, TemplateError, parameter_values


def _resolved(translated: dict[str, Any], workflow_type: str) -> tuple[Resolver, dict[str, Any]]:
    """The state machine's properties as CloudFormation would evaluate them."""
    params = parameter_values(translated, {"WorkflowType": workflow_type})
    refs = {lid: lid for lid in translated["Resources"]}
    attrs: dict[tuple[str, str], Any] = {}
    for lid in translated["Resources"]:
        attrs[(lid, "Arn")] = f"arn:{lid}"
    pseudo = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
              "AWS::StackName": "thumbflow", "AWS::URLSuffix": "amazonaws.com"}
    resolver = Resolver(translated, params, refs, attrs, pseudo)
    return resolver, resolver.resolve(translated["Resources"]["ThumbnailWorkflow"]["Properties"])


def test_default_is_standard_without_log_delivery(translated: dict[str, Any]) -> None:
    """STANDARD keeps history in Step Functions: no log group, no logging configuration."""
    assert translated["Parameters"]["WorkflowType"]["Default"] == "STANDARD"
    resolver, props = _resolved(translated, "STANDARD")
    assert props["StateMachineType"] == "STANDARD"
    assert "LoggingConfiguration" not in props
    assert translated["Resources"]["WorkflowLogGroup"]["Condition"] == "IsExpress"
    assert resolver.condition("IsExpress") is False


def test_express_logs_failures_with_their_data(translated: dict[str, Any]) -> None:
    """An Express execution's only record is its log: failures, with their data, to our log group."""
    resolver, props = _resolved(translated, "EXPRESS")
    assert props["StateMachineType"] == "EXPRESS"
    logging = props["LoggingConfiguration"]
    assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is True
    assert logging["Destinations"] == [{"CloudWatchLogsLogGroup": {"LogGroupArn": "arn:WorkflowLogGroup"}}]
    assert resolver.condition("IsExpress") is True
    group = translated["Resources"]["WorkflowLogGroup"]["Properties"]
    assert group["RetentionInDays"] > 0  # logs do not grow forever


def test_other_workflow_types_are_refused(translated: dict[str, Any]) -> None:
    with pytest.raises(TemplateError):
        parameter_values(translated, {"WorkflowType": "SYNC"})
