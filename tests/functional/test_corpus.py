"""The input corpus, each case through the whole workflow in local mode.

Every case in ``tests/corpus.py`` is uploaded to the source bucket (with metadata and a
tag), the rule starts the execution, and the test checks the named outcome:

* valid input: SUCCEEDED with one thumbnail per configured size, each decodable, in the
  format 'auto' must pick, at the dimensions the size's fit rule gives, upright, in the
  right colours and frame, and carrying no metadata at all;
* invalid input: FAILED ``ImageRejected`` with the case's reason slug and detail, one
  alert with the same cause and no Python traceback, and no thumbnail;
* always: no error outside the workflow's named ones anywhere in the history or in any
  handler invocation, and the source object's bytes, ETag, metadata and last-modified time
  unchanged (it may only gain tags).
"""

from __future__ import annotations

import io
import json
import re
import struct
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.corpus import CASES, MAX_SOURCE_BYTES, SECRETS, Case, quadrants, save
from tests.functional.conftest import ROOT, TIME_SCALE, output
from tests.reliability import record
from thumbflow.local.cloud import LocalCloud
from thumbflow.local.lambdas import Fault

NAMED_ERRORS = {"ImageRejected", "ImageFlagged", "ThumbnailsFailed"}
# What a handler may raise: the definition's named errors (SourceChanged, TransientError are
# named too, but no corpus case may cause them).
HANDLER_ERRORS = {None, "ImageRejected"}
SOURCE_METADATA = {"uploaded-by": "corpus", "note": "must-stay"}
SOURCE_TAG = ("origin", "corpus")
TRACEBACK = re.compile(r"Traceback|stackTrace|File \"|\.py\b|line \d+, in ")
OBJECT_REPR = re.compile(r"<[^<>]* at 0x[0-9a-f]+>")
COLOUR_TOLERANCE = 45


class Clouds:
    """One local cloud at a time (local mode runs one per process), started when first asked for.

    "corpus" has a small MaxSourceBytes, so 'over the byte cap' costs 1 MiB rather than 50;
    "default" has the template's own limits (50 MiB, 100 MP), for bombs and giants at full
    size. The cases come grouped, so the module switches once or twice.
    """

    def __init__(self) -> None:
        self.kind = ""
        self.cloud: LocalCloud | None = None

    def get(self, kind: str) -> LocalCloud:
        if kind != self.kind or self.cloud is None:
            self.close()
            parameters = {"MaxSourceBytes": str(MAX_SOURCE_BYTES)} if kind in ("corpus", "avif") else {}
            definition = avif_definition() if kind == "avif" else None
            self.cloud = LocalCloud(time_scale=TIME_SCALE, parameters=parameters, definition_path=definition)
            self.cloud.start()
            self.kind = kind
        return self.cloud

    def close(self) -> None:
        if self.cloud is not None:
            self.cloud.stop()
            self.cloud = None


def avif_definition() -> Path:
    """The real definition with every Configure size's format set to avif (what an operator edits)."""
    definition = json.loads((ROOT / "statemachine" / "thumbnails.asl.json").read_text())
    for size in definition["States"]["Configure"]["Parameters"]["config"]["sizes"]:
        size["format"] = "avif"
    path = Path(tempfile.mkdtemp(prefix="corpus-avif-")) / "avif.asl.json"
    path.write_text(json.dumps(definition))
    return path


@pytest.fixture(scope="module")
def clouds() -> Iterator[Clouds]:
    held = Clouds()
    try:
        yield held
    finally:
        held.close()


@pytest.fixture
def corpus_cloud(clouds: Clouds) -> LocalCloud:
    return clouds.get("corpus")


# --------------------------------------------------------------------------------------
# expectations


def configured_sizes(cloud: LocalCloud) -> list[dict[str, Any]]:
    return cloud.deployed.definition["States"]["Configure"]["Parameters"]["config"]["sizes"]


def expected_dimensions(src: tuple[int, int], spec: dict[str, Any]) -> tuple[int, int]:
    """The README's fit rules: inside never upscales; cover centre-crops to the box's aspect
    ratio and, when the source is smaller than the box, stays at source scale."""
    dw, dh = src
    bw, bh = spec["width"], spec["height"]
    if spec["fit"] == "inside":
        if dw <= bw and dh <= bh:
            return dw, dh
        s = min(bw / dw, bh / dh)
        return min(bw, max(1, round(dw * s))), min(bh, max(1, round(dh * s)))
    cw, ch = (dh * bw / bh, dh) if dw * bh > dh * bw else (dw, dw * bh / bw)
    if cw >= bw:
        return bw, bh
    return max(1, min(dw, round(cw))), max(1, min(dh, round(ch)))


