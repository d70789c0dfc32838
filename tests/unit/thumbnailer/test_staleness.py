"""Which sources a backfill renders: current ones and ones that would be refused again are skipped by name."""

from __future__ import annotations

from typing import Any

import pytest
from thumbnailer import staleness, thumbnails
from thumbnailer.settings import Settings
from thumbnailer.spec import SizeSpec

from tests import images
from tests.unit.conftest import CLAIMS, S3Stub

SETTINGS = Settings("src", "thumbs", 50 * 1024 * 1024, 100_000_000, claims_table=CLAIMS)
THUMB, SMALL = SizeSpec(128, 128, "cover", "auto"), SizeSpec(256, 256, format="jpeg")
SPECS = [THUMB, SMALL]
DATA = images.jpeg(64, 48)


@pytest.fixture(autouse=True)
def one_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stubbed S3 answers in queue order, so a batch is checked one source after the other."""
    monkeypatch.setattr(staleness, "PARALLEL", 1)


def listed(key: str, etag: str = "e1", size: int = len(DATA)) -> dict[str, Any]:
    """An item as the Distributed Map's ItemReader (ListObjectsV2) hands it over."""
    return {"Key": key, "ETag": f'"{etag}"', "Size": size, "LastModified": "2026-01-01T00:00:00+00:00",
            "StorageClass": "STANDARD"}


def stored(s3: S3Stub, key: str, spec: SizeSpec, *, made_from: str = "e1") -> None:
    s3.head("thumbs", key, etag="t", size=9,
            metadata={"source-etag": made_from, "spec": thumbnails.spec_digest(spec)})


def missing(s3: S3Stub, key: str) -> None:
    s3.error("head_object", "404", 404, {"Bucket": "thumbs", "Key": key})


def tags(s3: S3Stub, key: str, **values: str) -> None:
    tag_set = [{"Key": k, "Value": v} for k, v in values.items()]
    s3.stubber.add_response("get_object_tagging", {"TagSet": tag_set}, {"Bucket": "src", "Key": key})


def current(s3: S3Stub, stem: str) -> None:
    stored(s3, f"{stem}_128x128.jpg", THUMB)
    stored(s3, f"{stem}_256x256.jpg", SMALL)


def stale_and_renderable(s3: S3Stub, key: str, data: bytes = DATA, etag: str = "e1") -> None:
    """The first size is missing; not flagged; nobody else owns the names; the header is an image's."""
    stem = key.rsplit(".", 1)[0]
    missing(s3, f"{stem}_128x128.jpg")
    missing(s3, f"{stem}_128x128.webp")
    tags(s3, key)
    s3.claim(stem)
    s3.header("src", key, data, etag=etag)


# ----------------------------------------------------------------------------- is_current


def test_a_source_is_current_when_every_size_is_stored_from_its_bytes_with_todays_spec(s3: S3Stub) -> None:
    current(s3, "p/a")
    assert staleness.is_current(SETTINGS, staleness.Listed("p/a.jpg", "e1", 5), SPECS)


def test_an_auto_size_counts_when_stored_as_webp(s3: S3Stub) -> None:
    missing(s3, "p/a_128x128.jpg")
    stored(s3, "p/a_128x128.webp", THUMB)
    stored(s3, "p/a_256x256.jpg", SMALL)
    assert staleness.is_current(SETTINGS, staleness.Listed("p/a.jpg", "e1", 5), SPECS)


@pytest.mark.parametrize(
    ("made_from", "spec"), [("e0", THUMB), ("e1", SizeSpec(128, 128, "cover", "auto", quality=81))],
    ids=["older-bytes", "older-spec"],
)
def test_a_size_from_other_bytes_or_another_spec_is_stale_and_the_rest_is_not_asked(
    s3: S3Stub, made_from: str, spec: SizeSpec
) -> None:
    stored(s3, "p/a_128x128.jpg", spec, made_from=made_from)
    missing(s3, "p/a_128x128.webp")
    assert not staleness.is_current(SETTINGS, staleness.Listed("p/a.jpg", "e1", 5), SPECS)
    assert len(s3.made("HeadObject")) == 2  # the second size is never looked at


