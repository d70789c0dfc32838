"""The two input shapes: S3's EventBridge event (as AWS documents it) and ``{bucket, key}``."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from thumbnailer import inputs
from thumbnailer.errors import ImageRejected, InputIgnored
from thumbnailer.records import SourceRef

from tests.unit.conftest import REPO

EVENTS = REPO / "events"


def load(name: str) -> Any:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def created(**object_fields: Any) -> dict[str, Any]:
    """The documented Object Created event, with the object's fields replaced or added."""
    event = load("object-created.json")
    event["detail"]["object"].update(object_fields)
    return event


def rejected(raw: Any) -> str:
    with pytest.raises(ImageRejected) as caught:
        inputs.parse(raw)
    return caught.value.reason


def test_the_documented_object_created_event() -> None:
    assert inputs.parse(load("object-created.json")) == SourceRef(
        "thumbflow-sourcebucket", "samples/landscape.jpg", etag="d8286fc44f5c6d8a2a9ce8ef5099490e"
    )


def test_an_encoded_key_is_passed_on_as_sent_for_storage_to_resolve() -> None:
    ref = inputs.parse(load("object-created-encoded-key.json"))
    assert ref.key == "samples/my+holiday+photo+%281%29.jpg"
    assert ref.etag is None  # the fixture has none: nothing to pin


def test_version_and_a_quoted_etag_are_read() -> None:
    ref = inputs.parse(created(**{"version-id": "3HL4kqtJlcpXroDTDmJ", "etag": '"abc"'}))
    assert (ref.etag, ref.version) == ("abc", "3HL4kqtJlcpXroDTDmJ")


@pytest.mark.parametrize("empty", [None, "", "null"])
def test_an_empty_etag_pins_nothing(empty: Any) -> None:
    assert inputs.parse(created(etag=empty)).etag is None


def test_manual_input() -> None:
    assert inputs.parse(load("manual.json")) == SourceRef("thumbflow-sourcebucket", "samples/landscape.jpg")
    pinned = inputs.parse({"bucket": "b", "key": "k.jpg", "etag": "e", "version": "v"})
    assert (pinned.etag, pinned.version) == ("e", "v")


@pytest.mark.parametrize("kind", ["Object Deleted", "Object Tags Added", "Object Restore Completed"])
def test_s3_events_that_are_not_uploads_are_ignored_by_name(kind: str) -> None:
    event = load("object-created.json")
    event["detail-type"] = kind
    del event["detail"]["object"]["etag"]  # a delete has none
    with pytest.raises(InputIgnored, match="^not-an-upload: " + kind):
        inputs.parse(event)


def _broken(path: tuple[str, ...], value: Any = KeyError) -> dict[str, Any]:
    event = copy.deepcopy(load("object-created.json"))
    *parents, last = path
    target = event
    for part in parents:
        target = target[part]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return event


MALFORMED: list[tuple[str, Any]] = [
    ("a list", [load("object-created.json")]),
    ("a string", "samples/landscape.jpg"),
    ("null", None),
    ("a number", 42),
    ("neither shape", load("bad/not-an-upload.json")),
    ("no bucket name", _broken(("detail", "bucket", "name"))),
    ("empty bucket name", _broken(("detail", "bucket", "name"), "")),
    ("bucket name a number", _broken(("detail", "bucket", "name"), 123)),
    ("bucket a string", _broken(("detail", "bucket"), "thumbflow-sourcebucket")),
    ("no bucket", _broken(("detail", "bucket"))),
    ("no object", _broken(("detail", "object"))),
    ("object a list", _broken(("detail", "object"), [])),
    ("no key", _broken(("detail", "object", "key"))),
    ("key a number", _broken(("detail", "object", "key"), 7)),
    ("key a list", _broken(("detail", "object", "key"), ["a.jpg"])),
    ("etag a number", _broken(("detail", "object", "etag"), 5)),
    ("version-id an object", _broken(("detail", "object", "version-id"), {"id": "v"})),
    ("no detail", _broken(("detail",))),
    ("detail a list", _broken(("detail",), [])),
    ("another service's event", _broken(("source",), "aws.ec2")),
    ("no source", _broken(("source",))),
    ("no detail-type", _broken(("detail-type",))),
    ("detail-type a list", _broken(("detail-type",), ["Object Created"])),
    ("manual without a key", {"bucket": "b"}),
    ("manual with an empty key", {"bucket": "b", "key": ""}),
    ("manual without a bucket", {"key": "k.jpg"}),
    ("manual bucket a list", {"bucket": ["b"], "key": "k.jpg"}),
    ("manual version a number", {"bucket": "b", "key": "k.jpg", "version": 3}),
]


@pytest.mark.parametrize(("case", "raw"), MALFORMED, ids=[c for c, _ in MALFORMED])
def test_malformed_inputs_are_rejected_as_bad_input(case: str, raw: Any) -> None:
    assert rejected(raw) == "bad-input"


@pytest.mark.parametrize("shape", ["event", "manual"])
def test_a_key_s3_could_not_hold_is_key_too_long(shape: str) -> None:
    def wrap(key: str) -> dict[str, Any]:
        return created(key=key) if shape == "event" else {"bucket": "b", "key": key}

    assert inputs.parse(wrap("k" * 1024)).key == "k" * 1024  # S3's limit, exactly
    assert rejected(wrap("k" * 1025)) == "key-too-long"
    assert rejected(wrap("é" * 513)) == "key-too-long"  # 513 characters, 1026 bytes


@pytest.mark.parametrize("shape", ["event", "manual"])
def test_a_lone_surrogate_is_bad_input(shape: str) -> None:
    key = json.loads('"photos/\\udc80.jpg"')  # valid JSON, not valid UTF-8
    raw = created(key=key) if shape == "event" else {"bucket": "b", "key": key}
    assert rejected(raw) == "bad-input"


def test_a_huge_value_is_bounded_where_a_message_repeats_it() -> None:
    event = _broken(("source",), "x" * 100_000)
    with pytest.raises(ImageRejected) as caught:
        inputs.parse(event)
    assert len(str(caught.value)) < 400
    assert inputs.shown("short") == "short"
    assert inputs.shown("y" * 500).endswith("(500 characters)")
