"""S3 failures in the workflow's names, on a stubbed client: nothing leaves the process."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from thumbnailer import storage
from thumbnailer.errors import ImageRejected, SourceChanged, TransientError
from thumbnailer.records import PinnedSource

from tests.unit.conftest import S3Stub, body

SRC = PinnedSource("src", "photos/cat.jpg", "abc", None, 10, "jpeg", 1, 1)
WHERE = {"Bucket": "src", "Key": "photos/cat.jpg"}
PINNED = {**WHERE, "IfMatch": '"abc"'}


def test_one_client_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage.s3, "client", None)
    # Fake keys in the environment end the SDK's credential chain there (no files, no IMDS).
    for name, value in {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "unit",
                        "AWS_SECRET_ACCESS_KEY": "unit", "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    first = storage.s3()
    assert storage.s3() is first
    assert first.meta.config.retries["mode"] == "standard"


# ----------------------------------------------------------------------------- head


def test_head_reads_the_facts_that_pin_later_reads(s3: S3Stub) -> None:
    s3.head("src", "photos/cat.jpg", etag="abc", size=1234, version="v9", metadata={"spec": "x"})
    info = storage.head("src", "photos/cat.jpg")
    assert info == storage.ObjectInfo("src", "photos/cat.jpg", "abc", 1234, "v9", "image/jpeg", {"spec": "x"})


def test_head_of_a_version_asks_for_it(s3: S3Stub) -> None:
    s3.head("src", "photos/cat.jpg", etag="abc", size=1, VersionId="v1")
    assert storage.head("src", "photos/cat.jpg", "v1") is not None


@pytest.mark.parametrize(("code", "status"), [("404", 404), ("NoSuchKey", 404), ("NotFound", 404),
                                              ("NoSuchVersion", 404)])
@pytest.mark.parametrize("source", [True, False])
def test_missing_is_none(s3: S3Stub, code: str, status: int, source: bool) -> None:
    s3.error("head_object", code, status)
    assert storage.head("src", "k", source=source) is None


@pytest.mark.parametrize(("code", "status"), [("SlowDown", 503), ("503", 503), ("500", 500),
                                              ("InternalError", 500), ("RequestTimeout", 400),
                                              ("ThrottlingException", 400), ("Weird", 502)])
@pytest.mark.parametrize("source", [True, False])
def test_throttling_and_5xx_are_transient(s3: S3Stub, code: str, status: int, source: bool) -> None:
    s3.error("head_object", code, status)
    with pytest.raises(TransientError, match="head s3://src/k"):
        storage.head("src", "k", source=source)


@pytest.mark.parametrize(
    ("code", "status", "version", "slug"),
    [
        ("403", 403, None, "access-denied"),
        ("AccessDenied", 403, "v1", "access-denied"),
        ("KeyTooLongError", 400, None, "key-too-long"),
        ("400", 400, "not-a-version", "bad-version"),
        ("InvalidArgument", 400, "not-a-version", "bad-version"),
        ("400", 400, None, "s3-refused"),
        ("405", 405, "v1", "s3-refused"),  # a delete marker's version
        ("InvalidObjectState", 403, None, "access-denied"),
    ],
)
def test_a_source_s3_will_not_serve_is_a_named_rejection(
    s3: S3Stub, code: str, status: int, version: str | None, slug: str
) -> None:
    s3.error("head_object", code, status)
    with pytest.raises(ImageRejected) as caught:
        storage.head("src", "k", version, source=True)
    assert caught.value.reason == slug
    assert "s3://src/k" in str(caught.value)


@pytest.mark.parametrize(("code", "status"), [("403", 403), ("400", 400)])
def test_a_thumbnail_side_refusal_passes_through(s3: S3Stub, code: str, status: int) -> None:
    s3.error("head_object", code, status)
    with pytest.raises(ClientError):
        storage.head("thumbs", "k_1x1.jpg")


def test_connection_failures_are_transient(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port nothing listens on, on this machine: the SDK's own connection error, at once."""
    unreachable = boto3.session.Session("unit", "unit", region_name="us-east-1").client(
        "s3", endpoint_url="http://127.0.0.1:9",
        config=Config(connect_timeout=1, retries={"total_max_attempts": 1}),
    )
    monkeypatch.setattr(storage.s3, "client", unreachable)
    with pytest.raises(TransientError, match="head s3://src/k: Could not connect"):
        storage.head("src", "k", source=True)
    with pytest.raises(TransientError, match=r"read s3://src/photos/cat\.jpg"):
        storage.read(SRC)