# ----------------------------------------------------------------------------- check


def test_a_batch_sorts_current_stale_and_skipped_by_name(s3: S3Stub) -> None:
    items = [listed("p/cur.jpg"), listed("p/new.jpg", "e7"), listed("p/notes.txt"),
             listed("p/bad.jpg", size=len(images.SVG)), listed("p/flag.jpg"), listed("p/twin.png"),
             listed("p/gone.jpg")]
    current(s3, "p/cur")
    stale_and_renderable(s3, "p/new.jpg", etag="e7")
    # p/notes.txt: not routed, never looked at
    missing(s3, "p/bad_128x128.jpg")
    missing(s3, "p/bad_128x128.webp")
    tags(s3, "p/bad.jpg")
    s3.claim("p/bad", "p/bad.jpg")  # its own claim
    s3.header("src", "p/bad.jpg", images.SVG, etag="e1")  # not an image: Validate would refuse it
    missing(s3, "p/flag_128x128.jpg")
    missing(s3, "p/flag_128x128.webp")
    tags(s3, "p/flag.jpg", moderation="flagged", owner="me")
    missing(s3, "p/twin_128x128.jpg")
    missing(s3, "p/twin_128x128.webp")
    tags(s3, "p/twin.png")
    s3.claim("p/twin", "p/twin.jpg")
    s3.head("src", "p/twin.jpg", etag="x", size=10)  # the owner is still there
    missing(s3, "p/gone_128x128.jpg")
    missing(s3, "p/gone_128x128.webp")
    tags(s3, "p/gone.jpg")
    s3.claim("p/gone")
    s3.error("get_object", "PreconditionFailed", 412)  # overwritten since the listing
    batch = staleness.check(SETTINGS, items, SPECS, [".jpg", ".PNG"])
    assert batch.to_payload() == {
        "checked": 7, "current": 1, "stale": [{"bucket": "src", "key": "p/new.jpg", "etag": "e7"}],
        "skipped": {"changed": 1, "flagged": 1, "name-collision": 1, "not-routed": 1, "svg": 1},
    }
    assert list(batch.to_payload()["skipped"]) == sorted(batch.skipped)


def test_a_gone_owner_of_the_names_does_not_keep_a_source_from_rendering(s3: S3Stub) -> None:
    missing(s3, "p/twin_128x128.jpg")
    missing(s3, "p/twin_128x128.webp")
    tags(s3, "p/twin.png")
    s3.claim("p/twin", "p/twin.jpg")
    s3.error("head_object", "404", 404, {"Bucket": "src", "Key": "p/twin.jpg"})
    s3.header("src", "p/twin.png", DATA, etag="e1")
    batch = staleness.check(SETTINGS, [listed("p/twin.png")], SPECS)
    assert [s["key"] for s in batch.stale] == ["p/twin.png"]


def test_an_empty_object_is_skipped_without_reading_it(s3: S3Stub) -> None:
    missing(s3, "p/zero_128x128.jpg")
    missing(s3, "p/zero_128x128.webp")
    tags(s3, "p/zero.jpg")
    s3.claim("p/zero")
    batch = staleness.check(SETTINGS, [listed("p/zero.jpg", size=0)], SPECS)
    assert batch.skipped == {"empty": 1} and s3.made("GetObject") == []
    assert [c["Key"] for c in s3.made("GetItem")] == [{"stem": {"S": "p/zero"}}]


def test_every_key_is_routed_when_the_rule_filters_no_suffix(s3: S3Stub) -> None:
    assert staleness.routed("a/notes.txt", [])
    assert staleness.routed("a/PHOTO.JPG", [".jpg"]) and staleness.routed("a/x.jpeg", [".JPEG"])
    assert not staleness.routed("a/x.jpg.txt", [".jpg"])
    batch = staleness.check(SETTINGS, [listed("a/notes.txt")], SPECS, [".jpg"])
    assert (batch.checked, batch.skipped, s3.calls) == (1, {"not-routed": 1}, [])


def test_a_listing_item_is_read_as_listobjectsv2_gives_it() -> None:
    assert staleness.Listed.from_item(listed("k.jpg", "abc", 12)) == staleness.Listed("k.jpg", "abc", 12)
    assert staleness.Listed.from_item({"Key": "k.jpg"}) == staleness.Listed("k.jpg", "", 0)


