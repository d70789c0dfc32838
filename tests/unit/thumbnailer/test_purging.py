"""Purging a deleted source: its thumbnails and only those, conditionally, any number of times."""

from __future__ import annotations

from typing import Any

from thumbnailer import purging
from thumbnailer.settings import Settings

from tests.unit.conftest import CLAIMS, S3Stub

SETTINGS = Settings("src", "thumbs", 50 * 1024 * 1024, 100_000_000, claims_table=CLAIMS)
CAT = "photos/cat.jpg"
STEM = "photos/cat"


def listing(s3: S3Stub, prefix: str, *keys: str, token: str | None = None, more: str | None = None) -> None:
    """One ListObjectsV2 page under ``prefix`` (``more``: the token of a next page)."""
    resp: dict[str, Any] = {"IsTruncated": more is not None, "KeyCount": len(keys),
                            "Contents": [{"Key": k, "ETag": f'"l-{k}"', "Size": 10} for k in keys]}
    if more:
        resp["NextContinuationToken"] = more
    expected = {"Bucket": "thumbs", "Prefix": prefix, **({"ContinuationToken": token} if token else {})}
    s3.stubber.add_response("list_objects_v2", resp, expected)


def thumb(s3: S3Stub, key: str, *, source: str | None = CAT, made_from: str = "e1", etag: str = "") -> None:
    """A stored thumbnail as HEAD shows it: which source (source-key), which bytes (source-etag)."""
    meta = {"source-etag": made_from, "spec": "d"}
    if source is not None:
        meta["source-key"] = source
    s3.head("thumbs", key, etag=etag or f"t-{key}", size=10, metadata=meta)


def deleted(s3: S3Stub, key: str, etag: str = "") -> None:
    s3.stubber.add_response("delete_object", {}, {"Bucket": "thumbs", "Key": key,
                                                   "IfMatch": f'"{etag or f"t-{key}"}"'})


def source_gone(s3: S3Stub, key: str = CAT) -> None:
    s3.error("head_object", "404", 404, {"Bucket": "src", "Key": key})


def own_claim_released(s3: S3Stub, key: str = CAT, stem: str = STEM) -> None:
    s3.release(stem, key)  # one conditional DeleteItem: the claim still names this source
    source_gone(s3, key)  # and the key is still free after it: nobody uploaded it again meanwhile


# ----------------------------------------------------------------------------- what is purged


def test_only_this_sources_thumbnails_are_purged_and_its_claim_released(s3: S3Stub) -> None:
    source_gone(s3)
    listing(s3, "photos/cat_", "photos/cat_128x128.jpg", "photos/cat_200x200.webp", "photos/cat_64x64.png",
            "photos/cat_32x32.jpg", "photos/cat_x_1x1.jpg", "photos/cat_notes.txt", "photos/cat_1x1_9x9.jpg")
    thumb(s3, "photos/cat_128x128.jpg")  # the workflow's
    thumb(s3, "photos/cat_200x200.webp", made_from="e0")  # on demand, from older bytes of the same key
    thumb(s3, "photos/cat_64x64.png", source="photos/cat.png")  # the other source of the stem
    thumb(s3, "photos/cat_32x32.jpg", source=None)  # names no source: not known to be this one's
    # photos/cat_x_1x1.jpg, photos/cat_1x1_9x9.jpg: other stems; photos/cat_notes.txt: no thumbnail
    deleted(s3, "photos/cat_128x128.jpg")
    deleted(s3, "photos/cat_200x200.webp")
    own_claim_released(s3)
    done = purging.purge(SETTINGS, CAT)
    assert done.purged == ["photos/cat_128x128.jpg", "photos/cat_200x200.webp"]
    assert (done.kept, done.released) == ([], True)
    assert done.paths == ["/photos/cat_128x128.jpg", "/photos/cat_200x200.webp"]
    headed = [c["Key"] for c in s3.made("HeadObject") if c["Bucket"] == "thumbs"]
    assert headed == ["photos/cat_128x128.jpg", "photos/cat_200x200.webp", "photos/cat_64x64.png",
                      "photos/cat_32x32.jpg"]


def test_a_reuploaded_key_keeps_the_thumbnails_of_its_current_bytes_and_its_claim(s3: S3Stub) -> None:
    """Deleted, then uploaded again before the purge ran: only the old bytes' thumbnails go."""
    s3.head("src", CAT, etag="e2", size=10)
    listing(s3, "photos/cat_", "photos/cat_128x128.jpg", "photos/cat_256x256.jpg")
    thumb(s3, "photos/cat_128x128.jpg", made_from="e2")
    thumb(s3, "photos/cat_256x256.jpg", made_from="e1")
    deleted(s3, "photos/cat_256x256.jpg")
    done = purging.purge(SETTINGS, CAT)  # nothing queued for the claim: it is not even looked at
    assert (done.purged, done.kept, done.released) == (["photos/cat_256x256.jpg"], ["photos/cat_128x128.jpg"],
                                                       False)


def test_deletes_are_conditional_so_a_rewritten_thumbnail_survives(s3: S3Stub) -> None:
    source_gone(s3)
    listing(s3, "photos/cat_", "photos/cat_128x128.jpg", "photos/cat_256x256.jpg")
    thumb(s3, "photos/cat_128x128.jpg", etag="seen")
    thumb(s3, "photos/cat_256x256.jpg")
    s3.error("delete_object", "PreconditionFailed", 412,
             {"Bucket": "thumbs", "Key": "photos/cat_128x128.jpg", "IfMatch": '"seen"'})
    deleted(s3, "photos/cat_256x256.jpg")
    own_claim_released(s3)
    done = purging.purge(SETTINGS, CAT)
    assert done.purged == ["photos/cat_256x256.jpg"]
    assert done.paths == ["/photos/cat_256x256.jpg"]  # only what was deleted is invalidated