# ----------------------------------------------------------------------------- resolve


def test_resolve_asks_once_for_a_plain_key(s3: S3Stub) -> None:
    s3.head("src", "a b.jpg", etag="e", size=1)
    assert storage.resolve("src", "a b.jpg").key == "a b.jpg"  # type: ignore[union-attr]


def test_resolve_falls_back_to_the_decoded_key(s3: S3Stub) -> None:
    s3.error("head_object", "404", 404, {"Bucket": "src", "Key": "my+photo+%281%29.jpg"})
    s3.head("src", "my photo (1).jpg", etag="e", size=1)
    assert storage.resolve("src", "my+photo+%281%29.jpg").key == "my photo (1).jpg"  # type: ignore[union-attr]


def test_resolve_picks_the_key_holding_the_events_bytes(s3: S3Stub) -> None:
    s3.head("src", "a+b.jpg", etag="literal", size=1)
    s3.head("src", "a b.jpg", etag="decoded", size=1)
    assert storage.resolve("src", "a+b.jpg", etag="decoded").key == "a b.jpg"  # type: ignore[union-attr]


def test_resolve_keeps_the_key_as_sent_when_it_holds_the_bytes_or_nothing_matches(s3: S3Stub) -> None:
    s3.head("src", "a+b.jpg", etag="literal", size=1)
    assert storage.resolve("src", "a+b.jpg", etag="literal").key == "a+b.jpg"  # type: ignore[union-attr]
    s3.head("src", "a+b.jpg", etag="literal", size=1)
    s3.head("src", "a b.jpg", etag="decoded", size=1)
    assert storage.resolve("src", "a+b.jpg", etag="neither").etag == "literal"  # type: ignore[union-attr]


def test_resolve_none_when_neither_exists(s3: S3Stub) -> None:
    s3.error("head_object", "404", 404)
    s3.error("head_object", "404", 404)
    assert storage.resolve("src", "a+b.jpg") is None


def ranged(s3: S3Stub, key: str, data: bytes, *, etag: str, total: int, prefetch: int = 16) -> None:
    """A ranged GET of the first ``prefetch`` bytes, answered as S3 does (206, Content-Range)."""
    part = data[:prefetch]
    s3.stubber.add_response(
        "get_object",
        {"Body": body(part), "ETag": f'"{etag}"', "ContentLength": len(part), "VersionId": "v7",
         "ContentRange": f"bytes 0-{len(part) - 1}/{total}", "ContentType": "image/png", "Metadata": {}},
        {"Bucket": "src", "Key": key, "Range": f"bytes=0-{prefetch - 1}"},
    )


def test_a_prefetching_resolve_is_one_ranged_get_with_the_whole_size(s3: S3Stub) -> None:
    data = bytes(range(40))
    ranged(s3, "a.png", data, etag="e", total=1_000_000)
    info = storage.resolve("src", "a.png", prefetch=16)
    assert info is not None and (info.size, info.etag, info.version) == (1_000_000, "e", "v7")
    assert info.content_type == "image/png"
    # The header read that follows is answered from those bytes: no second request.
    assert storage.read(info, (0, 15)) == data[:16] and storage.read(info, (4, 7)) == data[4:8]
    assert len(s3.calls) == 1


def test_a_read_past_the_prefetched_bytes_is_a_pinned_get(s3: S3Stub) -> None:
    data = bytes(range(40))
    ranged(s3, "a.png", data, etag="e", total=40)
    info = storage.resolve("src", "a.png", prefetch=16)
    assert info is not None
    s3.get("src", "a.png", data[10:30], etag="e", IfMatch='"e"', VersionId="v7", Range="bytes=10-29")
    assert storage.read(info, (10, 29)) == data[10:30]


def test_a_small_object_is_prefetched_whole(s3: S3Stub) -> None:
    ranged(s3, "a.png", b"tiny", etag="e", total=4)
    info = storage.resolve("src", "a.png", prefetch=16)
    assert info is not None and info.size == 4 and storage.read(info, (0, 3)) == b"tiny"


