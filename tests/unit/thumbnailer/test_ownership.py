"""Name claims: one source owns a stem's thumbnail names; a second one is refused while the first exists.

Claims are DynamoDB items ``{stem, source}``: looked at with a strongly consistent GetItem,
written with a conditional PutItem, released with one conditional DeleteItem.
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from thumbnailer import ownership
from thumbnailer.errors import ConfigError, ImageRejected, TransientError
from thumbnailer.settings import Settings

from tests.unit.conftest import CLAIMS, S3Stub

SETTINGS = Settings("src", "thumbs", 50 * 1024 * 1024, 100_000_000, claims_table=CLAIMS)
JPG, PNG, GIF = "photos/cat.jpg", "photos/cat.png", "photos/cat.gif"
STEM = "photos/cat"


def owner_exists(s3: S3Stub, key: str) -> None:
    s3.head("src", key, etag="o1", size=10)


def owner_gone(s3: S3Stub, key: str) -> None:
    s3.error("head_object", "404", 404, {"Bucket": "src", "Key": key})


def operations(s3: S3Stub) -> list[str]:
    return [c.operation for c in s3.calls]


# ----------------------------------------------------------------------------- where claims live


@pytest.mark.parametrize(
    ("key", "stem"),
    [("photos/cat.jpg", "photos/cat"), ("a.b/c.d.jpeg", "a.b/c.d"), ("noext", "noext"),
     ("photos/cat_1x1.jpg", "photos/cat_1x1")],
)
def test_a_claim_is_keyed_by_the_stem_its_thumbnails_are_named_after(s3: S3Stub, key: str, stem: str) -> None:
    s3.claim(stem)
    assert ownership.look(SETTINGS, key) is None
    (get,) = s3.made("GetItem")
    assert get["Key"] == {"stem": {"S": stem}} and get["ConsistentRead"] is True


def test_sources_of_one_stem_share_one_claim(s3: S3Stub) -> None:
    for key in (JPG, PNG, "photos/cat.JPEG"):
        s3.claim(STEM, PNG)
        assert ownership.owner_of(SETTINGS, key) == PNG


def test_no_table_configured_is_a_deployment_error_not_a_retry(s3: S3Stub) -> None:
    with pytest.raises(ConfigError, match="CLAIMS_TABLE"):
        ownership.look(Settings("src", "thumbs", 1, 1), JPG)
    assert s3.calls == []


@pytest.mark.parametrize("key", ["photos/café au lait.jpg", "a/b+c%20d.png", "日本/猫.webp", "plain/key.jpg"])
def test_a_key_is_encoded_as_ascii_that_decodes_back_to_it(key: str) -> None:
    encoded = ownership.encoded(key)
    assert encoded.isascii() and " " not in encoded
    assert unquote(encoded) == key
    assert encoded.count("/") == key.count("/")


# ----------------------------------------------------------------------------- claiming


def test_the_first_claim_wins_only_if_the_stem_is_unclaimed(s3: S3Stub) -> None:
    s3.first_claim(STEM, JPG)
    ownership.claim(SETTINGS, JPG)
    (put,) = s3.made("PutItem")
    assert put["ConditionExpression"] == "attribute_not_exists(stem)"
    assert put["Item"] == {"stem": {"S": STEM}, "source": {"S": JPG}}


def test_a_source_that_holds_the_claim_writes_nothing(s3: S3Stub) -> None:
    s3.claim(STEM, JPG)
    ownership.claim(SETTINGS, JPG)  # nothing else queued: no HEAD of the owner, no PutItem
    assert operations(s3) == ["GetItem"]


def test_another_live_owner_refuses_the_source_by_name(s3: S3Stub) -> None:
    s3.claim(STEM, PNG)
    owner_exists(s3, PNG)
    with pytest.raises(ImageRejected) as caught:
        ownership.claim(SETTINGS, JPG)
    assert caught.value.reason == "name-collision"
    assert PNG in caught.value.detail and "rename" in caught.value.detail
    assert s3.made("PutItem") == []


def test_a_gone_owner_is_taken_over_only_while_it_still_holds_the_claim(s3: S3Stub) -> None:
    s3.claim(STEM, PNG)
    owner_gone(s3, PNG)
    s3.claim_put(STEM, JPG, seen=PNG)
    ownership.claim(SETTINGS, JPG)
    (put,) = s3.made("PutItem")
    assert put["ConditionExpression"] == "#src = :seen"
    assert put["ExpressionAttributeValues"] == {":seen": {"S": PNG}}


def test_look_reads_the_claim_once_and_says_who_owns_it(s3: S3Stub) -> None:
    s3.claim(STEM)
    assert ownership.look(SETTINGS, JPG) is None
    s3.claim(STEM, PNG)
    assert ownership.look(SETTINGS, JPG) == ownership.Claim(PNG)
    s3.claim(STEM, item={"stem": {"S": STEM}, "source": {"N": "7"}})
    assert ownership.look(SETTINGS, JPG) == ownership.Claim(None)
    assert operations(s3) == ["GetItem"] * 3


def test_a_claim_already_looked_at_is_not_read_again(s3: S3Stub) -> None:
    """The workflow looks before rendering (to know whether anything can be stored yet);
    claiming afterwards starts from that look."""
    s3.claim_put(STEM, JPG)
    ownership.claim(SETTINGS, JPG, looked=None)
    assert operations(s3) == ["PutItem"]


def test_a_look_gone_stale_is_corrected_by_the_conditional_write(s3: S3Stub) -> None:
    """Nobody had claimed it when looked at; PNG claimed it since: the conditional PutItem fails,
    the claim is read afresh and the live owner refuses this source."""
    s3.claim_put(STEM, JPG, lost=True)
    s3.claim(STEM, PNG)
    owner_exists(s3, PNG)
    with pytest.raises(ImageRejected, match="name-collision"):
        ownership.claim(SETTINGS, JPG, looked=None)


def test_a_claim_looked_at_before_rendering_is_kept_by_writing_it_again(s3: S3Stub) -> None:
    """What ``look`` saw before the render may be stale (a purge of the previous upload may have
    released it): written again, on the condition that it is still ours or nobody's."""
    s3.claim_put(STEM, JPG, seen=JPG)
    ownership.claim(SETTINGS, JPG, looked=ownership.Claim(JPG))
    (put,) = s3.made("PutItem")
    assert put["ConditionExpression"] == "attribute_not_exists(stem) OR #src = :seen"
    assert s3.made("GetItem") == []


