"""One local cloud per test module: deploying costs about a second, executions milliseconds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from thumbflow.localcloud import LocalCloud

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
# Retry intervals and the retry branch's wait are real sleeps in the interpreter: scale them.
TIME_SCALE = 0.001


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE) as c:
        yield c


def run_upload(cloud: LocalCloud, key: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """Upload, wait for the execution the rule started for it, return (arn, description)."""
    before = len(cloud.started)
    cloud.upload(key, body)
    started = [arn for arn, ev in cloud.started[before:] if ev["detail"]["object"]["key"] == key]
    assert len(started) == 1, f"expected one execution for {key}, got {started}"
    return started[0], cloud.wait(started[0])


def output(desc: dict[str, Any]) -> dict[str, Any]:
    return json.loads(desc.get("output") or "{}")


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))