def test_an_empty_object_refuses_the_range_and_is_headed(s3: S3Stub) -> None:
    """S3 answers any range of a 0-byte object with 416 InvalidRange."""
    s3.error("get_object", "InvalidRange", 416, {"Bucket": "src", "Key": "e.png", "Range": "bytes=0-15"})
    s3.head("src", "e.png", etag="empty", size=0)
    info = storage.resolve("src", "e.png", prefetch=16)
    assert info is not None and info.size == 0 and info.prefix == b""


def test_a_prefetching_resolve_falls_back_to_the_decoded_key(s3: S3Stub) -> None:
    s3.error("get_object", "NoSuchKey", 404, {"Bucket": "src", "Key": "a+b.png", "Range": "bytes=0-15"})
    ranged(s3, "a b.png", b"0123456789abcdefXYZ", etag="e", total=19)
    info = storage.resolve("src", "a+b.png", prefetch=16)
    assert info is not None and info.key == "a b.png" and info.size == 19


def test_a_prefetch_s3_refuses_is_a_named_rejection(s3: S3Stub) -> None:
    s3.error("get_object", "AccessDenied", 403)
    with pytest.raises(ImageRejected) as exc:
        storage.resolve("src", "a.png", prefetch=16)
    assert exc.value.reason == "access-denied"


# ----------------------------------------------------------------------------- read


def test_read_is_pinned_to_the_etag_version_and_range(s3: S3Stub) -> None:
    pinned = PinnedSource("src", "photos/cat.jpg", "abc", "v2", 10, "jpeg", 1, 1)
    s3.get("src", "photos/cat.jpg", b"0123", IfMatch='"abc"', VersionId="v2", Range="bytes=0-3")
    assert storage.read(pinned, (0, 3)) == b"0123"


def test_a_range_past_the_end_reads_nothing(s3: S3Stub) -> None:
    s3.error("get_object", "InvalidRange", 416)
    assert storage.read(SRC, (100, 200)) == b""


@pytest.mark.parametrize(("code", "status"), [("PreconditionFailed", 412), ("412", 412), ("NoSuchKey", 404),
                                              ("NoSuchVersion", 404)])
def test_replaced_or_deleted_source_bytes_are_source_changed(s3: S3Stub, code: str, status: int) -> None:
    s3.error("get_object", code, status, PINNED)
    with pytest.raises(SourceChanged, match=r"s3://src/photos/cat\.jpg"):
        storage.read(SRC)


@pytest.mark.parametrize(("code", "status", "slug"), [("AccessDenied", 403, "access-denied"),
                                                      ("KeyTooLongError", 400, "key-too-long"),
                                                      ("InvalidRequest", 400, "s3-refused")])
def test_a_refused_read_of_the_source_is_a_named_rejection(s3: S3Stub, code: str, status: int,
                                                           slug: str) -> None:
    s3.error("get_object", code, status)
    with pytest.raises(ImageRejected) as caught:
        storage.read(SRC)
    assert caught.value.reason == slug


def test_a_throttled_read_is_transient(s3: S3Stub) -> None:
    s3.error("get_object", "SlowDown", 503)
    with pytest.raises(TransientError):
        storage.read(SRC)


# ----------------------------------------------------------------------------- confirm


def test_confirm_is_one_conditional_head_of_the_current_object(s3: S3Stub) -> None:
    versioned = PinnedSource("src", "photos/cat.jpg", "abc", "v2", 10, "jpeg", 1, 1)
    s3.head("src", "photos/cat.jpg", etag="abc", size=10, IfMatch='"abc"')  # no VersionId
    storage.confirm(versioned)


@pytest.mark.parametrize(("code", "status"), [("412", 412), ("PreconditionFailed", 412), ("404", 404)])
def test_confirm_raises_source_changed_when_the_bytes_moved_on(s3: S3Stub, code: str, status: int) -> None:
    s3.error("head_object", code, status, PINNED)
    with pytest.raises(SourceChanged):
        storage.confirm(SRC)


def test_confirm_of_a_throttled_head_is_transient(s3: S3Stub) -> None:
    s3.error("head_object", "503", 503)
    with pytest.raises(TransientError):
        storage.confirm(SRC)


# ----------------------------------------------------------------------------- put


def _put(**conditions: object) -> str:
    return storage.put("thumbs", "photos/cat_200x200.jpg", b"jpeg", content_type="image/jpeg",
                       cache_control="max-age=1", tags={"thumbnail": "yes", "a b": "c&d=é"},
                       metadata={"spec": "s"}, **conditions)  # type: ignore[arg-type]