def metadata_in(body: bytes, fmt: str) -> list[str]:
    """Every metadata carrier found by walking the container, plus any planted secret."""
    found: list[str] = []
    if fmt == "jpeg":
        i = 2
        while i + 4 <= len(body) and body[i] == 0xFF:
            marker = body[i + 1]
            if marker == 0xDA:
                break
            (length,) = struct.unpack(">H", body[i + 2 : i + 4])
            if marker == 0xE0 and body[i + 4 : i + 9] == b"JFIF\x00":
                pass
            elif 0xE0 <= marker <= 0xEF:
                found.append(f"APP{marker - 0xE0}")
            elif marker == 0xFE:
                found.append("COM")
            i += 2 + length
    elif fmt == "png":
        i = 8
        while i + 8 <= len(body):
            (length,) = struct.unpack(">I", body[i : i + 4])
            kind = body[i + 4 : i + 8].decode("latin-1")
            if kind not in ("IHDR", "PLTE", "tRNS", "IDAT", "IEND"):
                found.append(kind)
            i += 12 + length
    elif fmt == "webp":
        i = 12
        while i + 8 <= len(body):
            kind = body[i : i + 4].decode("latin-1")
            (length,) = struct.unpack("<I", body[i + 4 : i + 8])
            if kind not in ("VP8 ", "VP8L", "VP8X", "ALPH"):
                found.append(kind.strip())
            i += 8 + length + (length & 1)
    elif fmt == "avif":
        header = body[: body.find(b"mdat")] if b"mdat" in body else body
        found += [kind.decode() for kind in (b"Exif", b"mime", b"xml ") if kind in header]  # item types
    found += [s.decode() for s in SECRETS if s in body]
    return found


def near(got: Any, want: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= COLOUR_TOLERANCE for a, b in zip(got, want, strict=True))


def check_looks(im: Image.Image, looks: tuple[tuple[int, int, int], ...], label: str) -> None:
    """Quadrant colours at the quadrant centres: upright, unmirrored, right frame, sRGB."""
    if im.width < 8 or im.height < 8:
        return
    rgb = im.convert("RGB")
    w, h = rgb.size
    points = [(w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4)]
    got = [rgb.getpixel(p) for p in points]
    assert all(near(g, want) for g, want in zip(got, looks, strict=True)), (label, got, looks)


# --------------------------------------------------------------------------------------
# the run


def upload(cloud: LocalCloud, key: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """PutObject with metadata and a tag; returns the execution the rule started and HEAD."""
    s3 = cloud.client("s3")
    before = len(cloud.started)
    s3.put_object(
        Bucket=cloud.deployed.source_bucket,
        Key=key,
        Body=body,
        ContentType="application/octet-stream",
        Metadata=SOURCE_METADATA,
        Tagging="=".join(SOURCE_TAG),
    )
    head = s3.head_object(Bucket=cloud.deployed.source_bucket, Key=key)
    started = [arn for arn, ev in cloud.started[before:] if ev["detail"]["object"]["key"] == key]
    assert len(started) == 1, f"expected one execution for {key}, got {started}"
    return started[0], head


def assert_source_unchanged(cloud: LocalCloud, case: Case, body: bytes, head: dict[str, Any]) -> None:
    s3 = cloud.client("s3")
    bucket = cloud.deployed.source_bucket
    obj = s3.get_object(Bucket=bucket, Key=case.key)
    assert obj["Body"].read() == body
    for field in ("ETag", "ContentLength", "ContentType", "Metadata", "LastModified"):
        assert obj[field] == head[field], field
    assert obj["Metadata"] == SOURCE_METADATA
    versions = s3.list_object_versions(Bucket=bucket, Prefix=case.key).get("Versions", [])
    assert len([v for v in versions if v["Key"] == case.key]) == 1, "source was rewritten"
    tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=bucket, Key=case.key)["TagSet"]}
    assert tags.get(SOURCE_TAG[0]) == SOURCE_TAG[1], "the source may only gain tags"


def assert_only_named_errors(cloud: LocalCloud, arn: str, since: int) -> None:
    """No handler raised anything unnamed; no history event carries another error; the
    execution's own cause has no traceback."""
    invocations = cloud.lambdas.invocations[since:]
    assert invocations, "no handler ran"
    assert {i.error for i in invocations} <= HANDLER_ERRORS, [i.error for i in invocations]
    for event in cloud.history(arn):
        for details in event.values():
            if isinstance(details, dict) and "error" in details:
                assert details["error"] in NAMED_ERRORS, (event["type"], details)
        if event["type"] == "ExecutionFailed":  # task events carry Lambda's stackTrace, as in
            details = event["executionFailedEventDetails"]  # AWS; the outcome must not
            assert details["error"] in NAMED_ERRORS
            assert not TRACEBACK.search(details.get("cause", "")), details


