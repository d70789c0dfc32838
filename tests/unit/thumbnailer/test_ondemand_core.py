"""The on-demand resizer's decisions: cheapest checks first, nothing read or stored before they pass."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from thumbnailer import ondemand_core, thumbnails
from thumbnailer.allowlist import Allowlist, parse_size_list, sizes_from_definition
from thumbnailer.naming import ThumbnailName, key_stem
from thumbnailer.responses import Response
from thumbnailer.settings import Settings
from thumbnailer.spec import SizeSpec

from tests import images
from tests.reliability import record
from tests.unit.conftest import CLAIMS, REPO, S3Stub
from tests.unit.thumbnailer.test_urls import HOSTILE_PATHS

SRC, THUMBS = "unit-source", "unit-thumbs"
BUCKET_ROLES = {SRC: "SourceBucket", THUMBS: "ThumbnailBucket"}  # how the template names them
SETTINGS = Settings(SRC, THUMBS, 50 * 1024 * 1024, 100_000_000, cache_control="public, max-age=86400",
                    claims_table=CLAIMS)
# As deployed: Configure's sizes plus the template's default OnDemandSizes.
ALLOW = Allowlist(
    tuple(sizes_from_definition(json.loads((REPO / "statemachine" / "thumbnails.asl.json").read_text()))),
    parse_size_list("200x200,640x480"),
)
LAND = images.jpeg(640, 480)
SERVED = b"\xff\xd8 the bytes S3 holds"
WRITES = {"PutObject", "CopyObject", "DeleteObject", "DeleteObjects", "PutObjectTagging", "PutObjectAcl",
          "PutItem", "UpdateItem", "DeleteItem"}  # the last three: the stems' name claims


def answer(path: str, method: str = "GET", **kwargs: Any) -> Response:
    return ondemand_core.answer(path, method, settings=SETTINGS, allow=ALLOW, **kwargs)


def body_of(resp: Response) -> dict[str, Any]:
    assert resp.headers["Content-Type"] == "application/json"
    return json.loads(resp.body)


def source(s3: S3Stub, key: str, data: bytes = LAND, etag: str = "e1", *, owner: str | None = None) -> None:
    """Finding the source: the stem's name claim (absent, or naming ``owner``), then that key's HEAD."""
    s3.claim(stem_of(key), owner)
    s3.head(SRC, owner or key, etag=etag, size=len(data))


def nothing_stored(s3: S3Stub, key: str) -> None:
    s3.error("get_object", "NoSuchKey", 404, {"Bucket": THUMBS, "Key": key})


def stem_of(key: str) -> str:
    """The key of the name claim of a source key without dots in its folders."""
    return key.rsplit(".", 1)[0]


def rendered(s3: S3Stub, key: str, thumb: str, data: bytes = LAND, *, first: bool = True,
             etag: str = "e1") -> None:
    """The header judged, the render lease on ``thumb`` taken and the miss confirmed, the pinned
    read, the confirm after rendering and the name claim; the thumbnail's write comes next.

    ``first``: nobody claimed the stem yet (GetItem, then a conditional PutItem); else the claim is
    already ours.
    """
    s3.header(SRC, key, data, etag=etag)
    s3.lease(THUMBS, thumb)
    nothing_stored(s3, thumb)  # looked at again under the lease: a holder may just have stored it
    s3.get(SRC, key, data, etag=etag, IfMatch=f'"{etag}"')
    s3.head(SRC, key, etag=etag, size=len(data), IfMatch=f'"{etag}"')
    if first:
        s3.first_claim(stem_of(key), key)
    else:
        s3.claim(stem_of(key), key)


def delivered(s3: S3Stub, key: str, metadata: dict[str, str] | None = None, *, leased: bool = False) -> None:
    """The stored thumbnail read to answer; ``leased``: then the render lease dropped."""
    s3.get(THUMBS, key, SERVED, etag="t1", metadata=metadata)
    if leased:
        s3.lease_dropped(THUMBS, key)


def put_keys(s3: S3Stub) -> list[str]:
    """The keys written, leaving out the short-lived render leases."""
    return [p["Key"] for p in s3.made("PutObject") if not p["Key"].endswith(".rendering")]


def written(s3: S3Stub) -> dict[str, Any]:
    """The last thumbnail PutObject (not a lease)."""
    return [p for p in s3.made("PutObject") if not p["Key"].endswith(".rendering")][-1]


def render_land(s3: S3Stub, path: str = "/pics/land_200x200.jpg") -> tuple[Response, dict[str, Any]]:
    key = path[1:]
    source(s3, "pics/land.jpg")
    nothing_stored(s3, key)
    rendered(s3, "pics/land.jpg", key)
    s3.put(etag="t1")
    delivered(s3, key, leased=True)
    return answer(path), written(s3)


# ----------------------------------------------------------------------------- rendering


def test_an_allowed_size_is_rendered_stored_tagged_and_served(s3: S3Stub) -> None:
    resp, put = render_land(s3)
    assert (resp.status, resp.outcome, resp.body) == (200, "rendered", SERVED)
    assert resp.headers == {"Content-Type": "image/jpeg", "Cache-Control": "public, max-age=86400",
                            "ETag": '"t1"', "X-Thumbnail-Source": "rendered"}
    im = Image.open(io.BytesIO(put["Body"]))
    assert (im.format, im.size) == ("JPEG", (200, 150))  # fit "inside" for a parameter-only size
    assert (put["Bucket"], put["Key"], put["IfNoneMatch"]) == (THUMBS, "pics/land_200x200.jpg", "*")
    assert parse_qs(put["Tagging"]) == {"thumbnail": ["yes"], "thumbnail-size": ["200x200"],
                                        "source-etag": ["e1"], "made-by": ["on-demand"]}
    assert put["Metadata"]["source-key"] == "pics/land.jpg"  # what a purge of the source looks for
    (claim,) = s3.made("PutItem")
    assert (claim["Item"]["stem"], claim["ConditionExpression"]) == ({"S": "pics/land"},
                                                                      "attribute_not_exists(stem)")
    lease, dropped = s3.made("PutObject")[0], s3.made("DeleteObject")
    assert (lease["Key"], lease["IfNoneMatch"]) == ("pics/land_200x200.jpg.rendering", "*")
    assert [(d["Key"], d["IfMatch"]) for d in dropped] == [("pics/land_200x200.jpg.rendering", '"lease"')]


def test_a_configure_size_is_rendered_with_its_fit(s3: S3Stub) -> None:
    """128x128 is only in Configure, with fit cover: cropped to the exact box."""
    _, put = render_land(s3, "/pics/land_128x128.jpg")
    im = Image.open(io.BytesIO(put["Body"]))
    assert (im.format, im.size) == ("JPEG", (128, 128))


def test_the_second_request_serves_what_the_first_stored(s3: S3Stub) -> None:
    _, put = render_land(s3)
    source(s3, "pics/land.jpg", owner="pics/land.jpg")
    delivered(s3, "pics/land_200x200.jpg", metadata=put["Metadata"])
    resp = answer("/pics/land_200x200.jpg")
    assert (resp.status, resp.outcome, resp.body) == (200, "stored", SERVED)
    assert put_keys(s3) == ["pics/land_200x200.jpg"]
    assert len(s3.made("PutItem")) == 1  # the names claimed once, by the render


def test_head_serves_what_is_stored_but_never_renders(s3: S3Stub) -> None:
    """HEAD only asks: a miss is 404 not-rendered, with nothing judged, leased or written."""
    source(s3, "pics/land.jpg")
    nothing_stored(s3, "pics/land_200x200.jpg")
    _, body = _refusal(s3, "/pics/land_200x200.jpg", 404, "HEAD")
    assert body["error"] == "not-rendered"
    assert not [c for c in s3.calls if c.params.get("Bucket") == SRC and c.operation == "GetObject"]


def test_the_workflows_thumbnail_of_the_same_box_is_served_as_it_is(s3: S3Stub) -> None:
    """The workflow stores Configure's 128x128 under its own spec (format auto): that counts."""
    (workflow_spec,) = [s for s in ALLOW.configured if s.label == "128x128"]
    source(s3, "pics/land.jpg")
    delivered(s3, "pics/land_128x128.jpg",
              metadata={"source-etag": "e1", "spec": thumbnails.spec_digest(workflow_spec)})
    assert answer("/pics/land_128x128.jpg").outcome == "stored"