def test_put_writes_tags_and_metadata_in_the_same_request(s3: S3Stub) -> None:
    s3.put(etag="new")
    assert _put() == "new"
    (params,) = s3.made("PutObject")
    assert params["Bucket"] == "thumbs" and params["Key"] == "photos/cat_200x200.jpg"
    assert (params["ContentType"], params["CacheControl"], params["Metadata"]) == (
        "image/jpeg", "max-age=1", {"spec": "s"})
    assert parse_qs(params["Tagging"]) == {"thumbnail": ["yes"], "a b": ["c&d=é"]}
    assert "IfMatch" not in params and "IfNoneMatch" not in params


def test_conditional_puts(s3: S3Stub) -> None:
    s3.put()
    s3.put()
    _put(if_absent=True)
    _put(if_match="old", if_absent=True)  # a known ETag wins over absent
    first, second = s3.made("PutObject")
    assert first["IfNoneMatch"] == "*" and "IfMatch" not in first
    assert second["IfMatch"] == '"old"' and "IfNoneMatch" not in second


@pytest.mark.parametrize(
    ("code", "status"), [("PreconditionFailed", 412), ("ConditionalRequestConflict", 409), ("NoSuchKey", 404)]
)
@pytest.mark.parametrize("condition", [{"if_absent": True}, {"if_match": "old"}])
def test_a_lost_conditional_put_is_a_write_conflict(s3: S3Stub, code: str, status: int,
                                                     condition: dict[str, object]) -> None:
    s3.error("put_object", code, status)
    with pytest.raises(storage.WriteConflict, match=code):
        _put(**condition)


def test_an_unconditional_put_refused_passes_through(s3: S3Stub) -> None:
    s3.error("put_object", "PreconditionFailed", 412)
    with pytest.raises(ClientError):
        _put()
    s3.error("put_object", "AccessDenied", 403)
    with pytest.raises(ClientError):
        _put(if_absent=True)


def test_a_throttled_put_is_transient(s3: S3Stub) -> None:
    s3.error("put_object", "SlowDown", 503)
    with pytest.raises(TransientError):
        _put(if_absent=True)


def test_encode_tags_escapes_every_separator() -> None:
    encoded = storage.encode_tags({"k=1&": "v/ +%"})
    assert (encoded.count("&"), encoded.count("="), " " in encoded) == (0, 1, False)
    assert parse_qs(encoded) == {"k=1&": ["v/ +%"]}
    assert parse_qs(storage.encode_tags({"a": "1", "b": "2"})) == {"a": ["1"], "b": ["2"]}


# ----------------------------------------------------------------------------- tags, get, presign


def test_tags_read_and_replaced_on_the_version(s3: S3Stub) -> None:
    s3.stubber.add_response("get_object_tagging", {"TagSet": [{"Key": "owner", "Value": "me"}]},
                            {**WHERE, "VersionId": "v1"})
    assert storage.get_tags("src", "photos/cat.jpg", "v1") == {"owner": "me"}
    s3.stubber.add_response("put_object_tagging", {},
                            {**WHERE, "Tagging": {"TagSet": [{"Key": "a", "Value": "b"}]}})
    storage.put_tags("src", "photos/cat.jpg", {"a": "b"})


def test_tagging_a_vanished_source_is_a_rejection(s3: S3Stub) -> None:
    s3.error("put_object_tagging", "NoSuchKey", 404)
    with pytest.raises(ImageRejected) as caught:
        storage.put_tags("src", "gone.jpg", {"a": "b"})
    assert caught.value.reason == "missing"
    s3.error("put_object_tagging", "SlowDown", 503)
    with pytest.raises(TransientError):
        storage.put_tags("src", "k.jpg", {"a": "b"})


def test_get_answers_facts_and_bytes_or_none(s3: S3Stub) -> None:
    s3.get("thumbs", "k_1x1.jpg", b"bytes", etag="t1", metadata={"spec": "d"})
    info, data = storage.get("thumbs", "k_1x1.jpg")  # type: ignore[misc]
    assert data == b"bytes"
    assert (info.etag, info.size, info.metadata) == ("t1", 5, {"spec": "d"})
    s3.error("get_object", "NoSuchKey", 404)
    assert storage.get("thumbs", "k_1x1.jpg") is None
    s3.error("get_object", "InternalError", 500)
    with pytest.raises(TransientError):
        storage.get("thumbs", "k_1x1.jpg")


