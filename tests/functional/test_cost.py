"""`thumbflow cost` prices a real local run, and WorkflowType=EXPRESS runs the same workflow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import images
from tests.functional.conftest import TIME_SCALE, output, run_upload
from thumbflow import cost
from thumbflow.local.cloud import LocalCloud
from thumbflow.local.lambdas import Invocation


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`thumbflow cost --json` in a subprocess over one photo and one text file named .jpg."""
    root = tmp_path_factory.mktemp("cost")
    folder = root / "imgs"
    folder.mkdir()
    (folder / "photo.jpg").write_bytes(images.jpeg(1600, 1200))
    (folder / "notes.jpg").write_bytes(images.TEXT)
    proc = subprocess.run(
        [sys.executable, "-m", "thumbflow.cli", "cost", "imgs", "--json", "--state", "state"],
        cwd=root, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_cost_counts_what_the_run_did(measured: dict[str, Any]) -> None:
    usage = measured["usage"]
    assert usage["images"] == 2 and usage["executions"] == 2
    # Validate twice, Resize once (the four default sizes are one render group).
    assert usage["lambda_requests"] == 3
    # Four thumbnails written, each one PUT with its tags; the claim of the stem's names is an item.
    assert usage["s3_tier1"] == 4
    # The photo's claim: looked at once (GetItem, strongly consistent), written once (PutItem).
    # The text file is refused by Validate, before anything looks at claims.
    assert (usage["dynamodb_read_units"], usage["dynamodb_write_units"]) == (1, 1)
    assert usage["custom_events"] == 2  # Thumbnails Ready and Image Rejected
    assert usage["s3_tier2"] >= 3  # Validate's HEAD+GET, Resize's GET at least
    assert usage["sns_publishes"] == 1  # the text file's rejection alert, and nothing else
    assert usage["emails"] == 0  # AlertEmail is empty by default: nobody to mail
    assert usage["transitions"] >= 10 + 5  # a success walks at least 10 states, a rejection 5
    assert usage["lambda_gb_seconds"] > 0 and usage["express_gb_seconds"] > 0
    assert usage["express_log_bytes"] > 0  # the failed execution's events, logged at ERROR
    assert usage["stored_bytes"] > 0 and usage["moderated"] == 0


def test_cost_bill_adds_up_and_express_is_cheaper(measured: dict[str, Any]) -> None:
    lines, totals = measured["lines"], measured["totals"]
    assert totals["STANDARD"] == pytest.approx(sum(line["standard"] for line in lines))
    assert totals["EXPRESS"] == pytest.approx(sum(line["express"] for line in lines))
    by_item = {line["item"]: line for line in lines}
    transitions = by_item["Step Functions state transitions"]
    # $0.025 per 1,000 transitions, per million images.
    assert transitions["standard"] == pytest.approx(
        measured["usage"]["transitions"] / 2 * 0.000025 * 1_000_000)
    assert transitions["express"] == 0
    assert totals["EXPRESS"] < totals["STANDARD"]
    assert measured["prices"]["as_of"]
    # $0.625 per million WRU and $0.125 per million RRU, one of each per photo (of two images).
    assert by_item["DynamoDB writes (name claims, on demand)"]["express"] == pytest.approx(0.625 / 2)
    assert by_item["DynamoDB reads (name claims, strongly consistent)"]["express"] == pytest.approx(0.125 / 2)


def test_price_table_names_its_sources_and_date() -> None:
    prices = cost.load_prices()
    assert prices["as_of"] and prices["region"] == "us-east-1"
    assert all(url.startswith("https://aws.amazon.com/") for url in prices["sources"].values())


def test_xray_sampling_depends_on_the_upload_rate() -> None:
    """The default rule traces the first request each second, then 5 %: slow uploads are all traced."""
    prices = cost.load_prices()
    assert cost.xray_sampled_fraction(1_000_000, prices) == pytest.approx(1.0)
    month = 30 * 24 * 3600
    expected = (month + 0.05 * (100_000_000 - month)) / 100_000_000
    assert cost.xray_sampled_fraction(100_000_000, prices) == pytest.approx(expected)


def test_the_templates_sampling_rule_prices_xray(measured: dict[str, Any]) -> None:
    """The template's rule (no reservoir, TraceSampleRate 0.05 by default) is what is priced."""
    usage = measured["usage"]
    assert usage["trace_reservoir_per_second"] == 0 and usage["trace_fixed_rate"] == pytest.approx(0.05)
    xray = next(line for line in measured["lines"] if line["item"].startswith("X-Ray"))
    per_trace = cost.load_prices()["xray"]["per_trace_recorded"]
    assert xray["standard"] == pytest.approx(0.05 * per_trace * 1_000_000)
    assert "sampling rule: 0/s then 5%" in xray["item"]


def test_a_rule_without_reservoir_traces_the_same_share_at_every_volume() -> None:
    prices = cost.load_prices()
    for volume in (1_000, 1_000_000, 1_000_000_000):
        assert cost.xray_sampled_fraction(volume, prices, 0, 0.05) == pytest.approx(0.05)
    assert cost.xray_sampled_fraction(1_000, prices) == pytest.approx(1.0)  # the default rule's reservoir


def test_the_sampling_rule_is_read_from_the_template() -> None:
    template = {"Resources": {
        "Other": {"Type": "AWS::S3::Bucket"},
        "Rule": {"Type": "AWS::XRay::SamplingRule", "Properties": {"SamplingRule": {
            "ServiceType": "AWS::StepFunctions::StateMachine", "ReservoirSize": 0,
            "FixedRate": {"Ref": "TraceSampleRate"}}}},
    }}

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and value.get("Ref") == "TraceSampleRate":
            return 0.2
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    assert cost.workflow_sampling_rule(template, resolve) == (0.0, 0.2)
    assert cost.workflow_sampling_rule({"Resources": {}}, resolve) is None


def test_transitions_count_states_and_retries() -> None:
    history = [{"type": t} for t in (
        "ExecutionStarted", "PassStateEntered", "PassStateExited", "TaskStateEntered",
        "TaskScheduled", "TaskStarted", "TaskFailed", "TaskScheduled", "TaskStarted",
        "TaskSucceeded", "TaskStateExited", "SucceedStateEntered", "ExecutionSucceeded")]
    assert cost.transitions(history) == 3 + 1  # three states, one retry


def test_lambda_time_stretches_with_the_cpu_share() -> None:
    prices = cost.load_prices()
    cpu_bound = Invocation("ResizeFunction", seconds=0.1, error=None, cpu_seconds=0.1, memory_mb=1024)
    waiting = Invocation("ResizeFunction", seconds=0.1, error=None, cpu_seconds=0.0, memory_mb=1024)
    full = Invocation("ResizeFunction", seconds=0.1, error=None, cpu_seconds=0.1, memory_mb=3008)
    assert cost.lambda_billed_seconds(cpu_bound, prices) == pytest.approx(0.1 * 1769 / 1024, abs=0.001)
    assert cost.lambda_billed_seconds(waiting, prices) == pytest.approx(0.1)
    assert cost.lambda_billed_seconds(full, prices) == pytest.approx(0.1)


def test_express_workflow_runs_the_same_definition(tmp_path: Path) -> None:
    """WorkflowType=EXPRESS: the state machine is created as EXPRESS and makes the same thumbnails."""
    with LocalCloud(parameters={"WorkflowType": "EXPRESS"}, time_scale=TIME_SCALE) as cloud:
        described = cloud.client("stepfunctions").describe_state_machine(
            stateMachineArn=cloud.deployed.state_machine_arn)
        assert described["type"] == "EXPRESS"
        _, desc = run_upload(cloud, "express/photo.jpg", images.jpeg(800, 600))
        assert desc["status"] == "SUCCEEDED"
        assert len(output(desc)["thumbnails"]) == 4
        _, bad = run_upload(cloud, "express/notes.jpg", images.TEXT)
        assert bad["status"] == "FAILED" and bad["error"] == "ImageRejected"