def test_a_stale_thumbnail_is_rendered_again_and_replaced_only_if_unchanged(s3: S3Stub) -> None:
    _, put = render_land(s3)
    source(s3, "pics/land.jpg", etag="e2", owner="pics/land.jpg")  # the source was replaced since
    delivered(s3, "pics/land_200x200.jpg", metadata=put["Metadata"])
    rendered(s3, "pics/land.jpg", "pics/land_200x200.jpg", etag="e2", first=False)
    s3.error("put_object", "PreconditionFailed", 412)  # If-None-Match: the stale one is there
    s3.head(THUMBS, "pics/land_200x200.jpg", etag="stale", size=9, metadata=put["Metadata"])
    s3.head(SRC, "pics/land.jpg", etag="e2", size=len(LAND), IfMatch='"e2"')
    s3.put(etag="t2")
    delivered(s3, "pics/land_200x200.jpg", leased=True)
    assert answer("/pics/land_200x200.jpg").outcome == "rendered"
    replaced = written(s3)
    assert replaced["IfMatch"] == '"stale"' and parse_qs(replaced["Tagging"])["source-etag"] == ["e2"]


def test_a_source_is_found_under_another_extension_and_case(s3: S3Stub) -> None:
    png = images.png_alpha(300, 300)
    s3.claim("pics/logo")
    for candidate in ("webp", "WEBP", "jpg", "JPG", "jpeg", "JPEG", "png"):
        s3.error("head_object", "404", 404, {"Bucket": SRC, "Key": f"pics/logo.{candidate}"})
    s3.head(SRC, "pics/logo.PNG", etag="e1", size=len(png), content_type="image/png")
    nothing_stored(s3, "pics/logo_200x200.webp")
    rendered(s3, "pics/logo.PNG", "pics/logo_200x200.webp", png)
    s3.put(etag="t1")
    delivered(s3, "pics/logo_200x200.webp", leased=True)
    assert answer("/pics/logo_200x200.webp").status == 200
    im = Image.open(io.BytesIO(written(s3)["Body"]))
    assert (im.format, im.size, im.mode) == ("WEBP", (200, 200), "RGBA")


