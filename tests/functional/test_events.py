"""Events as S3 and EventBridge really deliver them: twice, late, after a delete, with odd keys.

EventBridge delivers at least once, so the same event can start two executions
at the same moment or one after the other; an event can arrive after its
object was overwritten or deleted; keys can be anything S3 accepts. Each case
runs the whole workflow in local mode and checks what the thumbnail bucket
holds afterwards, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests import images
from tests.functional.conftest import output, run_upload
from tests.functional.drills import (
    Window,
    by_size,
    claims,
    decode_fully,
    expected_keys,
    gate,
    thumbnails_under,
    window,
)
from tests.reliability import record
from thumbflow.local.cloud import LocalCloud
from thumbflow.local.wire import Request

# A thumbnail key adds at most len("_4096x4096.webp") = 15 bytes to the source's stem
# (sizes are at most 4096 a side); S3 keys are at most 1024 bytes of UTF-8.
LONGEST_STEM = 1024 - len("_4096x4096.webp")


def etag_of(body: bytes) -> str:
    """The ETag S3 gives a single-part upload."""
    return hashlib.md5(body).hexdigest()


def start_upload(cloud: LocalCloud, key: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """Upload; return the execution the rule started and the event it was started with."""
    before = len(cloud.started)
    cloud.upload(key, body)
    started = [(arn, ev) for arn, ev in cloud.started[before:] if ev["detail"]["object"]["key"] == key]
    assert len(started) == 1, started
    return started[0]


def alerts_for(cloud: LocalCloud, key: str) -> list[dict[str, Any]]:
    return [a.body for a in cloud.alerts() if a.body.get("key") == key]


def stem_of(key: str) -> str:
    head, _, name = key.rpartition("/")
    if name.rfind(".") > 0:
        name = name[: name.rfind(".")]
    return f"{head}/{name}" if head else name


# -- the same event twice -------------------------------------------------------------------------
def test_same_event_twice_at_the_same_moment(cloud: LocalCloud) -> None:
    body = images.jpeg(700, 500)
    run_upload(cloud, "dup/reference.jpg", body)  # the same bytes delivered once: the reference
    reference = by_size(thumbnails_under(cloud, "dup/reference"))
    key, stem = "dup/at-once.jpg", "dup/at-once"
    # Both executions' Resize calls start together: neither can see the other's thumbnails first.
    meet = threading.Barrier(2, timeout=60)
    with gate(cloud, "ResizeFunction", lambda event: meet.wait()):
        first, event = start_upload(cloud, key, body)
        second = cloud.execute(event)  # EventBridge delivers at least once: the same event again
        descs = [cloud.wait(first), cloud.wait(second)]
    assert [d["status"] for d in descs] == ["SUCCEEDED", "SUCCEEDED"], [d.get("cause") for d in descs]
    manifests = [output(d) for d in descs]
    assert [m["outcome"] for m in manifests] == ["thumbnails", "thumbnails"]
    listed = [sorted((t["key"], t["bytes"]) for t in m["thumbnails"]) for m in manifests]
    assert listed[0] == listed[1]
    # Conditional writes: each thumbnail is written by exactly one of the two, the other reuses it.
    writers = {t["key"]: 0 for t in manifests[0]["thumbnails"]}
    for m in manifests:
        for t in m["thumbnails"]:
            writers[t["key"]] += 0 if t["reused"] else 1
    assert set(writers.values()) == {1}, writers
    stored = thumbnails_under(cloud, stem)
    assert set(stored) == expected_keys(stem)
    assert by_size(stored) == reference
    assert {tags["source-etag"] for _, tags in stored.values()} == {etag_of(body)}
    assert alerts_for(cloud, key) == []
    record("Events", "same event delivered twice at the same moment",
           "both SUCCEEDED; 4 thumbnails, each written once; bytes of a single delivery",
           f"{descs[0]['status']}/{descs[1]['status']}; {len(stored)} keys, writers per key "
           f"{sorted(set(writers.values()))}; identical to single delivery: "
           f"{by_size(stored) == reference}")


@pytest.mark.parametrize(
    "key",
    ["dup/again.jpg", "dup/with space+plus%25 ünï 写真.jpg", "dup/no-extension"],
    ids=["plain", "awkward", "no-extension"],
)
def test_same_event_again_later_reuses_everything(cloud: LocalCloud, key: str) -> None:
    stem = stem_of(key)
    arn, desc = run_upload(cloud, key, images.jpeg(640, 480))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    first = thumbnails_under(cloud, stem)
    assert set(first) == expected_keys(stem)
    event = json.loads(cloud.describe(arn)["input"])
    w = window(cloud)
    again = cloud.wait(cloud.execute(event))  # the redelivery, after the first run finished
    assert again["status"] == "SUCCEEDED", again.get("cause")
    manifest = output(again)
    assert all(t["reused"] for t in manifest["thumbnails"])
    assert sorted(t["key"] for t in manifest["thumbnails"]) == sorted(first)
    resize = w.counts("ResizeFunction")
    gets = [(r.service, r.bucket, r.key) for r in w.requests("ResizeFunction")
            if r.operation in ("GetObject", "GetItem")]
    # One read, of the stem's name claim (it says thumbnails exist to look for); no source read.
    assert gets == [("dynamodb", "", "")], gets
    assert resize[("dynamodb", "PutItem")] == 0, resize  # the claim is already this source's
    assert resize[("s3", "PutObject")] == 0, resize
    assert thumbnails_under(cloud, stem) == first  # same keys, same bytes, same tags
    record("Events", f"same event delivered again after the first run ({key!r})",
           "SUCCEEDED; every thumbnail reused; no source read (one GET: the name claim), no write",
           f"{again['status']}; reused {sum(t['reused'] for t in manifest['thumbnails'])}/"
           f"{len(manifest['thumbnails'])}; "
           f"GetObject {resize[('s3', 'GetObject')]}, PutObject {resize[('s3', 'PutObject')]}")


# -- stale events ---------------------------------------------------------------------------------
@pytest.mark.parametrize("moment", ["after-read", "before-first-put", "between-puts"])
def test_overwrite_while_rendering_never_publishes_old_bytes(cloud: LocalCloud, moment: str) -> None:
    """The object is overwritten while the older execution renders; the newer one runs to the end
    before the older continues. The older must end superseded and leave the newer's thumbnails.

    The moments are points on the wire of the older execution's Resize: just after its read of
    the source was answered, just before its first thumbnail PutObject, between its first two."""
    key, stem = f"race/{moment}.jpg", f"race/{moment}"
    old, new = images.jpeg(300, 200), images.jpeg(320, 240)
    newer: list[str] = []
    puts_before_overwrite: list[str] = []

    def overwrite(request: Request) -> None:
        if newer:
            return  # the newer execution's own requests pass the same hooks
        if request.operation == "PutObject":
            puts_before_overwrite.append(request.key)
            if len(puts_before_overwrite) < (2 if moment == "between-puts" else 1):
                return
        arn, _ = start_upload(cloud, key, new)
        newer.append(arn)
        cloud.wait(arn)

    def source_read(r: Request) -> bool:
        return r.bucket == cloud.deployed.source_bucket and r.key == key

    def thumbnail_put(r: Request) -> bool:
        return r.bucket == cloud.deployed.thumbnail_bucket and r.key.startswith(stem + "_")

    if moment == "after-read":
        hook = cloud.after_request("s3", "GetObject", overwrite, caller="ResizeFunction", when=source_read)
    else:
        hook = cloud.before_request("s3", "PutObject", overwrite, caller="ResizeFunction", when=thumbnail_put)
    with hook:
        older, _ = start_upload(cloud, key, old)
        desc = cloud.wait(older)
    assert newer, "the overwrite did not happen"
    assert len(puts_before_overwrite) == {"after-read": 0, "before-first-put": 1, "between-puts": 2}[moment]
    newer_desc = cloud.describe(newer[0])
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert output(desc)["outcome"] == "superseded"
    assert output(desc)["thumbnails"] == []
    assert newer_desc["status"] == "SUCCEEDED" and output(newer_desc)["outcome"] == "thumbnails"
    stored = thumbnails_under(cloud, stem)
    assert set(stored) == expected_keys(stem)
    etags = {tags["source-etag"] for _, tags in stored.values()}
    assert etags == {etag_of(new)}
    assert decode_fully(stored[f"{stem}_256x256.jpg"][0]).size == (256, 192)  # 320x240, not 300x200
    newer_bytes = {t["key"]: t["bytes"] for t in output(newer_desc)["thumbnails"]}
    assert {k: len(b) for k, (b, _) in stored.items()} == newer_bytes
    assert alerts_for(cloud, key) == []
    record("Events", f"object overwritten while the older execution renders ({moment})",
           "older SUCCEEDED superseded with no thumbnails; stored thumbnails all from the new bytes",
           f"older {desc['status']} {output(desc)['outcome']}; newer "
           f"{output(newer_desc)['outcome']}; stored from new bytes: {etags == {etag_of(new)}}")


# -- deleted before processing ----------------------------------------------------------------------
def deleted_just_before(cloud: LocalCloud, function: str, key: str) -> tuple[str, dict[str, Any], Window]:
    """Upload ``key`` and delete it just before ``function`` runs: (execution, description, window)."""
    s3 = cloud.client("s3")

    def delete(event: dict[str, Any]) -> None:
        s3.delete_object(Bucket=cloud.deployed.source_bucket, Key=key)

    w = window(cloud)
    with gate(cloud, function, delete):
        arn, _ = start_upload(cloud, key, images.jpeg(300, 200))
        desc = cloud.wait(arn)
    cloud.wait_all()  # the delete also started PurgeWorkflow; let it end before counting
    return arn, desc, w


UPLOAD_FUNCTIONS = ("ValidateFunction", "ResizeFunction")  # what ThumbnailWorkflow invokes


def tasks_scheduled(cloud: LocalCloud, arn: str) -> Counter[tuple[str, str]]:
    """(resourceType, resource) of every task the execution scheduled: its own integrations."""
    details = [e["taskScheduledEventDetails"] for e in cloud.history(arn) if e["type"] == "TaskScheduled"]
    return Counter((d["resourceType"], d["resource"]) for d in details)


def test_object_deleted_before_validation_is_rejected_once(cloud: LocalCloud) -> None:
    key = "deleted/before-validate.jpg"
    arn, desc, w = deleted_just_before(cloud, "ValidateFunction", key)
    assert desc["status"] == "FAILED" and desc["error"] == "ImageRejected"
    assert desc["cause"].startswith("missing:"), desc["cause"]
    # No retry storm: one Validate call, no Resize, one look (the header's ranged GET: a 404).
    upload = [i.error for i in w.invocations() if i.function in UPLOAD_FUNCTIONS]
    assert upload == [None]  # a verdict, not an error
    validate = w.counts("ValidateFunction")
    assert validate == {("s3", "GetObject"): 1}, validate
    assert tasks_scheduled(cloud, arn) == {("lambda", "invoke"): 1, ("sns", "publish"): 1,
                                           ("events", "putEvents"): 1}
    alerts = alerts_for(cloud, key)
    assert len(alerts) == 1 and alerts[0]["error"] == "ImageRejected"
    assert alerts[0]["cause"].startswith("missing:")
    assert thumbnails_under(cloud, stem_of(key)) == {}
    record("Events", "object deleted before validation",
           "FAILED ImageRejected (missing), one alert, 1 Validate call, 1 GetObject, no retry",
           f"{desc['status']} {desc['error']} ({desc['cause'].split(':')[0]}), "
           f"{len(alerts)} alert, {len(upload)} invocation, "
           f"{validate[('s3', 'GetObject')]} GetObject")


def test_object_deleted_while_rendering_is_superseded_once(cloud: LocalCloud) -> None:
    key = "deleted/while-rendering.jpg"
    arn, desc, w = deleted_just_before(cloud, "ResizeFunction", key)
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert output(desc)["outcome"] == "superseded" and output(desc)["thumbnails"] == []
    assert [(i.function, i.error) for i in w.invocations() if i.function in UPLOAD_FUNCTIONS] == [
        ("ValidateFunction", None), ("ResizeFunction", None)]  # "superseded" is an outcome
    resize = w.counts("ResizeFunction")
    source_reads = [r for r in w.requests("ResizeFunction")
                    if r.operation == "GetObject" and r.bucket == cloud.deployed.source_bucket]
    assert len(source_reads) == 1 and resize[("s3", "PutObject")] == 0, resize
    assert "WaitStateEntered" not in {e["type"] for e in cloud.history(arn)}
    assert alerts_for(cloud, key) == []
    assert thumbnails_under(cloud, stem_of(key)) == {}
    record("Events", "object deleted after validation, before rendering",
           "SUCCEEDED superseded, no thumbnails, no alert, 1 Resize call, no retry branch",
           f"{desc['status']} {output(desc)['outcome']}, {len(w.invocations('ResizeFunction'))} "
           f"Resize call, {resize[('s3', 'PutObject')]} PutObject")


# -- keys -------------------------------------------------------------------------------------------
def test_key_that_looks_like_a_thumbnail_is_a_source(cloud: LocalCloud) -> None:
    plain, lookalike = images.jpeg(400, 300), images.jpeg(500, 250)
    _, d1 = run_upload(cloud, "looks/a.jpg", plain)
    _, d2 = run_upload(cloud, "looks/a_128x128.jpg", lookalike)
    assert d1["status"] == d2["status"] == "SUCCEEDED"
    assert output(d2)["source"]["key"] == "looks/a_128x128.jpg"
    s3 = cloud.client("s3")
    keys = {k for k in cloud.objects(cloud.deployed.thumbnail_bucket) if k.startswith("looks/")}
    # Each source claimed the names of its own stem: two claims, two sets of thumbnails.
    assert keys == expected_keys("looks/a") | expected_keys("looks/a_128x128")
    assert claims(cloud, "looks/") == {"looks/a": "looks/a.jpg", "looks/a_128x128": "looks/a_128x128.jpg"}
    own = thumbnails_under(cloud, "looks/a_128x128")
    assert {tags["source-etag"] for _, tags in own.values()} == {etag_of(lookalike)}
    plains = thumbnails_under(cloud, "looks/a")
    assert {tags["source-etag"] for _, tags in plains.values()} == {etag_of(plain)}
    # Neither source was touched.
    for key, body in (("looks/a.jpg", plain), ("looks/a_128x128.jpg", lookalike)):
        assert s3.get_object(Bucket=cloud.deployed.source_bucket, Key=key)["Body"].read() == body
    record("Events", "key that looks like a thumbnail (a_128x128.jpg) uploaded as a source",
           "SUCCEEDED with its own 4 thumbnails (a_128x128_128x128.jpg ...); a.jpg's untouched",
           f"{d2['status']}; {len(own)} own thumbnails ({min(own)} ...); a.jpg's {len(plains)} from "
           f"its own bytes: {({t['source-etag'] for _, t in plains.values()} == {etag_of(plain)})}; "
           f"{len(keys)} keys under looks/")


def long_key(total_bytes: int, unit: str = "k", prefix: str = "long/", ext: str = ".jpg") -> str:
    """A key of exactly ``total_bytes`` bytes of UTF-8, its name made of ``unit``."""
    room = total_bytes - len((prefix + ext).encode())
    count = room // len(unit.encode())
    pad = room - count * len(unit.encode())
    key = prefix + unit * count + "k" * pad + ext
    assert len(key.encode()) == total_bytes
    return key


@pytest.mark.parametrize("unit", ["k", "写"], ids=["ascii", "utf8-3-byte"])
def test_1024_byte_key_is_rejected_as_key_too_long(cloud: LocalCloud, unit: str) -> None:
    key = long_key(1024, unit)
    w = window(cloud)
    arn, desc = run_upload(cloud, key, images.jpeg(300, 200))
    assert desc["status"] == "FAILED" and desc["error"] == "ImageRejected"
    assert desc["cause"].startswith("key-too-long:"), desc["cause"]
    # Decided before anything is read or written for the thumbnails.
    assert w.counts("ResizeFunction") == {}
    alerts = [a.body for a in cloud.alerts() if a.body.get("execution") == arn]
    assert len(alerts) == 1 and alerts[0]["cause"].startswith("key-too-long:")
    assert not [k for k in cloud.objects(cloud.deployed.thumbnail_bucket) if k.startswith("long/")]
    record("Events", f"1024-byte source key ({'ASCII' if unit == 'k' else '3-byte UTF-8'})",
           "FAILED ImageRejected (key-too-long): its thumbnail keys would exceed S3's 1024 bytes; "
           "one alert, nothing written",
           f"{desc['status']} {desc['error']} ({desc['cause'].split(':')[0]}), {len(alerts)} alert, "
           f"Resize S3 requests {sum(w.counts('ResizeFunction').values())}")


def test_longest_key_with_room_for_thumbnails_succeeds(cloud: LocalCloud) -> None:
    key = long_key(LONGEST_STEM + len(".jpg"), "é")
    stem = stem_of(key)
    assert len(stem.encode()) == LONGEST_STEM
    _, desc = run_upload(cloud, key, images.jpeg(300, 200))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    stored = thumbnails_under(cloud, stem)
    assert set(stored) == expected_keys(stem)
    longest = max(len(k.encode()) for k in stored)
    assert longest == LONGEST_STEM + len("_1024x1024.jpg") <= 1024
    record("Events", f"source key whose stem is {LONGEST_STEM} bytes (the most that fits)",
           "SUCCEEDED; 4 thumbnails, every key within S3's 1024 bytes",
           f"{desc['status']}; {len(stored)} thumbnails, longest key {longest} bytes")


def test_key_over_1024_bytes_is_refused_by_s3(cloud: LocalCloud) -> None:
    key = long_key(1025)
    before = len(cloud.started)
    with pytest.raises(ClientError) as err:
        cloud.upload(key, images.jpeg(64, 64))
    assert err.value.response["Error"]["Code"] == "KeyTooLongError"
    assert cloud.started[before:] == []
    record("Events", "1025-byte key", "S3 refuses the upload (KeyTooLongError); no execution",
           f"{err.value.response['Error']['Code']}; executions {len(cloud.started[before:])}")


def test_encoded_key_finds_the_object_the_event_names(cloud: LocalCloud) -> None:
    """S3 encodes a space as '+'. With both `a b.jpg` and a literal `a+b.jpg` stored, the event
    for `a b.jpg` (key `a+b.jpg`, its ETag) must make thumbnails of `a b.jpg`, not be lost."""
    spaced, literal = images.jpeg(640, 480), images.jpeg(480, 640)
    cloud.upload("enc/a+b.jpg", literal)
    cloud.wait_all()
    arn, event = start_upload(cloud, "enc/a b.jpg", spaced)
    cloud.wait(arn)
    encoded = json.loads(json.dumps(event))
    encoded["detail"]["object"]["key"] = "enc/a+b.jpg"  # as an S3 notification spells it
    encoded["detail"]["object"]["etag"] = etag_of(spaced)
    desc = cloud.wait(cloud.execute(encoded))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    manifest = output(desc)
    assert manifest.get("outcome") != "superseded"
    assert manifest["source"]["key"] == "enc/a b.jpg"
    assert {t["key"] for t in manifest["thumbnails"]} == expected_keys("enc/a b")
    record("Events", "URL-encoded key ('a+b.jpg') while a literal 'a+b.jpg' also exists",
           "the object with the event's ETag ('a b.jpg') gets its thumbnails",
           f"{desc['status']}; source {manifest['source']['key']!r}")


def test_on_demand_render_of_old_bytes_never_replaces_newer_thumbnails(cloud: LocalCloud) -> None:
    """The resizer renders a missing size from the old bytes while the source is overwritten and
    the newer upload's workflow stores that size: the resizer answers 503 try-again and the
    stored thumbnail stays the newer one. The overwrite happens just after the resizer's read of
    the source was answered, before it renders or writes anything."""
    from thumbflow.serve import RESIZER, function_url_event

    key, stem = "odrace/p.jpg", "odrace/p"
    old, new = images.jpeg(300, 200), images.jpeg(320, 240)
    _, desc = run_upload(cloud, key, old)
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    s3 = cloud.client("s3")
    s3.delete_object(Bucket=cloud.deployed.thumbnail_bucket, Key=f"{stem}_256x256.jpg")  # a miss
    newer: list[str] = []

    def overwrite(request: Request) -> None:
        if not newer:
            later, _ = start_upload(cloud, key, new)
            newer.append(later)
            cloud.wait(later)

    event = function_url_event(f"/{stem}_256x256.jpg", "GET", {}, "local")
    with cloud.after_request("s3", "GetObject", overwrite, caller=RESIZER,
                             when=lambda r: r.bucket == cloud.deployed.source_bucket and r.key == key):
        body, error = cloud.invoke(RESIZER, event)
    response = json.loads(body)
    assert error is None and response["statusCode"] == 503, response
    assert newer and cloud.describe(newer[0])["status"] == "SUCCEEDED"
    stored = thumbnails_under(cloud, stem)
    assert set(stored) == expected_keys(stem)
    assert {tags["source-etag"] for _, tags in stored.values()} == {etag_of(new)}
    assert decode_fully(stored[f"{stem}_256x256.jpg"][0]).size == (256, 192)  # from 320x240
    record("Events", "on-demand render of old bytes while the source is overwritten",
           "resizer answers 503 try-again; stored thumbnails all from the new bytes",
           f"{response['statusCode']}; stored from new bytes: "
           f"{ {t['source-etag'] for _, t in stored.values()} == {etag_of(new)} }")
