"""Name claims: one source owns a stem's thumbnail names; a second one is refused while the first exists."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from thumbnailer import ownership
from thumbnailer.errors import ImageRejected, TransientError
from thumbnailer.naming import parse_thumbnail_key
from thumbnailer.settings import Settings

from tests.unit.conftest import S3Stub, body

SETTINGS = Settings("src", "thumbs", 50 * 1024 * 1024, 100_000_000)
JPG, PNG, GIF = "photos/cat.jpg", "photos/cat.png", "photos/cat.gif"
CLAIM = "photos/cat.owner.json"
AT_CLAIM = {"Bucket": "thumbs", "Key": CLAIM}


def owner_exists(s3: S3Stub, key: str) -> None:
    s3.head("src", key, etag="o1", size=10)


def owner_gone(s3: S3Stub, key: str) -> None:
    s3.error("head_object", "404", 404, {"Bucket": "src", "Key": key})


def unreadable(s3: S3Stub, data: bytes, etag: str = "u1") -> None:
    """A claim whose body names no source (written by hand, or by something else)."""
    resp = {"Body": body(data), "ETag": f'"{etag}"', "ContentLength": len(data)}
    s3.stubber.add_response("get_object", resp, AT_CLAIM)


# ----------------------------------------------------------------------------- where claims live


@pytest.mark.parametrize(
    ("key", "claim"),
    [("photos/cat.jpg", "photos/cat.owner.json"), ("a.b/c.d.jpeg", "a.b/c.d.owner.json"),
     ("noext", "noext.owner.json"), ("photos/cat_1x1.jpg", "photos/cat_1x1.owner.json")],
)
def test_a_claim_sits_next_to_the_stems_thumbnails_and_is_never_taken_for_one(key: str, claim: str) -> None:
    assert ownership.claim_key(key) == claim
    assert parse_thumbnail_key(claim) is None  # a purge or a listing never mistakes it for a thumbnail


def test_sources_of_one_stem_share_one_claim() -> None:
    assert ownership.claim_key(JPG) == ownership.claim_key(PNG) == ownership.claim_key("photos/cat.JPEG")


@pytest.mark.parametrize("key", ["photos/café au lait.jpg", "a/b+c%20d.png", "日本/猫.webp", "plain/key.jpg"])
def test_a_key_is_encoded_as_ascii_that_decodes_back_to_it(key: str) -> None:
    encoded = ownership.encoded(key)
    assert encoded.isascii() and " " not in encoded
    assert unquote(encoded) == key
    assert encoded.count("/") == key.count("/")


# ----------------------------------------------------------------------------- claiming


def test_the_first_claim_wins_with_if_none_match(s3: S3Stub) -> None:
    s3.first_claim("thumbs", CLAIM, JPG)
    ownership.claim(SETTINGS, JPG)
    (put,) = s3.made("PutObject")
    assert put["IfNoneMatch"] == "*" and "IfMatch" not in put


def test_a_source_that_holds_the_claim_writes_nothing(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM, JPG)
    ownership.claim(SETTINGS, JPG)  # nothing else queued: no HEAD of the owner, no PUT
    assert [c.operation for c in s3.calls] == ["GetObject"]


def test_another_live_owner_refuses_the_source_by_name(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM, PNG)
    owner_exists(s3, PNG)
    with pytest.raises(ImageRejected) as caught:
        ownership.claim(SETTINGS, JPG)
    assert caught.value.reason == "name-collision"
    assert PNG in caught.value.detail and "rename" in caught.value.detail
    assert s3.made("PutObject") == []


def test_a_gone_owner_is_taken_over_with_if_match_on_its_claim(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM, PNG, etag="c-png")
    owner_gone(s3, PNG)
    s3.claim_put("thumbs", CLAIM, JPG, if_match="c-png")
    ownership.claim(SETTINGS, JPG)
    (put,) = s3.made("PutObject")
    assert "IfNoneMatch" not in put


def test_look_reads_the_claim_once_and_says_who_owns_it(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM)
    assert ownership.look(SETTINGS, JPG) is None
    s3.claim("thumbs", CLAIM, PNG, etag="c-png")
    assert ownership.look(SETTINGS, JPG) == ownership.Claim(PNG, "c-png")
    unreadable(s3, b"not json")
    assert ownership.look(SETTINGS, JPG) == ownership.Claim(None, "u1")


def test_a_claim_already_looked_at_is_not_read_again(s3: S3Stub) -> None:
    """The workflow looks before rendering (to know whether anything can be stored yet);
    claiming afterwards starts from that look."""
    s3.claim_put("thumbs", CLAIM, JPG)
    ownership.claim(SETTINGS, JPG, looked=None)
    assert [c.operation for c in s3.calls] == ["PutObject"]


def test_a_look_gone_stale_is_corrected_by_the_conditional_write(s3: S3Stub) -> None:
    """Nobody had claimed it when looked at; PNG claimed it since: the If-None-Match write loses,
    the claim is read afresh and the live owner refuses this source."""
    s3.error("put_object", "PreconditionFailed", 412)
    s3.claim("thumbs", CLAIM, PNG)
    owner_exists(s3, PNG)
    with pytest.raises(ImageRejected, match="name-collision"):
        ownership.claim(SETTINGS, JPG, looked=None)


def test_a_looked_at_claim_of_ones_own_writes_nothing(s3: S3Stub) -> None:
    ownership.claim(SETTINGS, JPG, looked=ownership.Claim(JPG, "c-jpg"))
    assert s3.calls == []


def test_a_race_lost_on_a_first_claim_reads_again_and_meets_the_winner(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM)
    s3.error("put_object", "PreconditionFailed", 412)  # If-None-Match: someone claimed it meanwhile
    s3.claim("thumbs", CLAIM, PNG)
    owner_exists(s3, PNG)
    with pytest.raises(ImageRejected, match="name-collision"):
        ownership.claim(SETTINGS, JPG)


def test_a_race_lost_to_a_duplicate_of_the_same_source_is_its_claim(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM)
    s3.error("put_object", "ConditionalRequestConflict", 409)
    s3.claim("thumbs", CLAIM, JPG)
    ownership.claim(SETTINGS, JPG)
    assert [c.operation for c in s3.calls] == ["GetObject", "PutObject", "GetObject"]


def test_a_take_over_lost_to_another_reads_again(s3: S3Stub) -> None:
    """Two sources take over a gone owner's claim: the If-Match loser sees the winner, alive."""
    s3.claim("thumbs", CLAIM, PNG, etag="c-png")
    owner_gone(s3, PNG)
    s3.error("put_object", "PreconditionFailed", 412)
    s3.claim("thumbs", CLAIM, GIF, etag="c-gif")
    owner_exists(s3, GIF)
    with pytest.raises(ImageRejected, match=GIF):
        ownership.claim(SETTINGS, JPG)