def test_too_large_for_a_lambda_response_redirects_to_the_stored_object(s3: S3Stub) -> None:
    source(s3, "pics/land.jpg")
    nothing_stored(s3, "pics/land_1024x1024.jpg")
    rendered(s3, "pics/land.jpg", "pics/land_1024x1024.jpg")
    s3.put(etag="t1")
    s3.lease_dropped(THUMBS, "pics/land_1024x1024.jpg")
    resp = answer("/pics/land_1024x1024.jpg", inline_limit=100)
    assert (resp.status, resp.outcome, resp.body) == (302, "rendered", b"")
    assert resp.headers["Cache-Control"] == "no-store"
    location = urlsplit(resp.headers["Location"])
    assert THUMBS in location.netloc + location.path and location.path.endswith("pics/land_1024x1024.jpg")
    assert "Signature" in parse_qs(location.query) or "X-Amz-Signature" in parse_qs(location.query)


def test_a_large_stored_thumbnail_redirects_too(s3: S3Stub) -> None:
    _, put = render_land(s3)
    source(s3, "pics/land.jpg", owner="pics/land.jpg")
    delivered(s3, "pics/land_200x200.jpg", metadata=put["Metadata"])
    resp = answer("/pics/land_200x200.jpg", inline_limit=len(SERVED) - 1)
    assert (resp.status, resp.outcome) == (302, "stored")


# ----------------------------------------------------------------------------- refusals


def _refusal(s3: S3Stub, path: str, status: int, method: str = "GET") -> tuple[Response, dict[str, Any]]:
    resp = answer(path, method)
    assert resp.status == status, resp
    assert resp.headers["Cache-Control"] == "no-store"
    assert not [c for c in s3.calls if c.operation in WRITES], "a refused request wrote something"
    return resp, body_of(resp)


def _refused(s3: S3Stub, path: str, status: int, method: str = "GET") -> dict[str, Any]:
    return _refusal(s3, path, status, method)[1]