def test_a_kept_claim_another_source_took_meanwhile_is_a_collision(s3: S3Stub) -> None:
    s3.claim_put(STEM, JPG, seen=JPG, lost=True)  # released, then claimed by cat.png
    s3.claim(STEM, PNG)
    owner_exists(s3, PNG)
    with pytest.raises(ImageRejected, match="name-collision"):
        ownership.claim(SETTINGS, JPG, looked=ownership.Claim(JPG))


def test_a_claim_read_just_now_is_not_written_again(s3: S3Stub) -> None:
    s3.claim(STEM, JPG)
    ownership.claim(SETTINGS, JPG)
    assert s3.made("PutItem") == []


def test_a_race_lost_on_a_first_claim_reads_again_and_meets_the_winner(s3: S3Stub) -> None:
    s3.claim(STEM)
    s3.claim_put(STEM, JPG, lost=True)  # someone claimed it meanwhile
    s3.claim(STEM, PNG)
    owner_exists(s3, PNG)
    with pytest.raises(ImageRejected, match="name-collision"):
        ownership.claim(SETTINGS, JPG)


def test_a_race_lost_to_a_duplicate_of_the_same_source_is_its_claim(s3: S3Stub) -> None:
    s3.claim(STEM)
    s3.claim_put(STEM, JPG, lost=True)
    s3.claim(STEM, JPG)
    ownership.claim(SETTINGS, JPG)
    assert operations(s3) == ["GetItem", "PutItem", "GetItem"]


def test_a_take_over_lost_to_another_reads_again(s3: S3Stub) -> None:
    """Two sources take over a gone owner's claim: the loser's condition fails; it sees the winner, alive."""
    s3.claim(STEM, PNG)
    owner_gone(s3, PNG)
    s3.claim_put(STEM, JPG, seen=PNG, lost=True)
    s3.claim(STEM, GIF)
    owner_exists(s3, GIF)
    with pytest.raises(ImageRejected, match=GIF):
        ownership.claim(SETTINGS, JPG)


