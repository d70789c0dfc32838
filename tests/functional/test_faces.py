"""FaceAwareCrops=true end to end: Resize asks DetectFaces, and the smart thumb centres on the face.

moto has no DetectFaces: local mode's Rekognition stand-in (``thumbflow.local.rekognition``)
answers it with the faces this module says each image has (``LocalCloud(faces=...)``). The
oracle is where the test put the face (the box it answers with)
and the synthetic subject's mask, never the crop code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests import images
from tests.functional.conftest import TIME_SCALE, output, run_upload
from tests.functional.test_smartcrop import HEIGHT, WIDTH, shown_window, stored, subject, subject_kept
from tests.reliability import record
from thumbflow.local.cloud import LocalCloud

# The face each image has (Rekognition's BoundingBox: fractions of the image as displayed).
LEFT_FACE = {"Left": 0.08, "Top": 0.35, "Width": 0.16, "Height": 0.3}  # centre x 0.16
FACES: dict[str, list[dict[str, Any]]] = {
    "faces/left.jpg": [{"BoundingBox": LEFT_FACE, "Confidence": 99.5},
                       {"BoundingBox": {"Left": 0.5, "Top": 0.5, "Width": 0.02, "Height": 0.03},
                        "Confidence": 91.0}],  # a smaller one: not the focus
    "faces/nobody.jpg": [],
}


@pytest.fixture(scope="module")
def cloud() -> Iterator[tuple[LocalCloud, list[dict[str, Any]]]]:
    asked: list[dict[str, Any]] = []

    def faces(bucket: str, key: str) -> list[dict[str, Any]]:
        asked.append({"bucket": bucket, "key": key})
        return FACES.get(key, [])

    with LocalCloud(parameters={"FaceAwareCrops": "true"}, time_scale=TIME_SCALE, faces=faces) as c:
        yield c, asked


def detect_faces_callers(cloud: LocalCloud) -> list[str]:
    """Who asked DetectFaces so far, in order (the wire records every request with its caller)."""
    return [r.caller for r in cloud.wire.requests
            if (r.service, r.operation) == ("rekognition", "DetectFaces")]


def test_the_smart_thumb_centres_on_the_largest_face(cloud: tuple[LocalCloud, list[dict[str, Any]]]) -> None:
    local, asked = cloud
    source, mask, data = subject()  # the image's own attention would pick its subject at the right
    before = len(asked)
    _, desc = run_upload(local, "faces/left.jpg", data)
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert asked[before:] == [{"bucket": local.deployed.source_bucket, "key": "faces/left.jpg"}]
    assert detect_faces_callers(local)[-1:] == ["ResizeFunction"]
    thumb = next(t for t in output(desc)["thumbnails"] if t["size"] == "128x128")
    im, _, _ = stored(local, thumb["key"])
    x0 = shown_window(im, source)
    side = HEIGHT
    face_x = (LEFT_FACE["Left"] + LEFT_FACE["Width"] / 2) * WIDTH
    expected = min(max(0, round(face_x - side / 2)), WIDTH - side)  # centred on the face, kept inside
    assert abs(x0 - expected) <= 4, (x0, expected)
    assert subject_kept(mask, x0) < 0.05  # the right-hand subject is left out: the face won
    record("Smart crop", "FaceAwareCrops=true: DetectFaces says the face is at 16% of the width",
           f"the 128x128 window starts at x={expected} (centred on the face, clamped)",
           f"window at x={x0}; DetectFaces asked by {detect_faces_callers(local)[-1]}")


def test_without_a_face_the_image_places_its_own_crop(cloud: tuple[LocalCloud, list[dict[str, Any]]]) -> None:
    local, asked = cloud
    source, mask, data = subject()
    before = len(asked)
    _, desc = run_upload(local, "faces/nobody.jpg", data)
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert [a["key"] for a in asked[before:]] == ["faces/nobody.jpg"]
    thumb = next(t for t in output(desc)["thumbnails"] if t["size"] == "128x128")
    im, _, _ = stored(local, thumb["key"])
    assert subject_kept(mask, shown_window(im, source)) >= 0.95


def test_rekognition_is_not_asked_about_what_it_cannot_read(
    cloud: tuple[LocalCloud, list[dict[str, Any]]],
) -> None:
    """DetectFaces reads JPEG and PNG only: a WebP source is cropped by its own attention, unasked."""
    local, asked = cloud
    before = len(asked)
    _, desc = run_upload(local, "faces/web.webp", images.save(subject()[0], "WEBP", quality=90))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert asked[before:] == []
    assert json.loads(desc["output"])["thumbnails"]
