"""Backfill: a size added to Configure reaches every existing source, and only once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import images
from tests.functional.conftest import TIME_SCALE, run_upload
from tests.functional.drills import Deployment
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
        kept = Deployment.of(before)
    banner = {"name": "banner", "width": 300, "height": 100, "fit": "cover", "format": "jpeg", "quality": 70}
    with LocalCloud(definition_path=definition_with(tmp_path, add_size=banner), time_scale=TIME_SCALE,
                    before_notifications=kept.restore) as after:
        yield after


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