def _seen(resp: Response, body: dict[str, Any], s3: S3Stub) -> str:
    """A refusal's row: the status and error the caller got, and how many S3 requests it cost."""
    return f"{resp.status} {body['error']}, {len(s3.calls)} S3 requests"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_only_get_and_head(s3: S3Stub, method: str) -> None:
    resp, body = _refusal(s3, "/pics/land_200x200.jpg", 405, method)
    assert body["error"] == "method-not-allowed"
    assert s3.calls == []
    record("Security", f"on-demand {method}", "405, no S3 request", _seen(resp, body, s3))


@pytest.mark.parametrize(("case", "path"), HOSTILE_PATHS, ids=[c for c, _ in HOSTILE_PATHS])
def test_a_path_that_names_no_thumbnail_is_400_before_any_request(s3: S3Stub, case: str, path: str) -> None:
    resp, body = _refusal(s3, path, 400)
    assert body["error"] == "bad-request"
    assert s3.calls == []
    record("Security", f"on-demand path: {case}", "400, nothing read outside SourceBucket, nothing written",
           _seen(resp, body, s3))


@pytest.mark.parametrize(
    "size", ["300x300", "201x200", "200x201", "480x640", "129x128", "1x1", "4096x4096", "2048x1536"]
)
def test_only_allowlisted_sizes_render(s3: S3Stub, size: str) -> None:
    assert size not in ALLOW.labels()
    resp, body = _refusal(s3, f"/pics/land_{size}.jpg", 403)
    assert body["error"] == "size-not-allowed"
    assert body["allowed"] == ALLOW.labels() and "200x200" in body["message"]
    assert s3.calls == []
    record("Security", f"on-demand size {size} (not allowlisted)", "403, no S3 request, nothing stored",
           _seen(resp, body, s3))


LITERAL_KEYS = [
    ("double-encoded dot-dot", "/pics/%252e%252e/land_200x200.jpg", "pics/%2e%2e/land"),
    ("double-encoded slash", "/pics%252Fland_200x200.jpg", "pics%2Fland"),
    ("another bucket's name as a prefix", "/decoy-bucket/pics/land_200x200.jpg", "decoy-bucket/pics/land"),
    ("an S3 ARN as the key", "/arn:aws:s3:::decoy-bucket/land_200x200.jpg", "arn:aws:s3:::decoy-bucket/land"),
]


@pytest.mark.parametrize(("case", "path", "stem"), LITERAL_KEYS, ids=[c for c, _, _ in LITERAL_KEYS])
def test_a_missing_source_is_404_after_looking_only_in_the_source_bucket(
    s3: S3Stub, case: str, path: str, stem: str
) -> None:
    name = ThumbnailName(stem, 200, 200, "jpg")
    s3.claim(stem)
    for _ in ondemand_core.source_candidates(name):
        s3.error("head_object", "404", 404)
    resp, body = _refusal(s3, path, 404)
    assert body["error"] == "source-not-found"
    claim, *heads = s3.calls
    assert (claim.operation, claim.params) == ("GetItem", {"TableName": CLAIMS, "Key": {"stem": {"S": stem}},
                                                           "ConsistentRead": True})
    assert {c.operation for c in heads} == {"HeadObject"}
    assert {c.params["Bucket"] for c in heads} == {SRC}
    assert {key_stem(c.params["Key"]) for c in heads} == {stem}
    operations = sorted({c.operation for c in heads})
    buckets = sorted({BUCKET_ROLES.get(c.params["Bucket"], c.params["Bucket"]) for c in heads})
    stems = sorted({key_stem(c.params["Key"]) for c in heads})
    record("Security", f"on-demand path: {case}",
           "404, only the stem's name claim read outside SourceBucket, nothing written",
           f"{_seen(resp, body, s3)}: {', '.join(operations)} of {', '.join(s + '.*' for s in stems)} "
           f"in {', '.join(buckets)}; claim read: {claim.params['Key']['stem']['S']} in NameClaimsTable")


def test_a_source_over_the_byte_cap_is_422_before_it_is_read(s3: S3Stub) -> None:
    s3.claim("pics/land")
    s3.head(SRC, "pics/land.jpg", etag="e1", size=SETTINGS.max_source_bytes + 1)
    body = _refused(s3, "/pics/land_200x200.jpg", 422)
    assert body["error"] == "too-many-bytes" and "pics/land.jpg" in body["message"]


