"""make(): one read, one decode, conditional writes, and reuse of what these bytes already made."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

import pytest
from PIL import Image
from thumbnailer import thumbnails
from thumbnailer.errors import ImageRejected, SourceChanged, TransientError
from thumbnailer.formats import MAX_KEY_BYTES, MAX_SIDE
from thumbnailer.naming import thumbnail_key
from thumbnailer.records import PinnedSource
from thumbnailer.settings import Settings
from thumbnailer.spec import SizeSpec, parse_size

from tests import images, placeholders
from tests.unit.conftest import CLAIMS, S3Stub

SETTINGS = Settings("src", "thumbs", 50 * 1024 * 1024, 100_000_000, cache_control="public, max-age=60",
                    claims_table=CLAIMS)
DATA = images.jpeg(640, 480)
SOURCE = PinnedSource("src", "photos/cat.jpg", "e1", None, len(DATA), "jpeg", 640, 480)
SPEC = SizeSpec(200, 200, name="small")
JPG = "photos/cat_200x200.jpg"
WEBP = "photos/cat_200x200.webp"
PIN = {"IfMatch": '"e1"'}
STEM = "photos/cat"  # the key of the stem's name claim, in the claims table


def read_and_confirm(s3: S3Stub, data: bytes = DATA) -> None:
    """The pinned read of the source, then the conditional HEAD that confirms it after rendering."""
    s3.get("src", SOURCE.key, data, etag="e1", **PIN)
    s3.head("src", SOURCE.key, etag="e1", size=len(data), **PIN)


def look(s3: S3Stub, owner: str | None = SOURCE.key) -> None:
    """The one GetItem of the stem's name claim, made first: ours (already claimed), another's, or none."""
    s3.claim(STEM, owner)


def claim_kept(s3: S3Stub, stem: str = STEM, key: str = SOURCE.key) -> None:
    """The claim ``look`` found ours before rendering, written again after it: still ours, or
    nobody's (a purge of the previous upload may have released it meanwhile)."""
    s3.claim_put(stem, key, seen=key)


def claim_taken(s3: S3Stub) -> None:
    """The claim written before the first thumbnail when there was none (conditional PutItem; no
    second GetItem)."""
    s3.claim_put(STEM, SOURCE.key)


def absent(s3: S3Stub, *keys: str) -> None:
    for key in keys:
        s3.error("head_object", "404", 404, {"Bucket": "thumbs", "Key": key})


def made_fresh(s3: S3Stub, spec: SizeSpec = SPEC) -> dict[str, Any]:
    """Render ``spec`` into an empty bucket; return the PutObject parameters it sent."""
    look(s3, None)  # no claim: nothing stored under the stem, so no HEAD before rendering
    read_and_confirm(s3)
    claim_taken(s3)
    s3.put(etag="t1")
    thumbnails.make(SETTINGS, SOURCE, [spec])
    return s3.made("PutObject")[-1]


