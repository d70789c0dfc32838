"""The DetectModerationLabels and DetectFaces stand-ins answer as the API does, from what they are given."""

from __future__ import annotations

import json

from thumbflow.local.rekognition import detect_faces, detect_moderation_labels

LABELS = [{"Name": "Violence", "ParentName": "", "Confidence": 91.0},
          {"Name": "Smoking", "ParentName": "Drugs", "Confidence": 55.0}]


def request(**params: object) -> bytes:
    return json.dumps({"Image": {"S3Object": {"Bucket": "src", "Name": "a.jpg"}}, **params}).encode()


def test_labels_below_min_confidence_are_left_out() -> None:
    asked: list[tuple[str, str]] = []

    def labels(bucket: str, key: str) -> list[dict[str, object]]:
        asked.append((bucket, key))
        return LABELS

    status, _, body = detect_moderation_labels(request(MinConfidence=80), labels)
    assert status == 200 and asked == [("src", "a.jpg")]
    answer = json.loads(body)
    assert [label["Name"] for label in answer["ModerationLabels"]] == ["Violence"]
    assert answer["ModerationModelVersion"]


def test_min_confidence_defaults_to_50() -> None:
    _, _, body = detect_moderation_labels(request(), lambda b, k: LABELS)
    assert len(json.loads(body)["ModerationLabels"]) == 2


def test_min_confidence_outside_0_to_100_is_invalid() -> None:
    status, headers, body = detect_moderation_labels(request(MinConfidence=101), lambda b, k: LABELS)
    assert status == 400 and headers["x-amzn-errortype"] == "InvalidParameterException"
    assert json.loads(body)["__type"] == "InvalidParameterException"


FACE = {"BoundingBox": {"Left": 0.1, "Top": 0.2, "Width": 0.3, "Height": 0.4}, "Confidence": 99.0}


def test_faces_are_answered_for_the_object_named() -> None:
    asked: list[tuple[str, str]] = []

    def faces(bucket: str, key: str) -> list[dict[str, object]]:
        asked.append((bucket, key))
        return [FACE]

    status, _, body = detect_faces(request(Attributes=["DEFAULT"]), faces)
    assert status == 200 and asked == [("src", "a.jpg")]
    assert json.loads(body) == {"FaceDetails": [FACE]}


def test_detect_faces_refuses_an_attribute_the_api_does_not_have() -> None:
    status, headers, _ = detect_faces(request(Attributes=["NOSE_LENGTH"]), lambda b, k: [])
    assert status == 400 and headers["x-amzn-errortype"] == "InvalidParameterException"
