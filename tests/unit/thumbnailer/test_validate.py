"""The Validate handler: the state's payload in, the verdict payload out, one metric per verdict."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from thumbnailer.errors import TransientError
from thumbnailer.validate import handler

from tests import images
from tests.unit.conftest import REPO, Context, S3Stub, emitted_metrics

BUCKET = "thumbflow-sourcebucket"
DEFINITION = json.loads((REPO / "statemachine" / "thumbnails.asl.json").read_text())
CONFIG = DEFINITION["States"]["Configure"]["Parameters"]["config"]
ALERTS = DEFINITION["States"]["Configure"]["Parameters"]["alerts"]
ETAG = "d8286fc44f5c6d8a2a9ce8ef5099490e"


@pytest.fixture(autouse=True)
def source_bucket(env: Callable[..., Any]) -> None:
    env(SOURCE_BUCKET=BUCKET)


def payload(raw: Any, **config: Any) -> dict[str, Any]:
    """What the definition's Validate state sends (see its Parameters)."""
    merged = {**CONFIG, **config}
    return {"input": raw, "sizes": merged["sizes"], "groupMaxPixels": merged["groupMaxPixels"],
            "moderation": {"enabled": "false", "minConfidence": "80"}, "alerts": ALERTS,
            "execution": "arn:unit:exec"}


def upload() -> dict[str, Any]:
    return json.loads((REPO / "events" / "object-created.json").read_text())


def test_the_answer_has_every_key_the_result_selector_reads(
    s3: S3Stub, context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    data = images.jpeg(640, 480)
    s3.source(BUCKET, "samples/landscape.jpg", data, etag=ETAG)
    out = handler(payload(upload()), context)
    selector = DEFINITION["States"]["Validate the upload"]["ResultSelector"]
    assert {path.removeprefix("$.Payload.") for path in selector.values()} == set(out)
    assert out["verdict"] == "accepted"
    assert out["source"]["width"] == 640
    assert emitted_metrics(capsys.readouterr().out) == {"ImagesAccepted": 1}


@pytest.mark.parametrize(
    ("raw", "config", "verdict", "metric"),
    [
        ({"hello": "world"}, {}, "rejected", "ImagesRejected"),
        ("a string", {}, "rejected", "ImagesRejected"),
        (None, {}, "rejected", "ImagesRejected"),
        ({**upload(), "detail-type": "Object Deleted"}, {}, "ignored", "InputsIgnored"),
        (upload(), {"sizes": [{"width": 0, "height": 1}]}, "misconfigured", "ConfigErrors"),
        (upload(), {"sizes": None}, "misconfigured", "ConfigErrors"),
    ],
    ids=["neither-shape", "string", "null", "delete", "bad-size", "no-sizes"],
)
def test_named_outcomes_are_answers_not_errors(
    s3: S3Stub, context: Context, capsys: pytest.CaptureFixture[str], raw: Any, config: dict[str, Any],
    verdict: str, metric: str
) -> None:
    out = handler(payload(raw, **config), context)
    assert out["verdict"] == verdict
    assert out["failure"]["cause"]
    if verdict != "ignored":  # the alert's text comes from the table the definition passes
        kind = "misconfigured" if verdict == "misconfigured" else "unusable"
        assert (out["failure"]["kind"], out["failure"]["subject"]) == (kind, ALERTS[kind]["subject"])
    assert emitted_metrics(capsys.readouterr().out) == {metric: 1}


def test_a_stale_event_is_superseded(
    s3: S3Stub, context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.source(BUCKET, "samples/landscape.jpg", b"x" * 10, etag="newer")
    assert handler(payload(upload()), context)["verdict"] == "superseded"
    assert emitted_metrics(capsys.readouterr().out) == {"ImagesSuperseded": 1}


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_a_transient_failure_leaves_as_transient_error_for_the_retry(s3: S3Stub, context: Context) -> None:
    s3.error("get_object", "503", 503)
    with pytest.raises(TransientError):
        handler(payload(upload()), context)