def test_a_source_that_is_not_an_image_is_422(s3: S3Stub) -> None:
    html = b"<html><body>not an image</body></html>"
    source(s3, "pics/fake.jpg", html)
    nothing_stored(s3, "pics/fake_200x200.jpg")
    s3.header(SRC, "pics/fake.jpg", html, etag="e1")  # refused from the header: never read whole
    body = _refused(s3, "/pics/fake_200x200.jpg", 422)
    assert body["error"] == "html" and "pics/fake.jpg" in body["message"]


def test_a_source_too_costly_for_this_function_is_422_before_it_is_read_whole(s3: S3Stub) -> None:
    data = images.jpeg(2400, 1800)
    source(s3, "pics/huge.jpg", data)
    nothing_stored(s3, "pics/huge_1024x1024.jpg")
    s3.header(SRC, "pics/huge.jpg", data, etag="e1")
    tight = replace(SETTINGS, render_memory_mb=64, render_function="OnDemandFunction")
    resp = ondemand_core.answer("/pics/huge_1024x1024.jpg", "GET", settings=tight, allow=ALLOW)
    assert resp.status == 422 and resp.headers["Cache-Control"] == "no-store"
    body = body_of(resp)
    assert body["error"] == "too-costly" and "OnDemandFunction has 64 MB" in body["message"]
    (read,) = [c.params for c in s3.calls if c.operation == "GetObject" and c.params["Bucket"] == SRC]
    assert "Range" in read  # the header only
    assert not [c for c in s3.calls if c.operation in WRITES]


def test_the_source_that_owns_the_names_is_rendered_not_the_first_candidate(s3: S3Stub) -> None:
    """pics/land.png claimed the names; pics/land.jpg (the first candidate for a .jpg) is never read."""
    png = images.png_alpha(640, 480)
    source(s3, "pics/land.jpg", png, owner="pics/land.png")
    nothing_stored(s3, "pics/land_200x200.jpg")
    rendered(s3, "pics/land.png", "pics/land_200x200.jpg", png, first=False)
    s3.put(etag="t1")
    delivered(s3, "pics/land_200x200.jpg", leased=True)
    assert answer("/pics/land_200x200.jpg").status == 200
    assert written(s3)["Metadata"]["source-key"] == "pics/land.png"
    assert not [c for c in s3.calls if c.params.get("Key") == "pics/land.jpg"]


def test_a_claim_taken_by_another_source_mid_render_is_422_name_collision(s3: S3Stub) -> None:
    """Unclaimed when looked up, claimed by pics/land.png before this render stored: it may not write."""
    source(s3, "pics/land.jpg")
    nothing_stored(s3, "pics/land_200x200.jpg")
    s3.header(SRC, "pics/land.jpg", LAND, etag="e1")
    s3.lease(THUMBS, "pics/land_200x200.jpg")
    nothing_stored(s3, "pics/land_200x200.jpg")
    s3.get(SRC, "pics/land.jpg", LAND, etag="e1", IfMatch='"e1"')
    s3.head(SRC, "pics/land.jpg", etag="e1", size=len(LAND), IfMatch='"e1"')
    s3.claim("pics/land", "pics/land.png")
    s3.head(SRC, "pics/land.png", etag="p1", size=10)
    s3.lease_dropped(THUMBS, "pics/land_200x200.jpg")
    resp = answer("/pics/land_200x200.jpg")
    body = body_of(resp)
    assert (resp.status, body["error"]) == (422, "name-collision") and "pics/land.png" in body["message"]
    assert put_keys(s3) == []  # only the lease, and it is gone


@pytest.mark.parametrize("step", ["head", "read"])
def test_a_throttled_s3_is_503_with_retry_after(s3: S3Stub, step: str) -> None:
    if step == "head":
        s3.claim("pics/land")
        s3.error("head_object", "SlowDown", 503)
    else:
        source(s3, "pics/land.jpg")
        nothing_stored(s3, "pics/land_200x200.jpg")
        s3.error("get_object", "SlowDown", 503)
    resp = answer("/pics/land_200x200.jpg")
    assert (resp.status, resp.headers["Retry-After"], body_of(resp)["error"]) == (503, "1", "try-again")


