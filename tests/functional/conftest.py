"""One local cloud per test module: deploying costs about a second, executions milliseconds."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from thumbflow.local.cloud import LocalCloud
from thumbflow.local.template import load_template

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


class Lines:
    """A log sink for ``LocalCloud(log=...)``: the lines handlers wrote, in order, whole."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self.lines.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def records(self) -> list[dict[str, Any]]:
        """The lines that are JSON objects (Powertools log lines and metrics)."""
        return self.records_of(list(self.lines))

    @staticmethod
    def records_of(lines: list[str]) -> list[dict[str, Any]]:
        found = []
        for line in lines:
            try:
                value = json.loads(line)
            except ValueError:
                continue
            if isinstance(value, dict):
                found.append(value)
        return found


def template_copy(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """template.yaml as JSON in ``tmp_path``, changed by ``edit``, its paths pointing at the repo.

    A limit or variable a test needs comes from a template, as it would in AWS."""
    template = load_template(ROOT / "template.yaml")
    globals_fn = template.setdefault("Globals", {}).setdefault("Function", {})
    globals_fn["CodeUri"] = str((ROOT / globals_fn.get("CodeUri", ".")).resolve())
    for res in template["Resources"].values():
        props = res.get("Properties") or {}
        for name in ("CodeUri", "DefinitionUri"):
            if isinstance(props.get(name), str):
                props[name] = str((ROOT / props[name]).resolve())
    edit(template)
    path = tmp_path / "template.yaml"
    path.write_text(json.dumps(template, indent=1), encoding="utf-8")
    return path