def test_a_claim_deleted_under_a_take_over_is_claimed_afresh(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM, PNG, etag="c-png")
    owner_gone(s3, PNG)
    s3.error("put_object", "NoSuchKey", 404)  # If-Match on a key that is gone now
    s3.first_claim("thumbs", CLAIM, JPG)
    ownership.claim(SETTINGS, JPG)


@pytest.mark.parametrize("data", [b"not json", b"[1, 2]", b'"photos/cat.png"', b'{"source": 7}', b"{}"])
def test_an_unreadable_claim_is_replaced_without_asking_after_an_owner(s3: S3Stub, data: bytes) -> None:
    unreadable(s3, data)
    s3.claim_put("thumbs", CLAIM, JPG, if_match="u1")
    ownership.claim(SETTINGS, JPG)
    assert s3.made("HeadObject") == []


def test_a_claim_contended_every_time_is_transient(s3: S3Stub) -> None:
    for _ in range(ownership.ATTEMPTS):
        s3.claim("thumbs", CLAIM)
        s3.error("put_object", "PreconditionFailed", 412)
    with pytest.raises(TransientError, match="contended"):
        ownership.claim(SETTINGS, JPG)


def test_a_throttled_claim_is_transient_not_a_collision(s3: S3Stub) -> None:
    s3.error("get_object", "SlowDown", 503)
    with pytest.raises(TransientError):
        ownership.claim(SETTINGS, JPG)


def test_a_key_outside_ascii_is_claimed_with_its_encoded_name(s3: S3Stub) -> None:
    s3.first_claim("thumbs", "photos/café.owner.json", "photos/café.jpg", encoded="photos/caf%C3%A9.jpg")
    ownership.claim(SETTINGS, "photos/café.jpg")


# ----------------------------------------------------------------------------- reading, releasing


def test_owner_of_names_the_claimant_or_none(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM, PNG)
    assert ownership.owner_of(SETTINGS, JPG) == PNG
    s3.claim("thumbs", CLAIM)
    assert ownership.owner_of(SETTINGS, JPG) is None
    unreadable(s3, b"\xff\xfe")
    assert ownership.owner_of(SETTINGS, JPG) is None


def test_release_drops_a_claim_that_names_the_source_conditionally(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM, JPG, etag="c-jpg")
    s3.stubber.add_response("delete_object", {}, {**AT_CLAIM, "IfMatch": '"c-jpg"'})
    assert ownership.release(SETTINGS, JPG) is True


def test_release_leaves_another_sources_claim(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM, PNG)
    assert ownership.release(SETTINGS, JPG) is False
    assert s3.made("DeleteObject") == []


def test_release_of_no_claim_or_of_one_taken_over_meanwhile_is_false(s3: S3Stub) -> None:
    s3.claim("thumbs", CLAIM)
    assert ownership.release(SETTINGS, JPG) is False
    s3.claim("thumbs", CLAIM, JPG, etag="c-jpg")
    s3.error("delete_object", "PreconditionFailed", 412, {**AT_CLAIM, "IfMatch": '"c-jpg"'})
    assert ownership.release(SETTINGS, JPG) is False