def test_a_thumbnail_gone_right_after_it_was_stored_is_503(s3: S3Stub) -> None:
    source(s3, "pics/land.jpg")
    nothing_stored(s3, "pics/land_200x200.jpg")
    rendered(s3, "pics/land.jpg", "pics/land_200x200.jpg")
    s3.put(etag="t1")
    s3.error("get_object", "NoSuchKey", 404)
    s3.lease_dropped(THUMBS, "pics/land_200x200.jpg")  # dropped even though the render failed
    assert answer("/pics/land_200x200.jpg").status == 503


def test_find_source_skips_candidates_that_would_name_another_thumbnail(s3: S3Stub) -> None:
    """A stem ending in '/' gives candidates like 'a/.jpg', whose own thumbnail is 'a/.jpg_200x200.jpg'."""
    assert ondemand_core.find_source(SETTINGS, "a/_200x200.jpg", ThumbnailName("a/", 200, 200, "jpg")) is None
    assert s3.calls == []


# ----------------------------------------------------------------------------- bounds

BOUND_SOURCES: list[tuple[str, Callable[[], bytes], int, int]] = [
    ("wide", lambda: images.jpeg(3000, 200), 3000, 200),
    ("tall", lambda: images.jpeg(200, 3000), 200, 3000),
    ("big", lambda: images.jpeg(2400, 1800), 2400, 1800),
    ("tiny", lambda: images.jpeg(50, 40), 50, 40),
    ("dot", lambda: images.jpeg(1, 1), 1, 1),
    ("rotated", lambda: images.jpeg(1000, 200, orientation=6), 200, 1000),  # EXIF 6: displayed 200x1000
]


@pytest.mark.parametrize(
    ("name", "build", "src_w", "src_h"), BOUND_SOURCES, ids=[b[0] for b in BOUND_SOURCES]
)
def test_output_is_bounded_by_the_box_and_never_upscaled(
    s3: S3Stub, name: str, build: Callable[[], bytes], src_w: int, src_h: int
) -> None:
    """Every allowed size, from sources bigger and smaller than it: never bigger than box or source."""
    data, key, seen = build(), f"bounds/{name}.jpg", []
    for i, label in enumerate(ALLOW.labels()):
        box_w, box_h = map(int, label.split("x"))
        spec = ALLOW.spec_for(box_w, box_h, "jpeg")
        assert isinstance(spec, SizeSpec)
        thumb = f"bounds/{name}_{label}.jpg"
        source(s3, key, data, owner=None if i == 0 else key)
        nothing_stored(s3, thumb)
        rendered(s3, key, thumb, data, first=i == 0)  # the first render claims the names, the rest hold them
        s3.put(etag="t1")
        delivered(s3, thumb, leased=True)
        before = len(s3.calls)
        assert answer("/" + thumb).status == 200
        calls = s3.calls[before:]
        claim = [c.params["Item"]["stem"]["S"] for c in calls if c.operation == "PutItem"]
        (put,) = [c.params for c in calls if c.operation in WRITES and c.service == "s3"
                  and not c.params["Key"].endswith(".rendering")]
        assert claim == ([f"bounds/{name}"] if i == 0 else [])
        assert (put["Bucket"], put["Key"]) == (THUMBS, thumb)
        assert {c.params["Bucket"] for c in calls if c.service == "s3"} == {SRC, THUMBS}
        w, h = Image.open(io.BytesIO(put["Body"])).size
        assert 1 <= w <= min(box_w, src_w) and 1 <= h <= min(box_h, src_h), (label, (w, h))
        if spec.fit == "inside":  # the whole image, aspect kept, scaled by at most 1
            scale = min(box_w / src_w, box_h / src_h, 1.0)
            assert abs(w - src_w * scale) <= 1 and abs(h - src_h * scale) <= 1, (label, (w, h))
        seen.append(f"{label}->{w}x{h}")
    record("Security", f"on-demand output bounds: {name} source {src_w}x{src_h}",
           "each allowed box: output <= box and <= source (no upscaling); one put, at the requested key",
           ", ".join(seen))


# ----------------------------------------------------------------------------- moderation

