"""Rekognition DetectModerationLabels, which moto does not implement: answered from configured labels.

The answer has the shape of the real API's (``ModerationLabels`` filtered by the
request's ``MinConfidence``, default 50, and ``ModerationModelVersion``); a
MinConfidence outside 0..100 gets Rekognition's InvalidParameterException.
Which labels an image carries is the caller's choice: ``labels(bucket, key)``.
Unlike Rekognition, the stand-in does not read the S3 object.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

LabelsFor = Callable[[str, str], list[dict[str, Any]]]
MODEL_VERSION = "7.0"


def detect_moderation_labels(body: bytes, labels: LabelsFor) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) for one DetectModerationLabels request."""
    params = json.loads(body or b"{}")
    s3obj = (params.get("Image") or {}).get("S3Object") or {}
    floor = float(params.get("MinConfidence", 50))
    headers = {"content-type": "application/x-amz-json-1.1"}
    if not 0 <= floor <= 100:
        error = {"__type": "InvalidParameterException",
                 "Message": "Request has invalid parameters: MinConfidence must be 0..100"}
        return 400, {**headers, "x-amzn-errortype": "InvalidParameterException"}, json.dumps(error).encode()
    found = labels(str(s3obj.get("Bucket", "")), str(s3obj.get("Name", "")))
    kept = [label for label in found if float(label.get("Confidence", 0)) >= floor]
    answer = {"ModerationLabels": kept, "ModerationModelVersion": MODEL_VERSION}
    return 200, headers, json.dumps(answer).encode()
