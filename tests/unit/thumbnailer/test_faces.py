"""faces: DetectFaces as a smart crop's focal point, asked only when it can matter, never fatal."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from PIL import Image
from thumbnailer import faces, thumbnails
from thumbnailer.errors import TransientError
from thumbnailer.records import PinnedSource
from thumbnailer.settings import Settings
from thumbnailer.spec import SizeSpec

from tests import images
from tests.unit.conftest import CLAIMS, CountingStubber, S3Stub, client

SMART = SizeSpec(128, 128, "cover", gravity="smart")
CENTRE = SizeSpec(128, 128, "cover")
SOURCE = PinnedSource("src", "people/ann.jpg", "e1", "v7", 120_000, "jpeg", 1200, 675)


def face(left: float, top: float, width: float, height: float, confidence: float = 99.0) -> dict[str, Any]:
    box = {"Left": left, "Top": top, "Width": width, "Height": height}
    return {"BoundingBox": box, "Confidence": confidence}


@pytest.fixture
def rekognition(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingStubber]:
    """``faces.rekognition()`` answers from a Stubber on a real client (requests checked by the model)."""
    real = client("rekognition")
    stubber = CountingStubber(real)
    monkeypatch.setattr(faces.rekognition, "client", real)
    monkeypatch.setenv(faces.ENV, "true")
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def asks_for(stubber: CountingStubber, answer: dict[str, Any], source: PinnedSource = SOURCE) -> None:
    s3_object = {"Bucket": source.bucket, "Name": source.key}
    if source.version:
        s3_object["Version"] = source.version
    request = {"Image": {"S3Object": s3_object}, "Attributes": ["DEFAULT"]}
    stubber.add_response("detect_faces", answer, request)


def test_the_largest_face_is_the_focus(rekognition: CountingStubber) -> None:
    found = [face(0.1, 0.1, 0.05, 0.08), face(0.7, 0.2, 0.2, 0.4), face(0.4, 0.5, 0.1, 0.1)]
    asks_for(rekognition, {"FaceDetails": found})
    assert faces.focus(SOURCE, [SMART]) == pytest.approx((0.8, 0.4))


def test_no_face_means_no_focus(rekognition: CountingStubber) -> None:
    asks_for(rekognition, {"FaceDetails": []})
    assert faces.focus(SOURCE, [SMART]) is None


def test_an_unversioned_source_is_named_without_a_version(rekognition: CountingStubber) -> None:
    source = replace(SOURCE, version=None)
    asks_for(rekognition, {"FaceDetails": [face(0.0, 0.0, 0.2, 0.2)]}, source)
    assert faces.focus(source, [SMART]) == pytest.approx((0.1, 0.1))


@pytest.mark.parametrize(
    ("setting", "specs", "source"),
    [
        ("false", [SMART], SOURCE),  # off
        ("", [SMART], SOURCE),  # not set: off
        ("true", [CENTRE, SizeSpec(256, 256)], SOURCE),  # nothing smart to place
        ("true", [SMART], replace(SOURCE, format="webp")),  # Rekognition reads JPEG and PNG only
        ("true", [SMART], replace(SOURCE, bytes=16 * 1024 * 1024)),  # nor above 15 MB
    ],
)
def test_rekognition_is_asked_only_when_a_face_can_matter(
    rekognition: CountingStubber, monkeypatch: pytest.MonkeyPatch, setting: str, specs: list[SizeSpec],
    source: PinnedSource,
) -> None:
    monkeypatch.setenv(faces.ENV, setting)
    assert faces.focus(source, specs) is None  # and nothing was queued: any call would fail the test


@pytest.mark.parametrize("code", ["InvalidImageFormatException", "ImageTooLargeException",
                                  "InvalidS3ObjectException", "AccessDeniedException"])
def test_an_image_rekognition_refuses_is_cropped_without_a_face(
    rekognition: CountingStubber, code: str
) -> None:
    rekognition.add_client_error("detect_faces", code, http_status_code=400)
    assert faces.focus(SOURCE, [SMART]) is None


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException",
                                  "InternalServerError"])
def test_throttling_is_transient_so_the_workflow_retries(rekognition: CountingStubber, code: str) -> None:
    rekognition.add_client_error("detect_faces", code, http_status_code=400)
    with pytest.raises(TransientError, match=code):
        faces.focus(SOURCE, [SMART])


def test_a_connection_failure_is_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    class Unreachable:
        def detect_faces(self, **_: Any) -> Any:
            raise EndpointConnectionError(endpoint_url="https://rekognition.us-east-1.amazonaws.com")

    monkeypatch.setenv(faces.ENV, "true")
    monkeypatch.setattr(faces.rekognition, "client", Unreachable())
    with pytest.raises(TransientError):
        faces.focus(SOURCE, [SMART])


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ([], None),
        ([{"BoundingBox": {}}], None),  # no box: nothing to centre on
        ([face(0.9, 0.9, 0.3, 0.3)], (1.0, 1.0)),  # a box reaching past the edge: clamped
        ([face(0.2, 0.2, 0.1, 0.1), face(0.6, 0.6, 0.1, 0.1)], (0.25, 0.25)),  # equal: the first
    ],
)
def test_largest_centre(details: list[dict[str, Any]], expected: tuple[float, float] | None) -> None:
    got = faces.largest_centre(details)
    assert got == (pytest.approx(expected) if expected else None)


# ----------------------------------------------------------------------------- in make()


def test_make_centres_the_smart_crop_on_the_face(rekognition: CountingStubber, s3: S3Stub) -> None:
    """The image's own scores would pick the face-like blob at the right; Rekognition says left."""
    upright, _ = images.off_centre_subject(1200, 675, at=(0.84, 0.5))
    data = images.save(upright, "JPEG", quality=90)
    source = replace(SOURCE, bytes=len(data))
    settings = Settings("src", "thumbs", 50 * 1024 * 1024, 100_000_000, claims_table=CLAIMS)
    key = "people/ann_128x128.jpg"
    s3.claim("people/ann")  # no claim yet: a new upload, nothing to look for
    asks_for(rekognition, {"FaceDetails": [face(0.05, 0.3, 0.1, 0.2)]}, source)
    s3.get("src", source.key, data, etag="e1", IfMatch='"e1"', VersionId="v7")
    s3.head("src", source.key, etag="e1", size=len(data), IfMatch='"e1"')  # confirms the key's current bytes
    s3.claim_put("people/ann", source.key)
    s3.put()
    (thumb,) = thumbnails.make(settings, source, [SMART])
    assert (thumb.key, thumb.width, thumb.height) == (key, 128, 128)
    shown = Image.open(io.BytesIO(s3.made("PutObject")[-1]["Body"])).convert("RGB")
    reds = [r - b for r, _, b in shown.get_flattened_data()]  # type: ignore[misc]
    assert max(reds) < 20  # the crop at the left edge shows sky only, not the skin at the right
