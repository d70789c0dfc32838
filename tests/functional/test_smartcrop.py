"""`gravity: smart` end to end: the default 128x128 thumb keeps a subject a centred crop would cut,
and a thumb stored with the centred crop is brought up to date by a backfill, alone.

The oracle is the synthetic subject's own mask (where it was drawn), never the crop code: the
window a thumbnail shows is found by matching it against every window of the source, and the
share of the subject inside it is counted on the mask.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from tests import images
from tests.functional.conftest import ROOT, TIME_SCALE, output, run_upload
from tests.functional.drills import Deployment
from tests.reliability import record
from thumbflow import catalogue
from thumbflow.local.cloud import LocalCloud

WIDTH, HEIGHT = 960, 540
SUBJECT_AT = (0.84, 0.5)  # the subject's centre, as fractions of the frame


def subject() -> tuple[Image.Image, Image.Image, bytes]:
    """The source (a face-like subject near the right edge), its mask, and its JPEG bytes."""
    im, mask = images.off_centre_subject(WIDTH, HEIGHT, at=SUBJECT_AT)
    return im, mask, images.save(im, "JPEG", quality=92)


def shown_window(thumb: Image.Image, source: Image.Image) -> int:
    """The left edge of the square window of ``source`` that ``thumb`` shows (best match)."""
    side, probe = source.height, (32, 32)
    target = thumb.convert("RGB").resize(probe, Image.Resampling.BOX)

    def distance(x0: int) -> float:
        window = source.crop((x0, 0, x0 + side, side)).resize(probe, Image.Resampling.BOX)
        return sum(ImageStat.Stat(ImageChops.difference(window, target)).mean)

    return min(range(0, source.width - side + 1, 2), key=distance)


def subject_kept(mask: Image.Image, x0: int) -> float:
    """Share of the subject's pixels inside the square window starting at ``x0``."""
    side = mask.height
    total = ImageStat.Stat(mask).sum[0]
    return ImageStat.Stat(mask.crop((x0, 0, x0 + side, side))).sum[0] / total


def stored(cloud: LocalCloud, key: str) -> tuple[Image.Image, dict[str, str], str]:
    got = cloud.client("s3").get_object(Bucket=cloud.deployed.thumbnail_bucket, Key=key)
    return Image.open(io.BytesIO(got["Body"].read())), got["Metadata"], got["ETag"]


@pytest.fixture()
def cloud() -> Iterator[LocalCloud]:
    """Function-scoped: the backfill test runs two clouds of its own, one after the other."""
    with LocalCloud(time_scale=TIME_SCALE) as c:
        yield c


def test_the_default_thumb_keeps_the_subject_a_centred_crop_would_cut(cloud: LocalCloud) -> None:
    source, mask, data = subject()
    _, desc = run_upload(cloud, "smart/portrait.jpg", data)
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    thumb = next(t for t in output(desc)["thumbnails"] if t["size"] == "128x128")
    im, _, _ = stored(cloud, thumb["key"])
    assert im.size == (128, 128)
    side = HEIGHT
    centred = (WIDTH - side) // 2
    x0 = shown_window(im, source)
    kept, kept_centred = subject_kept(mask, x0), subject_kept(mask, centred)
    # Where the subject is: its oval spans 0.3 x the short side around SUBJECT_AT.
    half = 0.15 * side
    assert centred + side < WIDTH * SUBJECT_AT[0] + half  # the centred square cuts it, by construction
    assert kept_centred < 0.3
    assert kept >= 0.95 and kept > kept_centred + 0.5
    assert [r for r in cloud.wire.requests if r.service == "rekognition"] == []  # FaceAwareCrops is off
    record("Smart crop", "128x128 thumb of a subject at 84% of the width (local mode, default Configure)",
           "the thumb keeps >= 95% of the subject; a centred crop would keep < 30%",
           f"kept {kept:.0%} (window at x={x0} of {WIDTH - side}); centred would keep {kept_centred:.0%}")


def _centred_thumb(tmp_path: Path) -> Path:
    """The real definition as it was before the thumb was smart: its 128x128 size without gravity."""
    definition = json.loads((ROOT / "statemachine" / "thumbnails.asl.json").read_text())
    for size in definition["States"]["Configure"]["Parameters"]["config"]["sizes"]:
        size.pop("gravity", None)
    path = tmp_path / "centred.asl.json"
    path.write_text(json.dumps(definition))
    return path


@pytest.fixture()
def made_centred(tmp_path: Path) -> Iterator[tuple[LocalCloud, dict[str, tuple[str, str]]]]:
    """A cloud whose sources were made while the thumb was centred, then given today's definition.

    Yields the cloud and, per thumbnail key, its ETag and spec digest as the centred run stored them.
    """
    with LocalCloud(definition_path=_centred_thumb(tmp_path), time_scale=TIME_SCALE) as before:
        for i in range(2):
            _, desc = run_upload(before, f"old/subject-{i}.jpg", subject()[2])
            assert desc["status"] == "SUCCEEDED", desc.get("cause")
        kept = Deployment.of(before)

    with LocalCloud(time_scale=TIME_SCALE, before_notifications=kept.restore) as after:
        s3 = after.client("s3")
        seen = {}
        for key in kept.thumbnails:
            head = s3.head_object(Bucket=after.deployed.thumbnail_bucket, Key=key)
            seen[key] = (head["ETag"], head["Metadata"]["spec"])
        yield after, seen


def test_a_backfill_re_renders_the_centred_thumbs_and_only_those(
    made_centred: tuple[LocalCloud, dict[str, tuple[str, str]]],
) -> None:
    cloud, before = made_centred
    first = catalogue.backfill(cloud, None)
    assert first["status"] == "SUCCEEDED", first
    assert (first["sources"], first["rendered"], first["failed"]) == (2, 2, 0)
    source, mask, _ = subject()
    for key, (etag, digest) in before.items():
        im, meta, now = stored(cloud, key)
        if key.endswith("_128x128.jpg"):
            assert now != etag and meta["spec"] != digest  # re-rendered with the smart spec
            assert subject_kept(mask, shown_window(im, source)) >= 0.95
        else:
            assert (now, meta["spec"]) == (etag, digest), key  # the other sizes kept as they were
    second = catalogue.backfill(cloud, None)
    assert (second["rendered"], second["current"]) == (0, 2)
    record("Smart crop", "Configure's thumb made smart, then two backfills over thumbs made centred",
           "first re-renders the 2 sources' 128x128 only, second renders 0",
           f"first: {first['rendered']} rendered; second: {second['rendered']} rendered, "
           f"{second['current']} current")