def test_a_claim_released_under_a_take_over_is_claimed_afresh(s3: S3Stub) -> None:
    s3.claim(STEM, PNG)
    owner_gone(s3, PNG)
    s3.claim_put(STEM, JPG, seen=PNG, lost=True)  # the purge of PNG released it meanwhile
    s3.first_claim(STEM, JPG)
    ownership.claim(SETTINGS, JPG)
    assert operations(s3) == ["GetItem", "HeadObject", "PutItem", "GetItem", "PutItem"]


@pytest.mark.parametrize("source", [None, {"N": "7"}, {"L": []}, {"NULL": True}])
def test_an_unreadable_claim_is_replaced_without_asking_after_an_owner(s3: S3Stub, source: object) -> None:
    item = {"stem": {"S": STEM}, **({} if source is None else {"source": source})}
    s3.claim(STEM, item=item)
    s3.claims.add_response("put_item", {}, {
        "TableName": CLAIMS, "Item": {"stem": {"S": STEM}, "source": {"S": JPG}},
        "ConditionExpression": "attribute_exists(stem) AND NOT attribute_type(#src, :s)",
        "ExpressionAttributeNames": {"#src": "source"}, "ExpressionAttributeValues": {":s": {"S": "S"}}})
    ownership.claim(SETTINGS, JPG)
    assert s3.made("HeadObject") == []


def test_a_claim_contended_every_time_is_transient(s3: S3Stub) -> None:
    for _ in range(ownership.ATTEMPTS):
        s3.claim(STEM)
        s3.claim_put(STEM, JPG, lost=True)
    with pytest.raises(TransientError, match="contended"):
        ownership.claim(SETTINGS, JPG)


@pytest.mark.parametrize(("code", "status"), [
    ("ProvisionedThroughputExceededException", 400), ("ThrottlingException", 400),
    ("RequestLimitExceeded", 400), ("InternalServerError", 500), ("ServiceUnavailable", 503)])
@pytest.mark.parametrize("operation", ["get_item", "put_item", "delete_item"])
def test_throttling_and_5xx_are_transient_not_a_collision(s3: S3Stub, operation: str, code: str,
                                                           status: int) -> None:
    if operation == "put_item":
        s3.claim(STEM)
    s3.claim_error(operation, code, status)  # a Stubber's answer is final: the SDK's retries are past
    with pytest.raises(TransientError, match=code):
        if operation == "delete_item":
            ownership.release(SETTINGS, JPG)
        else:
            ownership.claim(SETTINGS, JPG)


def test_a_missing_table_is_not_retried_as_if_throttled(s3: S3Stub) -> None:
    s3.claim_error("get_item", "ResourceNotFoundException", 400)
    with pytest.raises(Exception, match="ResourceNotFoundException") as caught:
        ownership.look(SETTINGS, JPG)
    assert not isinstance(caught.value, TransientError)


def test_a_key_outside_ascii_is_claimed_as_it_is(s3: S3Stub) -> None:
    s3.first_claim("photos/café", "photos/café.jpg")
    ownership.claim(SETTINGS, "photos/café.jpg")


# ----------------------------------------------------------------------------- reading, releasing


def test_owner_of_names_the_claimant_or_none(s3: S3Stub) -> None:
    s3.claim(STEM, PNG)
    assert ownership.owner_of(SETTINGS, JPG) == PNG
    s3.claim(STEM)
    assert ownership.owner_of(SETTINGS, JPG) is None
    s3.claim(STEM, item={"stem": {"S": STEM}})
    assert ownership.owner_of(SETTINGS, JPG) is None


def test_release_drops_a_claim_that_names_the_source_in_one_conditional_request(s3: S3Stub) -> None:
    s3.release(STEM, JPG)
    assert ownership.release(SETTINGS, JPG) is True
    assert operations(s3) == ["DeleteItem"]  # no read first


def test_release_of_another_sources_claim_or_of_none_is_false(s3: S3Stub) -> None:
    """PNG took the names over, or nobody holds them: the condition fails, nothing is deleted."""
    s3.release(STEM, JPG, held=False)
    assert ownership.release(SETTINGS, JPG) is False
    assert operations(s3) == ["DeleteItem"]