def test_put_without_tags_or_cache_control_sends_neither(s3: S3Stub) -> None:
    s3.put(etag="c1")
    assert storage.put("thumbs", "photos/notes.json", b"{}", content_type="application/json",
                       metadata={}, if_absent=True) == "c1"
    (params,) = s3.made("PutObject")
    assert "Tagging" not in params and "CacheControl" not in params and params["IfNoneMatch"] == "*"


# ----------------------------------------------------------------------------- delete, list

THUMB = {"Bucket": "thumbs", "Key": "photos/cat_200x200.jpg"}


def test_delete_is_conditional_on_the_etag_looked_at(s3: S3Stub) -> None:
    s3.stubber.add_response("delete_object", {}, {**THUMB, "IfMatch": '"t1"'})
    assert storage.delete("thumbs", "photos/cat_200x200.jpg", if_match="t1") is True


@pytest.mark.parametrize(
    ("code", "status"),
    [("PreconditionFailed", 412),  # rewritten since it was looked at
     ("NoSuchKey", 404),  # If-Match on a key that no longer exists
     ("ConditionalRequestConflict", 409)],  # a concurrent PUT or DELETE won the race
)
def test_a_delete_of_what_changed_or_went_is_false_not_an_error(s3: S3Stub, code: str, status: int) -> None:
    """S3's conditional deletes: 412 on another ETag, 404 when absent, 409 on a concurrent write."""
    s3.error("delete_object", code, status, {**THUMB, "IfMatch": '"t1"'})
    assert storage.delete("thumbs", "photos/cat_200x200.jpg", if_match="t1") is False


def test_a_throttled_or_refused_delete_is_raised(s3: S3Stub) -> None:
    s3.error("delete_object", "SlowDown", 503)
    with pytest.raises(TransientError):
        storage.delete("thumbs", "k_1x1.jpg", if_match="t1")
    s3.error("delete_object", "AccessDenied", 403)
    with pytest.raises(ClientError):
        storage.delete("thumbs", "k_1x1.jpg", if_match="t1")


def test_list_keys_follows_every_page_under_the_prefix(s3: S3Stub) -> None:
    s3.stubber.add_response("list_objects_v2", {
        "IsTruncated": True, "NextContinuationToken": "next", "KeyCount": 2,
        "Contents": [{"Key": "photos/cat_1x1.jpg", "ETag": '"a"', "Size": 3},
                     {"Key": "photos/cat_2x2.png", "ETag": '"b"', "Size": 4}]},
        {"Bucket": "thumbs", "Prefix": "photos/cat_"})
    s3.stubber.add_response("list_objects_v2", {
        "IsTruncated": False, "KeyCount": 1,
        "Contents": [{"Key": "photos/cat_3x3.webp", "ETag": '"c"', "Size": 5}]},
        {"Bucket": "thumbs", "Prefix": "photos/cat_", "ContinuationToken": "next"})
    assert list(storage.list_keys("thumbs", "photos/cat_")) == [
        ("photos/cat_1x1.jpg", "a", 3), ("photos/cat_2x2.png", "b", 4), ("photos/cat_3x3.webp", "c", 5)]


def test_an_empty_listing_is_one_request(s3: S3Stub) -> None:
    s3.stubber.add_response("list_objects_v2", {"IsTruncated": False, "KeyCount": 0},
                            {"Bucket": "thumbs", "Prefix": "none_"})
    assert list(storage.list_keys("thumbs", "none_")) == []
    s3.error("list_objects_v2", "InternalError", 500)
    with pytest.raises(TransientError):
        list(storage.list_keys("thumbs", "p"))


def test_presigned_get_is_signed_locally_for_one_object(s3: S3Stub) -> None:
    """No request is queued: a presign that sent one would fail on the stubbed client."""
    url = storage.presigned_get("thumbs", "photos/cat_1024x1024.jpg", 300)
    parts = urlsplit(url)
    assert "thumbs" in parts.netloc + parts.path and parts.path.endswith("photos/cat_1024x1024.jpg")
    query = parse_qs(parts.query)
    if "X-Amz-Expires" in query:  # SigV4: seconds; SigV2: the epoch second it expires
        assert query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
    else:
        assert abs(int(query["Expires"][0]) - time.time() - 300) < 5 and "Signature" in query
