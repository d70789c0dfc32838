"""WorkflowType: one parameter switches the translated template between STANDARD and EXPRESS."""

from __future__ import annotations

from typing import Any

import pytest

from thumbflow.local.template import Resolver, TemplateError, parameter_values


class _Attributes(dict[tuple[str, str], Any]):
    """Every GetAtt resolves: ARNs as arn:<id>, any other attribute as <id>.<attribute>."""

    def __missing__(self, key: tuple[str, str]) -> str:
        return f"{key[0]}.{key[1]}"


def _resolved(translated: dict[str, Any], workflow_type: str) -> tuple[Resolver, dict[str, Any]]:
    """The state machine's properties as CloudFormation would evaluate them."""
    params = parameter_values(translated, {"WorkflowType": workflow_type})
    refs = {lid: lid for lid in translated["Resources"]}
    attrs = _Attributes({(lid, "Arn"): f"arn:{lid}" for lid in translated["Resources"]})
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


# The policy Step Functions documents for logging executions to CloudWatch Logs, all on "*"
# (https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy).
DOCUMENTED_LOGGING_ACTIONS = {
    "logs:CreateLogDelivery", "logs:CreateLogStream", "logs:GetLogDelivery",
    "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
    "logs:PutLogEvents", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def _logging_grants(translated: dict[str, Any], workflow_type: str) -> set[tuple[str, str]]:
    """(action, resource) of every logs:* grant of the workflow's role, conditions evaluated."""
    resolver, _ = _resolved(translated, workflow_type)
    policies = resolver.resolve(translated["Resources"]["ThumbnailWorkflowRole"]["Properties"]["Policies"])
    grants: set[tuple[str, str]] = set()
    for policy in policies:
        for statement in policy["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [
                statement["Resource"]]
            grants |= {(a, str(r)) for a in actions if a.startswith("logs:") for r in resources}
    return grants


def test_express_role_gets_exactly_the_documented_logging_policy(translated: dict[str, Any]) -> None:
    """No more than AWS lists (least privilege), no less (or the state machine cannot log)."""
    assert _logging_grants(translated, "EXPRESS") == {(a, "*") for a in DOCUMENTED_LOGGING_ACTIONS}


def test_standard_role_gets_no_logging_grant(translated: dict[str, Any]) -> None:
    assert _logging_grants(translated, "STANDARD") == set()


def test_other_workflow_types_are_refused(translated: dict[str, Any]) -> None:
    with pytest.raises(TemplateError):
        parameter_values(translated, {"WorkflowType": "SYNC"})
