"""Backfill: a size added to Configure reaches every existing source, and only once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import images
from tests.functional.conftest import TIME_SCALE, run_upload
from tests.functional.drills import claims, put_claims
from tests.functional.test_failures import definition_with
from tests.reliability import record
from thumbflow import catalogue
from thumbflow.local import LocalCloud


@pytest.fixture()
def grown(tmp_path: Path) -> Iterator[LocalCloud]:
    """A cloud whose sources were made with the default sizes; then Configure gains a banner."""
    with LocalCloud(time_scale=TIME_SCALE) as before:
        for i in range(3):
            run_upload(before, f"old/photo-{i}.jpg", images.jpeg(900, 600))
        run_upload(before, "old/notes.jpg", b"plain text")
        saved = {k: before.client("s3").get_object(Bucket=before.deployed.source_bucket, Key=k)["Body"].read()
                 for k in before.objects(before.deployed.source_bucket)}
        thumbs = {k: before.client("s3").get_object(Bucket=before.deployed.thumbnail_bucket, Key=k)
                  for k in before.objects(before.deployed.thumbnail_bucket)}
        kept = {k: (v["Body"].read(), v["Metadata"], v.get("ContentType", "")) for k, v in thumbs.items()}
        owners = claims(before)
    banner = {"name": "banner", "width": 300, "height": 100, "fit": "cover", "format": "jpeg", "quality": 70}
    with LocalCloud(definition_path=definition_with(tmp_path, add_size=banner), time_scale=TIME_SCALE,
                    before_notifications=lambda c: _restore(c, saved, kept, owners)) as after:
        yield after


def _restore(cloud: LocalCloud, sources: dict[str, bytes],
             thumbs: dict[str, tuple[bytes, dict[str, str], str]], owners: dict[str, str]) -> None:
    s3 = cloud.client("s3")
    for key, body in sources.items():
        s3.put_object(Bucket=cloud.deployed.source_bucket, Key=key, Body=body)
    for key, (body, meta, ctype) in thumbs.items():
        s3.put_object(Bucket=cloud.deployed.thumbnail_bucket, Key=key, Body=body, Metadata=meta,
                      ContentType=ctype or "application/octet-stream", Tagging="thumbnail=yes")
    put_claims(cloud, owners)  # the stems' owners, as the deployment kept them


def test_backfill_brings_every_source_up_to_date_once(grown: LocalCloud) -> None:
    cloud = grown
    first = catalogue.backfill(cloud, None)
    assert first["status"] == "SUCCEEDED", first
    assert first["sources"] == 4 and first["rendered"] == 3 and first["failed"] == 0
    assert first["skippedBy"] == {"text": 1}
    for i in range(3):
        assert f"old/photo-{i}_300x100.jpg" in cloud.objects(cloud.deployed.thumbnail_bucket)
    second = catalogue.backfill(cloud, None)
    assert second["status"] == "SUCCEEDED"
    assert (second["rendered"], second["current"], second["failed"]) == (0, 3, 0)
    record("Backfill", "a size added to Configure, then two backfills",
           "first renders the 3 images (the text file skipped by name), second renders 0",
           f"first: {first['rendered']} rendered, skipped {first['skippedBy']}; "
           f"second: {second['rendered']} rendered, {second['current']} current")
