"""Injected faults, the retry branch, moderation and Configure edits, in local mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from thumbnailer.errors import TransientError

from tests import images
from tests.functional.conftest import ROOT, TIME_SCALE, output, run_upload
from thumbflow.local.cloud import LocalCloud
from thumbflow.local.lambdas import Fault


def has_size(width: int) -> Any:
    return lambda event: any(s.get("width") == width for s in event.get("sizes", []))


def resize_calls(cloud: LocalCloud, since: int) -> list[str | None]:
    return [i.error for i in cloud.lambdas.invocations[since:] if i.function == "ResizeFunction"]


def definition_with(tmp_path: Path, **config: Any) -> Path:
    """A copy of the real definition with Configure edited: what an operator would do."""
    definition = json.loads((ROOT / "statemachine" / "thumbnails.asl.json").read_text())
    cfg = definition["States"]["Configure"]["Parameters"]["config"]
    for key, value in config.items():
        if key == "add_size":
            cfg["sizes"].append(value)
        else:
            cfg[key] = value
    path = tmp_path / "edited.asl.json"
    path.write_text(json.dumps(definition))
    return path


@pytest.fixture(scope="module")
def per_size_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    """One Lambda per size (groupMaxPixels 0), so one size can fail while others succeed."""
    path = definition_with(tmp_path_factory.mktemp("def"), groupMaxPixels=0)
    with LocalCloud(definition_path=path, time_scale=TIME_SCALE) as c:
        yield c


def test_transient_fault_is_retried_and_succeeds(per_size_cloud: LocalCloud) -> None:
    cloud = per_size_cloud
    fault = Fault("ResizeFunction", TransientError("S3 SlowDown (injected)"), when=has_size(256),
                  times=2)
    throttle = Fault("ResizeFunction", "throttle", when=has_size(512), times=1)
    since = len(cloud.lambdas.invocations)
    with cloud.injecting(fault, throttle):
        _, desc = run_upload(cloud, "faults/transient.jpg", images.jpeg(800, 600))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert fault.fired == 2 and throttle.fired == 1
    assert resize_calls(cloud, since).count("TransientError") == 2
    assert len(output(desc)["thumbnails"]) == 4
    assert not [a for a in cloud.alerts() if a.body.get("key") == "faults/transient.jpg"]


def test_persistent_fault_goes_through_retry_branch_then_alerts(per_size_cloud: LocalCloud) -> None:
    cloud = per_size_cloud
    key = "faults/persistent.jpg"
    since = len(cloud.lambdas.invocations)
    with cloud.injecting(Fault("ResizeFunction", TransientError("disk on fire (injected)"),
                               when=has_size(256))):
        arn, desc = run_upload(cloud, key, images.jpeg(800, 600))
    assert desc["status"] == "FAILED"
    assert desc["error"] == "ThumbnailsFailed"
    assert "256x256" in desc["cause"] and "TransientError" in desc["cause"]
    # 5 attempts (1 + 4 retries) in the first pass, 5 more in the retry branch.
    assert resize_calls(cloud, since).count("TransientError") == 10
    events = [e["type"] for e in cloud.history(arn)]
    assert "WaitStateEntered" in events
    alerts = [a.body for a in cloud.alerts() if a.body.get("execution") == arn]
    assert len(alerts) == 1 and alerts[0]["error"] == "ThumbnailsFailed"
    # The execution ends in a Fail state after alerting: redrive would only re-enter it, so the
    # alert points at re-running the input, which renders only what is missing.
    assert "redrive" not in alerts[0]["howToRerun"]
    assert "--cli-input-json file://rerun.json" in alerts[0]["howToRerun"]
    # The other sizes were made; re-running the same input once the fault is gone
    # renders only the missing size.
    made = {k for k in cloud.objects(cloud.deployed.thumbnail_bucket) if k.startswith("faults/persistent_")}
    assert made == {f"faults/persistent_{s}x{s}.jpg" for s in (128, 512, 1024)}
    rerun = output(cloud.wait(cloud.execute(json.loads(cloud.describe(arn)["input"]))))
    fresh = [t["size"] for t in rerun["thumbnails"] if not t["reused"]]
    assert fresh == ["256x256"]