def opened(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


# ----------------------------------------------------------------------------- writing


def test_a_missing_thumbnail_is_rendered_and_written_only_if_still_absent(s3: S3Stub) -> None:
    look(s3, None)
    read_and_confirm(s3)
    claim_taken(s3)
    s3.put(etag="t1")
    (thumb,) = thumbnails.make(SETTINGS, SOURCE, [SPEC])
    assert s3.made("HeadObject") == [{"Bucket": "src", "Key": SOURCE.key, **PIN}]  # only the confirm
    assert [g["Key"] for g in s3.made("GetObject")] == [SOURCE.key]
    assert [c.operation for c in s3.of("dynamodb")] == ["GetItem", "PutItem"]  # the claim is read once
    ops = [c.operation for c in s3.calls]
    assert ops.index("PutItem") < ops.index("PutObject")  # the names are claimed before the first write
    (put,) = s3.made("PutObject")
    assert (put["Bucket"], put["Key"], put["IfNoneMatch"]) == ("thumbs", JPG, "*")
    assert "IfMatch" not in put
    im = opened(put["Body"])
    assert (im.format, im.size) == ("JPEG", (200, 150))
    assert (put["ContentType"], put["CacheControl"]) == ("image/jpeg", "public, max-age=60")
    assert parse_qs(put["Tagging"]) == {"thumbnail": ["yes"], "thumbnail-size": ["200x200"],
                                        "source-etag": ["e1"], "made-by": ["workflow"]}
    assert (put["Metadata"]["source-etag"], put["Metadata"]["source-key"]) == ("e1", SOURCE.key)
    assert (put["Metadata"]["width"], put["Metadata"]["height"], put["Metadata"]["format"]) == (
        "200", "150", "jpeg")
    hint = {"blurhash": put["Metadata"]["blurhash"], "color": put["Metadata"]["color"]}
    assert thumb.to_payload() == {"key": JPG, "path": "/" + JPG, "size": "200x200",
                                  "width": 200, "height": 150,
                                  "bytes": len(put["Body"]), "format": "jpeg",
                                  "tags": {"thumbnail": "yes", "thumbnail-size": "200x200",
                                           "source-etag": "e1", "made-by": "workflow"},
                                  "reused": False, "placeholder": hint}


def test_what_make_writes_it_reuses_without_reading_the_source(s3: S3Stub) -> None:
    put = made_fresh(s3)
    look(s3)
    s3.head("thumbs", JPG, etag="t1", size=len(put["Body"]), metadata=put["Metadata"])
    (thumb,) = thumbnails.make(SETTINGS, SOURCE, [SPEC])  # nothing else queued: no read, no write
    assert thumb.reused is True
    assert (thumb.key, thumb.width, thumb.height, thumb.bytes, thumb.format) == (
        JPG, 200, 150, len(put["Body"]), "jpeg")
    assert thumb.tags["made-by"] == "workflow"
    assert thumb.placeholder == {"blurhash": put["Metadata"]["blurhash"], "color": put["Metadata"]["color"]}


def test_the_placeholder_is_ascii_metadata_that_decodes_to_the_image(s3: S3Stub) -> None:
    meta = made_fresh(s3)["Metadata"]
    assert all(value.isascii() for value in meta.values())  # S3 user metadata is ASCII
    assert placeholders.components(meta["blurhash"]) == (4, 3)  # landscape: more along x
    mean = placeholders.linear_mean(Image.open(io.BytesIO(DATA)))
    assert all(abs(a - b) <= 3 for a, b in zip(placeholders.hex_rgb(meta["color"]), mean, strict=True))
    assert placeholders.average(meta["blurhash"]) == placeholders.hex_rgb(meta["color"])


def test_a_thumbnail_stored_before_placeholders_is_reused_without_one(s3: S3Stub) -> None:
    put = made_fresh(s3)
    older = {k: v for k, v in put["Metadata"].items() if k not in ("blurhash", "color")}
    look(s3)
    s3.head("thumbs", JPG, etag="t1", size=len(put["Body"]), metadata=older)
    (thumb,) = thumbnails.make(SETTINGS, SOURCE, [SPEC])
    assert thumb.reused is True and thumb.placeholder is None
    assert thumb.to_payload()["placeholder"] is None


def test_a_thumbnail_of_other_bytes_is_overwritten_only_if_unchanged(s3: S3Stub) -> None:
    put = made_fresh(s3)
    look(s3)
    s3.head("thumbs", JPG, etag="t1", size=1, metadata={**put["Metadata"], "source-etag": "older"})
    absent(s3, WEBP)
    read_and_confirm(s3)
    claim_kept(s3)  # the claim is already ours: written again on that condition
    s3.put(etag="t2")
    (thumb,) = thumbnails.make(SETTINGS, SOURCE, [SPEC])
    again = s3.made("PutObject")[-1]
    assert again["IfMatch"] == '"t1"' and "IfNoneMatch" not in again
    assert thumb.reused is False


@pytest.mark.parametrize("change", [{"quality": 81}, {"fit": "cover"}, {"format": "jpeg"}])
def test_a_changed_spec_renders_again(s3: S3Stub, change: dict[str, Any]) -> None:
    put = made_fresh(s3)
    changed = replace(SPEC, **change)
    look(s3)
    s3.head("thumbs", JPG, etag="t1", size=1, metadata=put["Metadata"])
    if changed.format == "auto":
        absent(s3, WEBP)
    read_and_confirm(s3)
    claim_kept(s3)
    s3.put()
    assert thumbnails.make(SETTINGS, SOURCE, [changed])[0].reused is False


def test_a_renamed_spec_still_reuses(s3: S3Stub) -> None:
    put = made_fresh(s3)
    look(s3)
    s3.head("thumbs", JPG, etag="t1", size=1, metadata=put["Metadata"])
    assert thumbnails.make(SETTINGS, SOURCE, [replace(SPEC, name="renamed")])[0].reused is True


def test_a_transparent_source_in_auto_is_looked_for_and_written_as_webp(s3: S3Stub) -> None:
    png = images.png_alpha(400, 300)
    source = replace(SOURCE, key="logos/mark.png", bytes=len(png), format="png")
    s3.claim("logos/mark", source.key)  # claimed before: its names are looked for
    absent(s3, "logos/mark_200x200.jpg", "logos/mark_200x200.webp")
    s3.get("src", source.key, png, etag="e1", **PIN)
    s3.head("src", source.key, etag="e1", size=len(png), **PIN)
    claim_kept(s3, "logos/mark", source.key)
    s3.put()
    (thumb,) = thumbnails.make(SETTINGS, source, [SPEC])
    put = s3.made("PutObject")[-1]
    assert (thumb.key, thumb.format, put["ContentType"]) == ("logos/mark_200x200.webp", "webp", "image/webp")
    assert opened(put["Body"]).mode == "RGBA"


def test_several_sizes_share_one_read_and_come_back_in_order(s3: S3Stub) -> None:
    small, big = SizeSpec(100, 100, format="jpeg"), SizeSpec(400, 400, "cover", "png")
    look(s3, None)  # once for the group, not once per size
    read_and_confirm(s3)
    claim_taken(s3)
    s3.put()
    s3.put()
    made = thumbnails.make(SETTINGS, SOURCE, [small, big])
    assert [(t.key, t.width, t.height) for t in made] == [("photos/cat_100x100.jpg", 100, 75),
                                                         ("photos/cat_400x400.png", 400, 400)]
    assert len(s3.made("GetItem")) == 1  # one claim look for the group
    assert [g["Bucket"] for g in s3.made("GetObject")] == ["src"]  # one read


def test_only_the_missing_sizes_are_rendered(s3: S3Stub) -> None:
    put = made_fresh(s3)
    other = SizeSpec(64, 64, format="jpeg")
    look(s3)
    s3.head("thumbs", JPG, etag="t1", size=9, metadata=put["Metadata"])
    absent(s3, "photos/cat_64x64.jpg")
    read_and_confirm(s3)
    claim_kept(s3)
    s3.put()
    made = thumbnails.make(SETTINGS, SOURCE, [SPEC, other])
    assert [t.reused for t in made] == [True, False]
    assert s3.made("PutObject")[-1]["Key"] == "photos/cat_64x64.jpg"


def test_a_new_upload_of_the_default_sizes_costs_no_head_before_rendering(s3: S3Stub) -> None:
    """Four ``auto`` sizes would be eight HEADs (a JPEG and a WebP name each); without a claim, none."""
    sizes = [SizeSpec(128, 128, "cover"), SizeSpec(256, 256), SizeSpec(512, 512), SizeSpec(1024, 1024)]
    look(s3, None)
    read_and_confirm(s3)
    claim_taken(s3)
    for _ in sizes:
        s3.put()
    made = thumbnails.make(SETTINGS, SOURCE, sizes)
    assert [t.reused for t in made] == [False] * 4
    assert [h["Bucket"] for h in s3.made("HeadObject")] == ["src"]
    assert all(p["IfNoneMatch"] == "*" for p in s3.made("PutObject"))


def test_a_duplicate_execution_of_a_new_upload_that_wins_both_races_is_reused(s3: S3Stub) -> None:
    """No claim when looked, so no HEADs: both the claim and the thumbnail write lose, and the
    winner's thumbnail (the same bytes, the same spec) is what this execution reports."""
    put = made_fresh(s3)
    look(s3, None)
    read_and_confirm(s3)
    s3.claim_put(STEM, SOURCE.key, lost=True)  # the claim: the duplicate wrote it first
    look(s3)  # looked at again: ours
    s3.error("put_object", "PreconditionFailed", 412)  # the thumbnail, If-None-Match
    s3.head("thumbs", JPG, etag="winner", size=77, metadata=put["Metadata"])
    (thumb,) = thumbnails.make(SETTINGS, SOURCE, [SPEC])
    assert thumb.reused is True and thumb.bytes == 77
    assert s3.made("PutObject")[-1]["IfNoneMatch"] == "*"


def test_on_demand_writes_without_looking_first(s3: S3Stub) -> None:
    read_and_confirm(s3)
    s3.first_claim(STEM, SOURCE.key)  # read after rendering: nothing to look for before
    s3.put()
    (thumb,) = thumbnails.make(SETTINGS, SOURCE, [SPEC], made_by="on-demand", reuse=False)
    put = s3.made("PutObject")[-1]
    assert put["IfNoneMatch"] == "*"
    assert thumb.tags["made-by"] == "on-demand" and parse_qs(put["Tagging"])["made-by"] == ["on-demand"]
    assert s3.made("HeadObject") == [{"Bucket": "src", "Key": SOURCE.key, **PIN}]  # only the confirm


# ----------------------------------------------------------------------------- races


def test_a_write_lost_to_a_duplicate_execution_reuses_the_winner(s3: S3Stub) -> None:
    put = made_fresh(s3)
    look(s3)
    absent(s3, JPG, WEBP)
    read_and_confirm(s3)
    claim_kept(s3)
    s3.error("put_object", "PreconditionFailed", 412)
    s3.head("thumbs", JPG, etag="winner", size=77, metadata=put["Metadata"])
    (thumb,) = thumbnails.make(SETTINGS, SOURCE, [SPEC])
    assert thumb.reused is True and thumb.bytes == 77


def test_a_write_lost_to_another_upload_retries_over_it_while_the_source_is_current(s3: S3Stub) -> None:
    put = made_fresh(s3)
    look(s3)
    absent(s3, JPG, WEBP)
    read_and_confirm(s3)
    claim_kept(s3)
    s3.error("put_object", "ConditionalRequestConflict", 409)
    s3.head("thumbs", JPG, etag="theirs", size=5, metadata={**put["Metadata"], "source-etag": "other"})
    s3.head("src", SOURCE.key, etag="e1", size=len(DATA), **PIN)  # still our bytes
    s3.put()
    (thumb,) = thumbnails.make(SETTINGS, SOURCE, [SPEC])
    assert thumb.reused is False
    assert s3.made("PutObject")[-1]["IfMatch"] == '"theirs"'


def test_a_write_lost_after_the_source_changed_is_source_changed(s3: S3Stub) -> None:
    look(s3, None)
    read_and_confirm(s3)
    claim_taken(s3)
    s3.error("put_object", "PreconditionFailed", 412)
    s3.head("thumbs", JPG, etag="theirs", size=5, metadata={"source-etag": "newer"})
    s3.error("head_object", "412", 412, {"Bucket": "src", "Key": SOURCE.key, **PIN})
    with pytest.raises(SourceChanged):
        thumbnails.make(SETTINGS, SOURCE, [SPEC])


def test_losing_every_write_is_transient(s3: S3Stub) -> None:
    look(s3, None)
    read_and_confirm(s3)
    claim_taken(s3)
    for _ in range(thumbnails.WRITE_ATTEMPTS):
        s3.error("put_object", "PreconditionFailed", 412)
        s3.head("thumbs", JPG, etag="theirs", size=5, metadata={"source-etag": "other"})
        s3.head("src", SOURCE.key, etag="e1", size=len(DATA), **PIN)
    with pytest.raises(TransientError, match="conditional writes"):
        thumbnails.make(SETTINGS, SOURCE, [SPEC])


def test_a_source_replaced_while_rendering_publishes_nothing(s3: S3Stub) -> None:
    look(s3, None)
    s3.get("src", SOURCE.key, DATA, etag="e1", **PIN)
    s3.error("head_object", "412", 412, {"Bucket": "src", "Key": SOURCE.key, **PIN})
    with pytest.raises(SourceChanged):
        thumbnails.make(SETTINGS, SOURCE, [SPEC])
    assert s3.made("PutObject") == []


def test_bytes_that_do_not_decode_are_rejected_and_nothing_is_written(s3: S3Stub) -> None:
    look(s3, None)
    s3.get("src", SOURCE.key, images.SVG, etag="e1", **PIN)
    with pytest.raises(ImageRejected) as caught:
        thumbnails.make(SETTINGS, SOURCE, [SPEC])
    assert caught.value.reason == "svg"


# ----------------------------------------------------------------------------- names


def test_a_second_source_of_the_same_name_is_refused_before_any_write(s3: S3Stub) -> None:
    """photos/cat.png came first and still exists: photos/cat.jpg would write over its thumbnails."""
    look(s3, "photos/cat.png")
    absent(s3, JPG, WEBP)
    read_and_confirm(s3)
    s3.head("src", "photos/cat.png", etag="png", size=10)  # the claim read first is not read again
    with pytest.raises(ImageRejected) as caught:
        thumbnails.make(SETTINGS, SOURCE, [SPEC])
    assert caught.value.reason == "name-collision" and "photos/cat.png" in caught.value.detail
    assert s3.made("PutObject") == []


def test_a_key_outside_ascii_is_carried_percent_encoded_and_served_at_a_quoted_path(s3: S3Stub) -> None:
    source = replace(SOURCE, key="photos/café au lait.jpg")
    encoded = "photos/caf%C3%A9%20au%20lait.jpg"  # S3 user metadata is ASCII only
    s3.claim("photos/café au lait")
    s3.get("src", source.key, DATA, etag="e1", **PIN)
    s3.head("src", source.key, etag="e1", size=len(DATA), **PIN)
    s3.claim_put("photos/café au lait", source.key)  # the table holds any UTF-8
    s3.put()
    (thumb,) = thumbnails.make(SETTINGS, source, [SPEC])
    assert s3.made("PutObject")[-1]["Metadata"]["source-key"] == encoded
    assert thumb.to_payload()["path"] == "/photos/caf%C3%A9%20au%20lait_200x200.jpg"


# ----------------------------------------------------------------------------- key room


def _fits(key: str) -> bool:
    try:
        thumbnails.check_key_room(key)
    except ImageRejected as exc:
        assert exc.reason == "key-too-long"
        return False
    return True


@pytest.mark.parametrize("char", ["k", "é", "漢"])
def test_a_key_is_accepted_exactly_when_its_longest_thumbnail_key_fits(char: str) -> None:
    for n in range(900 // len(char.encode()), 1030 // len(char.encode())):
        key = f"d/{char * n}.jpeg"
        longest = max(len(thumbnail_key(key, MAX_SIDE, MAX_SIDE, ext).encode()) for ext in ("jpg", "webp"))
        assert _fits(key) == (longest <= MAX_KEY_BYTES), n


def test_a_key_without_room_is_rejected_before_any_request(s3: S3Stub) -> None:
    with pytest.raises(ImageRejected, match="key-too-long"):
        thumbnails.make(SETTINGS, replace(SOURCE, key="k" * 1020 + ".jpg"), [SPEC])
    assert s3.calls == []


# ----------------------------------------------------------------------------- what counts as current


def test_spec_digest_is_stable_for_equal_specs() -> None:
    assert thumbnails.spec_digest(SizeSpec(200, 200)) == thumbnails.spec_digest(SizeSpec(200, 200))
    assert thumbnails.spec_digest(SPEC) == thumbnails.spec_digest(replace(SPEC, name="other"))


@pytest.mark.parametrize("change", [{"width": 201}, {"height": 201}, {"fit": "cover"}, {"format": "png"},
                                    {"quality": 79}])
def test_spec_digest_changes_with_every_field_but_the_name(change: dict[str, Any]) -> None:
    assert thumbnails.spec_digest(replace(SPEC, **change)) != thumbnails.spec_digest(SPEC)


@pytest.mark.parametrize(
    ("raw", "before"),
    [  # digests computed with the code as it was before sizes had a gravity, RENDER_VERSION 1+pillow-13.0.0
        ({"name": "thumb", "width": 128, "height": 128, "fit": "cover", "format": "auto", "quality": 80},
         "8a5198b5ac35ae0b"),
        ({"width": 256, "height": 256, "fit": "inside", "format": "auto", "quality": 80}, "125e19771c6fb73c"),
        ({"width": 1024, "height": 1024, "fit": "inside", "format": "auto", "quality": 82},
         "6b2dc4c3a99ad61c"),
        ({"width": 128, "height": 128, "fit": "cover", "gravity": "centre"}, "8a5198b5ac35ae0b"),
        ({"width": 128, "height": 128, "fit": "cover", "gravity": "center"}, "8a5198b5ac35ae0b"),
    ],
)
def test_a_size_without_gravity_keeps_the_digest_it_had_before_gravity(
    monkeypatch: pytest.MonkeyPatch, raw: dict[str, Any], before: str
) -> None:
    monkeypatch.setattr(thumbnails, "RENDER_VERSION", "1+pillow-13.0.0")
    assert thumbnails.spec_digest(parse_size(raw)) == before


def test_a_smart_crop_has_its_own_digest() -> None:
    centred = parse_size({"width": 128, "height": 128, "fit": "cover"})
    assert thumbnails.spec_digest(replace(centred, gravity="smart")) != thumbnails.spec_digest(centred)


def test_is_current_needs_both_the_source_bytes_and_a_known_spec() -> None:
    digest = thumbnails.spec_digest(SPEC)
    meta = {"source-etag": "e1", "spec": digest}
    assert thumbnails.is_current(meta, "e1", {digest, "other"})
    assert not thumbnails.is_current(meta, "e2", {digest})
    assert not thumbnails.is_current(meta, "e1", {"other"})
    assert not thumbnails.is_current({}, "e1", {digest})