def test_a_claim_that_names_another_source_is_left_alone(s3: S3Stub) -> None:
    source_gone(s3)
    listing(s3, "photos/cat_", "photos/cat_128x128.jpg")
    thumb(s3, "photos/cat_128x128.jpg")
    deleted(s3, "photos/cat_128x128.jpg")
    s3.release(STEM, CAT, held=False)  # cat.png took the names over already: the condition fails
    assert purging.purge(SETTINGS, CAT).released is False
    assert [c["Key"] for c in s3.made("DeleteObject")] == ["photos/cat_128x128.jpg"]
    assert s3.made("PutItem") == s3.made("GetItem") == []


def test_a_key_uploaded_again_while_the_purge_ran_gets_its_claim_back(s3: S3Stub) -> None:
    """The re-upload's execution may have read the claim before the release and store its
    thumbnails after it: with the key in use again, the purge claims it back for it."""
    source_gone(s3)
    listing(s3, "photos/cat_", "photos/cat_128x128.jpg")
    thumb(s3, "photos/cat_128x128.jpg")
    deleted(s3, "photos/cat_128x128.jpg")
    s3.release(STEM, CAT)
    s3.head("src", CAT, etag="e2", size=10)  # uploaded again meanwhile
    s3.first_claim(STEM, CAT)
    done = purging.purge(SETTINGS, CAT)
    assert done.purged == ["photos/cat_128x128.jpg"]
    (put,) = s3.made("PutItem")
    assert put["Item"]["source"] == {"S": CAT} and put["ConditionExpression"] == "attribute_not_exists(stem)"


def test_every_page_of_the_listing_is_looked_through(s3: S3Stub) -> None:
    source_gone(s3)
    listing(s3, "photos/cat_", "photos/cat_128x128.jpg", more="p2")
    thumb(s3, "photos/cat_128x128.jpg")
    listing(s3, "photos/cat_", "photos/cat_256x256.jpg", token="p2")
    thumb(s3, "photos/cat_256x256.jpg")
    deleted(s3, "photos/cat_128x128.jpg")
    deleted(s3, "photos/cat_256x256.jpg")
    own_claim_released(s3)
    assert len(purging.purge(SETTINGS, CAT).purged) == 2


def test_invalidation_paths_are_exactly_the_purged_keys_url_quoted(s3: S3Stub) -> None:
    """A '*' in a key must not become CloudFront's wildcard; spaces and non-ASCII are percent-encoded."""
    key, stem = "pics/my cat*é.jpg", "pics/my cat*é"
    source_gone(s3, key)
    listing(s3, stem + "_", f"{stem}_128x128.jpg", f"{stem}_200x200.webp")
    thumb(s3, f"{stem}_128x128.jpg", source="pics/my%20cat%2A%C3%A9.jpg")
    thumb(s3, f"{stem}_200x200.webp", source="pics/my%20cat%2A%C3%A9.jpg")
    deleted(s3, f"{stem}_128x128.jpg")
    deleted(s3, f"{stem}_200x200.webp")
    own_claim_released(s3, key, stem)
    done = purging.purge(SETTINGS, key)
    assert done.paths == ["/pics/my%20cat%2A%C3%A9_128x128.jpg", "/pics/my%20cat%2A%C3%A9_200x200.webp"]


def test_a_key_with_a_line_break_is_purged_like_any_other(s3: S3Stub) -> None:
    """S3 keys may hold any UTF-8, newlines included; their thumbnails are named by the same rule."""
    key, stem = "odd/two\nlines.jpg", "odd/two\nlines"
    source_gone(s3, key)
    listing(s3, stem + "_", f"{stem}_128x128.jpg")
    thumb(s3, f"{stem}_128x128.jpg", source="odd/two%0Alines.jpg")
    deleted(s3, f"{stem}_128x128.jpg")
    own_claim_released(s3, key, stem)
    assert purging.purge(SETTINGS, key).purged == [f"{stem}_128x128.jpg"]


def test_a_second_purge_purges_nothing_and_invalidates_nothing(s3: S3Stub) -> None:
    source_gone(s3)
    listing(s3, "photos/cat_", "photos/cat_128x128.jpg")
    thumb(s3, "photos/cat_128x128.jpg")
    deleted(s3, "photos/cat_128x128.jpg")
    own_claim_released(s3)
    first = purging.purge(SETTINGS, CAT)
    source_gone(s3)
    listing(s3, "photos/cat_")
    s3.release(STEM, CAT, held=False)  # released by the first
    again = purging.purge(SETTINGS, CAT)
    assert (first.purged, first.released) == (["photos/cat_128x128.jpg"], True)
    assert (again.purged, again.kept, again.released, again.paths) == ([], [], False, [])


def test_a_thumbnail_gone_between_listing_and_head_is_skipped(s3: S3Stub) -> None:
    source_gone(s3)
    listing(s3, "photos/cat_", "photos/cat_128x128.jpg")
    s3.error("head_object", "404", 404, {"Bucket": "thumbs", "Key": "photos/cat_128x128.jpg"})
    s3.release(STEM, CAT, held=False)
    assert purging.purge(SETTINGS, CAT).purged == []


def test_the_payload_is_what_the_purge_workflow_reads() -> None:
    done = purging.Purge("src", CAT, ["a b_1x1.jpg"], ["b_1x1.jpg"], True)
    assert done.to_payload() == {"source": {"bucket": "src", "key": CAT}, "purged": ["a b_1x1.jpg"],
                                 "kept": ["b_1x1.jpg"], "claimReleased": True, "paths": ["/a%20b_1x1.jpg"]}