def alerts_for(cloud: LocalCloud, arn: str, since: int) -> list[Any]:
    return [a for a in cloud.alerts()[since:] if a.body.get("execution") == arn]


def check_rejected(cloud: LocalCloud, case: Case, arn: str, desc: dict[str, Any], alerts: list[Any]) -> str:
    assert desc["status"] == "FAILED", (desc["status"], output(desc))
    assert desc["error"] == "ImageRejected", (desc["error"], desc.get("cause"))
    cause = desc["cause"]
    assert cause == case.reject or cause.startswith(f"{case.reject}: "), cause
    assert case.detail in cause, (case.detail, cause)
    assert not TRACEBACK.search(cause) and not OBJECT_REPR.search(cause), cause
    assert len(alerts) == 1, f"expected one alert, got {len(alerts)}"
    alert = alerts[0]
    assert alert.body["error"] == "ImageRejected"
    assert alert.body["cause"] == cause
    assert alert.body["key"] == case.key
    assert alert.body["rerunInput"] == {"bucket": cloud.deployed.source_bucket, "key": case.key}
    assert alert.subject.isascii() and case.key not in alert.subject
    assert not TRACEBACK.search(alert.message), alert.message
    stem = case.key.rsplit(".", 1)[0]
    made = [k for k in cloud.objects(cloud.deployed.thumbnail_bucket) if k.startswith(stem + "_")]
    assert made == [], made
    return f"ImageRejected: {cause}"


def check_thumbnails(cloud: LocalCloud, case: Case, desc: dict[str, Any], alerts: list[Any]) -> str:
    assert desc["status"] == "SUCCEEDED", (desc.get("error"), desc.get("cause"))
    assert alerts == []
    out = output(desc)
    assert out["outcome"] == "thumbnails"
    assert (out["source"]["width"], out["source"]["height"]) == case.size
    sizes = configured_sizes(cloud)
    thumbs = {t["size"]: t for t in out["thumbnails"]}
    assert sorted(thumbs) == sorted(f"{s['width']}x{s['height']}" for s in sizes)
    s3 = cloud.client("s3")
    stem = case.key.rsplit(".", 1)[0]
    ext = {"jpeg": "jpg", "webp": "webp", "png": "png", "avif": "avif"}[case.fmt]
    dims = []
    for spec in sizes:
        label = f"{spec['width']}x{spec['height']}"
        thumb = thumbs[label]
        assert thumb["key"] == f"{stem}_{label}.{ext}"
        obj = s3.get_object(Bucket=cloud.deployed.thumbnail_bucket, Key=thumb["key"])
        body = obj["Body"].read()
        assert obj["ContentType"] == f"image/{case.fmt}"
        im = Image.open(io.BytesIO(body))
        im.load()  # decodable, all of it
        assert im.format.lower() == case.fmt == thumb["format"], (label, im.format)
        want = expected_dimensions(case.size, spec)
        assert im.size == want == (thumb["width"], thumb["height"]), (label, im.size, want)
        assert thumb["bytes"] == len(body)
        assert not getattr(im, "is_animated", False) and getattr(im, "n_frames", 1) == 1
        assert metadata_in(body, case.fmt) == [], (label, metadata_in(body, case.fmt))
        assert not {"exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"} & set(im.info)
        assert len(im.getexif()) == 0
        if case.alpha:
            assert im.mode == "RGBA" and im.getchannel("A").getextrema()[0] == 0, im.mode
        else:
            assert im.mode in ("L", "RGB"), im.mode
        if case.looks is not None:
            check_looks(im, case.looks, label)
        if case.check is not None and spec["fit"] == "inside" and min(im.size) >= 8:
            case.check(im)
        dims.append(f"{im.width}x{im.height}")
    extra = f", {case.note}" if case.note else ""
    return f"{len(dims)} {case.fmt} thumbnails {' '.join(dims)}, no metadata{extra}"


def expected_text(cloud: LocalCloud, case: Case) -> str:
    if case.reject:
        return f"ImageRejected: {case.reject}" + (f" ({case.detail})" if case.detail else "")
    dims = [expected_dimensions(case.size, s) for s in configured_sizes(cloud)]
    extra = f", {case.note}" if case.note else ""
    if case.fits_resize:
        extra += ", Resize under its MemorySize"
    return f"{len(dims)} {case.fmt} thumbnails {' '.join(f'{w}x{h}' for w, h in dims)}, no metadata{extra}"


