"""The Backfill handler: a batch of the listing in, the stale sources out; then the run's totals."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from thumbnailer import staleness, thumbnails
from thumbnailer.backfill import handler
from thumbnailer.spec import parse_sizes

from tests import images
from tests.unit.conftest import (
    REPO,
    SOURCE,
    THUMBS,
    Context,
    CountingStubber,
    S3Stub,
    described,
    emitted_metrics,
)

THUMBNAILS = (REPO / "statemachine" / "thumbnails.asl.json").read_text()
BACKFILL = json.loads((REPO / "statemachine" / "backfill.asl.json").read_text())
CONFIGURE = parse_sizes(json.loads(THUMBNAILS)["States"]["Configure"]["Parameters"]["config"]["sizes"])
DATA = images.jpeg(64, 48)


@pytest.fixture
def arn(env: Callable[..., Any], sfn: CountingStubber, monkeypatch: pytest.MonkeyPatch) -> str:
    """The deployed thumbnail workflow, described once (a fresh ARN per test: sizes are cached per ARN)."""
    arn = described(sfn, THUMBNAILS)
    monkeypatch.setattr(staleness, "PARALLEL", 1)  # the stubbed S3 answers in queue order
    env(STATE_MACHINE_ARN=arn, ROUTED_SUFFIXES=".jpg,.png")
    return arn


def item(key: str, etag: str = "e1") -> dict[str, Any]:
    return {"Key": key, "ETag": f'"{etag}"', "Size": len(DATA), "LastModified": "2026-01-01T00:00:00.000Z",
            "StorageClass": "STANDARD"}


def current(s3: S3Stub, stem: str) -> None:
    """Every Configure size stored from e1 with today's spec (auto sizes as JPEG)."""
    for spec in CONFIGURE:
        s3.head(THUMBS, f"{stem}_{spec.width}x{spec.height}.jpg", etag="t", size=9,
                metadata={"source-etag": "e1", "spec": thumbnails.spec_digest(spec)})


def stale(s3: S3Stub, key: str) -> None:
    stem = key.rsplit(".", 1)[0]
    box = f"{CONFIGURE[0].width}x{CONFIGURE[0].height}"
    for ext in ("jpg", "webp"):  # Configure's first size is format auto: either may hold it
        s3.error("head_object", "404", 404, {"Bucket": THUMBS, "Key": f"{stem}_{box}.{ext}"})
    s3.stubber.add_response("get_object_tagging", {"TagSet": []}, {"Bucket": SOURCE, "Key": key})
    s3.claim(stem)
    s3.header(SOURCE, key, DATA, etag="e1")


def test_check_answers_with_the_stale_sources_against_configures_sizes(
    arn: str, s3: S3Stub, context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    current(s3, "p/cur")
    stale(s3, "p/new.jpg")
    items = [item("p/cur.jpg"), item("p/new.jpg"), item("p/notes.txt")]
    out = handler({"action": "check", "Items": items, "execution": "arn:unit:exec"}, context)
    assert out == {"checked": 3, "current": 1, "skipped": {"not-routed": 1},
                   "stale": [{"bucket": SOURCE, "key": "p/new.jpg", "etag": "e1"}]}
    assert emitted_metrics(capsys.readouterr().out) == {"BackfillChecked": 3, "BackfillStale": 1}


def test_the_stale_items_are_what_the_workflow_starts_executions_with(arn: str, s3: S3Stub,
                                                                      context: Context) -> None:
    stale(s3, "p/new.jpg")
    out = handler({"action": "check", "Items": [item("p/new.jpg")], "execution": "arn:unit:exec"}, context)
    batch = BACKFILL["States"]["Check every source"]["ItemProcessor"]["States"]
    run = batch["Bring each stale source up to date"]["ItemProcessor"]["States"]["Run the thumbnail workflow"]
    params = run["Parameters"]["Input"]
    read = {v.removeprefix("$.") for k, v in params.items() if k.endswith(".$") and v.startswith("$.")}
    assert read and read <= set(out["stale"][0])  # every field the start reads is there


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_summarise_answers_with_what_the_definition_selects(env: Callable[..., Any],
                                                             context: Context) -> None:
    env()
    batch = {"checked": 3, "current": 1, "stale": [], "skipped": {"svg": 1},
             "renders": [{"bucket": SOURCE, "key": "a.jpg", "etag": "e", "outcome": {"status": "SUCCEEDED"}},
                         {"key": "b.jpg", "outcome": {"status": "FAILED", "error": "States.TaskFailed"}}]}
    inner = handler({"action": "summarise", "batches": [batch], "execution": "arn:unit:exec"}, context)
    out = handler({"action": "summarise", "batches": [inner, inner], "execution": "arn:unit:exec"}, context)
    selector = BACKFILL["States"]["Add up the batches"]["ResultSelector"]
    assert {path.removeprefix("$.Payload.") for path in selector.values()} == set(out)
    assert out == {"sources": 6, "current": 2, "rendered": 2, "failed": 2, "skipped": {"svg": 2},
                   "failures": [{"key": "b.jpg", "error": "States.TaskFailed"}] * 2}


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_summarise_of_no_batches_is_zeros(env: Callable[..., Any], context: Context) -> None:
    env()
    out = handler({"action": "summarise", "batches": None, "execution": "arn:unit:exec"}, context)
    assert (out["sources"], out["failed"], out["failures"]) == (0, 0, [])
