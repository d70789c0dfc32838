"""Rekognition DetectModerationLabels and DetectFaces, which moto does not implement: answered
from what the caller configures.

DetectModerationLabels answers with the shape of the real API's (``ModerationLabels``
filtered by the request's ``MinConfidence``, default 50, and ``ModerationModelVersion``); a
MinConfidence outside 0..100 gets Rekognition's InvalidParameterException. Which labels an
image carries is the caller's choice: ``labels(bucket, key)``.

DetectFaces answers ``FaceDetails`` (each at least a ``BoundingBox`` of fractions of the image
as displayed, and a ``Confidence``) from ``faces(bucket, key)``; ``Attributes`` other than
Rekognition's names get its InvalidParameterException, and a request without an S3 object its
InvalidS3ObjectException. Unlike Rekognition, neither stand-in reads the S3 object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

LabelsFor = Callable[[str, str], list[dict[str, Any]]]
FacesFor = Callable[[str, str], list[dict[str, Any]]]
MODEL_VERSION = "7.0"
_JSON = {"content-type": "application/x-amz-json-1.1"}
# DetectFaces' Attributes as its API reference lists them.
FACE_ATTRIBUTES = frozenset({
    "DEFAULT", "ALL", "AGE_RANGE", "BEARD", "EMOTIONS", "EYE_DIRECTION", "EYEGLASSES", "EYES_OPEN",
    "GENDER", "MOUTH_OPEN", "MUSTACHE", "FACE_OCCLUDED", "SMILE", "SUNGLASSES",
})


def _error(code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"__type": code, "Message": message}).encode()
    return 400, {**_JSON, "x-amzn-errortype": code}, body


def detect_moderation_labels(body: bytes, labels: LabelsFor) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) for one DetectModerationLabels request."""
    params = json.loads(body or b"{}")
    s3obj = (params.get("Image") or {}).get("S3Object") or {}
    floor = float(params.get("MinConfidence", 50))
    if not 0 <= floor <= 100:
        return _error("InvalidParameterException",
                      "Request has invalid parameters: MinConfidence must be 0..100")
    found = labels(str(s3obj.get("Bucket", "")), str(s3obj.get("Name", "")))
    kept = [label for label in found if float(label.get("Confidence", 0)) >= floor]
    answer = {"ModerationLabels": kept, "ModerationModelVersion": MODEL_VERSION}
    return 200, dict(_JSON), json.dumps(answer).encode()


def detect_faces(body: bytes, faces: FacesFor) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) for one DetectFaces request."""
    params = json.loads(body or b"{}")
    s3obj = (params.get("Image") or {}).get("S3Object") or {}
    if not s3obj.get("Bucket") or not s3obj.get("Name"):
        return _error("InvalidS3ObjectException", "Unable to get object metadata from S3. Check object key, "
                      "region and/or access permissions.")
    unknown = sorted(set(params.get("Attributes") or ["DEFAULT"]) - FACE_ATTRIBUTES)
    if unknown:
        return _error("InvalidParameterException", f"Request has invalid parameters: Attributes {unknown}")
    found = faces(str(s3obj["Bucket"]), str(s3obj["Name"]))
    return 200, dict(_JSON), json.dumps({"FaceDetails": found}).encode()