MODERATED = Allowlist(ALLOW.configured, ALLOW.extra, moderated=True)
FIRST = ALLOW.configured[0]  # the workflow's first size: what says the workflow passed a source


def workflow_made(s3: S3Stub, key: str, *, etag: str = "e1", made_by: str = "workflow",
                  spec: str | None = None) -> None:
    """The first Configure size as the workflow stores it (format auto: first a .jpg is looked at)."""
    stem = key.rsplit(".", 1)[0]
    s3.head(THUMBS, f"{stem}_{FIRST.width}x{FIRST.height}.jpg", etag="w1", size=3000,
            metadata={"source-etag": etag, "spec": spec or thumbnails.spec_digest(FIRST), "made-by": made_by,
                      "width": str(FIRST.width), "height": str(FIRST.height), "format": "jpeg"})


@pytest.mark.parametrize("made_by", [None, "on-demand"], ids=["nothing-made", "only-on-demand"])
def test_with_moderation_on_a_source_the_workflow_has_not_passed_is_403(
    s3: S3Stub, made_by: str | None
) -> None:
    """Flagged, not JPEG/PNG (refused not-moderatable) or still in its execution: the workflow has
    made none of its sizes from these bytes, so a URL cannot render it around moderation."""
    source(s3, "pics/land.jpg")
    nothing_stored(s3, "pics/land_200x200.jpg")
    if made_by is None:
        s3.error("head_object", "404", 404)  # pics/land_128x128.jpg
        s3.error("head_object", "404", 404)  # pics/land_128x128.webp
    else:
        workflow_made(s3, "pics/land.jpg", made_by=made_by)
    resp = ondemand_core.answer("/pics/land_200x200.jpg", "GET", settings=SETTINGS, allow=MODERATED)
    assert (resp.status, body_of(resp)["error"]) == (403, "not-moderated")
    assert resp.headers["Cache-Control"] == "no-store"
    assert not [c for c in s3.calls if c.operation in WRITES]
    assert not [c for c in s3.calls if c.params.get("Bucket") == SRC and c.operation == "GetObject"]


@pytest.mark.parametrize("spec", [None, "an-older-digest"], ids=["current-spec", "older-spec"])
def test_with_moderation_on_a_source_the_workflow_made_at_these_bytes_is_rendered(
    s3: S3Stub, spec: str | None
) -> None:
    """The gate asks whether moderation passed these bytes, not whether the size is current: a
    thumbnail made before an engine upgrade or a Configure edit (an older spec) still says so."""
    source(s3, "pics/land.jpg")
    nothing_stored(s3, "pics/land_200x200.jpg")
    workflow_made(s3, "pics/land.jpg", spec=spec)
    rendered(s3, "pics/land.jpg", "pics/land_200x200.jpg")
    s3.put(etag="t1")
    delivered(s3, "pics/land_200x200.jpg", leased=True)
    resp = ondemand_core.answer("/pics/land_200x200.jpg", "GET", settings=SETTINGS, allow=MODERATED)
    assert (resp.status, resp.outcome) == (200, "rendered")


def test_older_bytes_passed_by_moderation_do_not_pass_newer_ones(s3: S3Stub) -> None:
    source(s3, "pics/land.jpg", etag="e2")  # re-uploaded: its execution has not finished
    nothing_stored(s3, "pics/land_200x200.jpg")
    workflow_made(s3, "pics/land.jpg", etag="e1")
    s3.error("head_object", "404", 404)
    resp = ondemand_core.answer("/pics/land_200x200.jpg", "GET", settings=SETTINGS, allow=MODERATED)
    assert (resp.status, body_of(resp)["error"]) == (403, "not-moderated")


def test_the_allowlist_is_read_only_for_requests_that_pass_the_cheap_checks(s3: S3Stub) -> None:
    def unreadable() -> Any:
        raise AssertionError("DescribeStateMachine must not be needed to refuse this request")

    for path, method, status in (("/pics/land_200x200.jpg", "POST", 405), ("/../x_1x1.jpg", "GET", 400)):
        resp = ondemand_core.answer(path, method, settings=SETTINGS, allow=unreadable)
        assert resp.status == status
    resp = ondemand_core.answer("/pics/land_77x77.jpg", "GET", settings=SETTINGS, allow=lambda: ALLOW)
    assert resp.status == 403
