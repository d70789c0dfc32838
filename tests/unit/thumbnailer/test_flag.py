"""The Flag handler: tags the flagged source, keeps its owner's tags, never touches its bytes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from thumbnailer.errors import ImageRejected
from thumbnailer.flag import handler
from thumbnailer.records import PinnedSource

from tests.unit.conftest import SOURCE, Context, S3Stub, emitted_metrics

PINNED = PinnedSource(SOURCE, "up/cat.jpg", "e1", "v7", 10, "jpeg", 1, 1)
WHERE = {"Bucket": SOURCE, "Key": "up/cat.jpg", "VersionId": "v7"}
LABELS = [{"Name": "Violence", "Confidence": 71.5, "ParentName": ""},
          {"Name": "Explicit", "Confidence": 98.2, "ParentName": ""}]


@pytest.fixture(autouse=True)
def environment(env: Callable[..., Any]) -> None:
    env()


def test_flagging_merges_tags_on_the_validated_version(
    s3: S3Stub, context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    s3.stubber.add_response("get_object_tagging", {"TagSet": [{"Key": "owner", "Value": "me"}]}, WHERE)
    want = {"owner": "me", "moderation": "flagged", "moderation-label": "Explicit"}
    s3.stubber.add_response(
        "put_object_tagging", {},
        {**WHERE, "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in want.items()]}},
    )
    out = handler({"source": PINNED.to_payload(), "labels": LABELS, "execution": "arn:unit:exec"}, context)
    assert out == {"tags": want}
    assert {c.operation for c in s3.calls} == {"GetObjectTagging", "PutObjectTagging"}  # no write of bytes
    assert emitted_metrics(capsys.readouterr().out) == {"ImagesFlagged": 1}


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_a_source_deleted_meanwhile_is_named(s3: S3Stub, context: Context) -> None:
    s3.stubber.add_response("get_object_tagging", {"TagSet": []}, WHERE)
    s3.error("put_object_tagging", "NoSuchKey", 404)
    with pytest.raises(ImageRejected, match="missing"):
        handler({"source": PINNED.to_payload(), "labels": LABELS, "execution": "x"}, context)