def test_an_empty_batch_checks_nothing(s3: S3Stub) -> None:
    assert staleness.check(SETTINGS, [], SPECS).to_payload() == {"checked": 0, "current": 0, "stale": [],
                                                                 "skipped": {}}


# ----------------------------------------------------------------------------- summarise


def rendered(key: str) -> dict[str, Any]:
    """A stale item after the thumbnail workflow ran on it (ResultPath $.outcome)."""
    return {"bucket": "src", "key": key, "etag": "e1", "outcome": {"status": "SUCCEEDED"}}


def failed(key: str, error: str = "States.TaskFailed") -> dict[str, Any]:
    """What 'Note the failed source' makes of a render that failed."""
    return {"key": key, "outcome": {"status": "FAILED", "error": error}}


def raw_batch(renders: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    return {"checked": 10, "current": 4, "stale": [], "skipped": {"flagged": 1}, "renders": renders, **fields}


def test_a_raw_batch_adds_up_its_renders() -> None:
    totals = staleness.summarise([raw_batch([rendered("a"), failed("b"), rendered("c"),
                                             {"key": "d", "outcome": {"status": "TIMED_OUT"}}])])
    assert totals == {"sources": 10, "current": 4, "rendered": 2, "failed": 2, "skipped": {"flagged": 1},
                      "failures": [{"key": "b", "error": "States.TaskFailed"},
                                   {"key": "d", "error": "TIMED_OUT"}]}


def test_totals_and_raw_batches_add_up_alike() -> None:
    one = raw_batch([rendered("a"), failed("b")])
    two = raw_batch([failed("c")], skipped={"svg": 2, "flagged": 1})
    whole = staleness.summarise([one, two])
    assert staleness.summarise([staleness.summarise([one]), staleness.summarise([two])]) == whole
    assert staleness.summarise([whole]) == whole
    assert whole == {"sources": 20, "current": 8, "rendered": 1, "failed": 2,
                     "skipped": {"flagged": 2, "svg": 2},
                     "failures": [{"key": "b", "error": "States.TaskFailed"},
                                  {"key": "c", "error": "States.TaskFailed"}]}
    assert list(whole["skipped"]) == ["flagged", "svg"]


def test_failures_are_capped_at_twenty_but_all_are_counted() -> None:
    batches = [raw_batch([failed(f"b{b}-{i}") for i in range(15)]) for b in range(3)]
    totals = staleness.summarise(batches)
    assert totals["failed"] == 45
    assert [f["key"] for f in totals["failures"]] == [f"b0-{i}" for i in range(15)] + [
        f"b1-{i}" for i in range(5)]
    assert staleness.summarise([totals, totals])["failures"] == totals["failures"]  # still 20


def test_nothing_adds_up_to_zeros() -> None:
    assert staleness.summarise([]) == {"sources": 0, "current": 0, "rendered": 0, "failed": 0, "skipped": {},
                                       "failures": []}


def test_with_moderation_on_what_rekognition_cannot_read_is_skipped_by_name(s3: S3Stub) -> None:
    """Validate would refuse a WebP as not-moderatable: a backfill does not re-send that alert;
    a JPEG is rendered (and moderated) as usual; with moderation off the WebP renders too."""
    webp = images.save(images.photo(64, 48), "WEBP")
    for moderated in (True, False):
        missing(s3, "p/pic_128x128.jpg")
        missing(s3, "p/pic_128x128.webp")
        tags(s3, "p/pic.webp")
        s3.claim("p/pic")
        s3.header("src", "p/pic.webp", webp, etag="e1")
        batch = staleness.check(SETTINGS, [listed("p/pic.webp", size=len(webp))], SPECS, moderated=moderated)
        assert (batch.skipped, len(batch.stale)) == (({"not-moderatable": 1}, 0) if moderated else ({}, 1))
    stale_and_renderable(s3, "p/new.jpg", etag="e7")
    assert len(staleness.check(SETTINGS, [listed("p/new.jpg", "e7")], SPECS, moderated=True).stale) == 1
