"""Face-aware crops: the centre of the largest face Rekognition finds, as a smart crop's focal point.

Off unless the function's environment says ``FACE_AWARE_CROPS=true`` (the template's
``FaceAwareCrops`` parameter). Even then Rekognition is asked only when there is a ``smart``
cover size to place and the source is an image it reads from S3 (JPEG or PNG up to 15 MB),
so a deployment pays for DetectFaces on those images alone. Its bounding boxes are fractions
of the image as displayed (Rekognition applies a JPEG's EXIF orientation first), which is
the focus ``imaging.render`` takes.

A face refines a crop; it is never a reason to fail thumbnails: an image Rekognition refuses
or cannot read leaves the crop to the image's own attention scores. Throttling and service
errors are ``TransientError``, so the workflow's Retry asks again rather than settling for a
crop the stored thumbnail would then keep.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import admission, clients
from .errors import TransientError
from .records import PinnedSource
from .spec import SizeSpec

ENV = "FACE_AWARE_CROPS"
# Rekognition's answers that may clear on their own; anything else means "no face to use".
_TRANSIENT = frozenset({
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "InternalServerError",
    "ServiceUnavailable",
})

rekognition = clients.Lazy("rekognition")  # made only when face-aware crops are on


def enabled() -> bool:
    """Whether this function was deployed with face-aware crops on."""
    return os.environ.get(ENV, "").strip().lower() == "true"


def wanted(source: PinnedSource, specs: Sequence[SizeSpec]) -> bool:
    """Face-aware crops are on, a smart crop is to be placed, and Rekognition can read the source."""
    return enabled() and any(s.smart for s in specs) and admission.moderatable(source)


def focus(source: PinnedSource, specs: Sequence[SizeSpec]) -> tuple[float, float] | None:
    """The centre of the largest face in the source (fractions of the displayed image), if any."""
    if not wanted(source, specs):
        return None
    s3_object = {"Bucket": source.bucket, "Name": source.key}
    if source.version:
        s3_object["Version"] = source.version
    try:
        answer = rekognition().detect_faces(Image={"S3Object": s3_object}, Attributes=["DEFAULT"])
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _TRANSIENT:
            raise TransientError(f"DetectFaces {source.key}: {code}") from exc
        return None  # InvalidImageFormat, ImageTooLarge, InvalidS3Object, AccessDenied...
    except BotoCoreError as exc:
        raise TransientError(f"DetectFaces {source.key}: {exc}") from exc
    return largest_centre(answer.get("FaceDetails") or [])


def largest_centre(details: Sequence[Mapping[str, Any]]) -> tuple[float, float] | None:
    """The centre of the largest bounding box among ``FaceDetails``, clamped to the image."""
    boxes = [d.get("BoundingBox") or {} for d in details]
    sized = [(float(b["Width"]) * float(b["Height"]), b) for b in boxes if b.get("Width") and b.get("Height")]
    if not sized:
        return None
    _, box = max(sized, key=lambda item: item[0])
    x = float(box.get("Left", 0)) + float(box["Width"]) / 2
    y = float(box.get("Top", 0)) + float(box["Height"]) / 2
    return min(1.0, max(0.0, x)), min(1.0, max(0.0, y))