def every_frame_seconds(body: bytes) -> float:
    """What walking every frame of ``body`` costs here, now: the yardstick for 'bounded'."""
    started = time.perf_counter()
    im = Image.open(io.BytesIO(body))
    for n in range(im.n_frames):
        im.seek(n)
        im.load()
    return time.perf_counter() - started


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_corpus_case(clouds: Clouds, case: Case) -> None:
    cloud = clouds.get(case.cloud)
    body = case.build()
    since_invocations = len(cloud.lambdas.invocations)
    since_alerts = len(cloud.alerts())

    arn, head = upload(cloud, case.key, body)
    desc = cloud.wait(arn)

    alerts = alerts_for(cloud, arn, since_alerts)
    if case.reject:
        observed = check_rejected(cloud, case, arn, desc, alerts)
    else:
        observed = check_thumbnails(cloud, case, desc, alerts)
    assert_only_named_errors(cloud, arn, since_invocations)
    assert_source_unchanged(cloud, case, body, head)
    if case.many_frames:
        render = [
            i.seconds for i in cloud.lambdas.invocations[since_invocations:] if i.function == "ResizeFunction"
        ]
        assert len(render) == 1
        assert render[0] < every_frame_seconds(body) / 3, render
    if case.fits_resize:
        (resize,) = [
            i for i in cloud.lambdas.invocations[since_invocations:] if i.function == "ResizeFunction"
        ]
        assert resize.error is None and 0 < resize.peak_rss_mb < resize.memory_mb, resize
        observed += ", Resize under its MemorySize"
    if case.cloud == "default":
        validate = [
            i for i in cloud.lambdas.invocations[since_invocations:] if i.function == "ValidateFunction"
        ]
        assert validate and all(i.peak_rss_mb < i.memory_mb and i.error is None for i in validate), validate
    record("Input corpus", case.name, expected_text(cloud, case), observed)


def test_corpus_is_big_enough_and_covers_the_issue() -> None:
    names = {c.name for c in CASES}
    assert len(CASES) >= 40 and len(names) == len(CASES)
    required = {
        "zero-byte",
        "truncated-jpeg",
        "truncated-png",
        "text-named-jpg",
        "html-named-png",
        "pdf-named-jpg",
        "svg-named-png",
        "decompression-bomb-png",
        "header-claims-huge-jpeg",
        "over-max-source-bytes",
        "1x1-jpeg",
        "10000x10",
        "10x10000",
        "cmyk-jpeg-no-profile",
        "ycck-jpeg",
        "png-16-bit-grey",
        "png-grey-alpha",
        "png-palette-transparency",
        "animated-gif",
        "animated-webp",
        "icc-channel-swapping-profile",
        "progressive-jpeg",
        "multi-page-tiff",
        "jpeg-gps-xmp-comment-iptc",
        "png-named-jpg",
        *(f"exif-orientation-{n}" for n in range(1, 9)),
    }
    assert required <= names, required - names
    assert any(n.startswith("polyglot-") for n in names)


@pytest.mark.parametrize("function", ["ValidateFunction", "ResizeFunction"])
def test_unexpected_handler_error_leaks_no_traceback_into_alerts(
    corpus_cloud: LocalCloud, function: str
) -> None:
    """A bug in a handler (an unnamed Python exception) ends as a named error whose alert
    and cause name the exception but carry no traceback, file path or line number."""
    cloud = corpus_cloud
    key = f"corpus/handler-bug-{function}.jpg"
    since_alerts = len(cloud.alerts())
    with cloud.injecting(Fault(function, ZeroDivisionError("division by zero (injected bug)"))):
        arn, _ = upload(cloud, key, save(quadrants(64, 48), "JPEG"))
        desc = cloud.wait(arn)
    assert desc["status"] == "FAILED" and desc["error"] == "ThumbnailsFailed", desc
    assert "ZeroDivisionError" in desc["cause"]
    assert not TRACEBACK.search(desc["cause"]), desc["cause"]
    (alert,) = alerts_for(cloud, arn, since_alerts)
    assert alert.body["error"] == "ThumbnailsFailed"
    leaked = TRACEBACK.search(alert.message)
    assert not leaked, alert.message
    seen = f"with traceback: {leaked.group()}" if leaked else "without traceback"
    record(
        "Input corpus",
        f"unexpected exception in {function}",
        "ThumbnailsFailed, alert without traceback",
        f"{alert.body['error']}, alert {seen}",
    )
