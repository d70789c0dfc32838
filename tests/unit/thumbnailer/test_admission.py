"""Validate's core: find the object at the event's bytes, judge it from bounded header reads."""

from __future__ import annotations

import struct
from dataclasses import replace

import pytest
from thumbnailer import admission, storage
from thumbnailer.errors import ImageRejected, SourceChanged
from thumbnailer.records import PinnedSource, RenderGroup, SourceRef
from thumbnailer.settings import Settings
from thumbnailer.spec import SizeSpec

from tests import images
from tests.unit.conftest import S3Stub

SETTINGS = Settings("src", "thumbs", 50 * 1024 * 1024, 100_000_000)
KEY = "up/photo.jpg"


def info(size: int, etag: str = "e1") -> storage.ObjectInfo:
    return storage.ObjectInfo("src", KEY, etag, size)


def serve(s3: S3Stub, data: bytes, *ends: int) -> None:
    """Answer the header reads the code must make, in order: bytes 0..end-1 each."""
    for end in ends:
        s3.get("src", KEY, data[:end], etag="e1", IfMatch='"e1"', Range=f"bytes=0-{end - 1}")


# ----------------------------------------------------------------------------- locate


def test_locate_finds_the_object_at_the_events_bytes(s3: S3Stub) -> None:
    s3.source("src", KEY, b"0123456789", etag="e1", size=10, version="v1", VersionId="v1")
    found = admission.locate(SourceRef("src", KEY, etag="e1", version="v1"), SETTINGS)
    assert (found.etag, found.size, found.version) == ("e1", 10, "v1")
    assert found.prefix == b"0123456789"  # the header's first read, made by the same request


def test_another_bucket_is_refused_before_any_request(s3: S3Stub) -> None:
    with pytest.raises(ImageRejected) as caught:
        admission.locate(SourceRef("elsewhere", KEY), SETTINGS)
    assert caught.value.reason == "wrong-bucket"
    assert s3.calls == []


def test_a_missing_object_is_rejected(s3: S3Stub) -> None:
    s3.no_source()
    with pytest.raises(ImageRejected) as caught:
        admission.locate(SourceRef("src", KEY), SETTINGS)
    assert caught.value.reason == "missing"


def test_newer_bytes_under_the_key_are_source_changed(s3: S3Stub) -> None:
    s3.source("src", KEY, b"x" * 10, etag="newer")
    with pytest.raises(SourceChanged, match="newer"):
        admission.locate(SourceRef("src", KEY, etag="e1"), SETTINGS)


def test_without_an_etag_whatever_is_there_is_the_source(s3: S3Stub) -> None:
    s3.source("src", KEY, b"x" * 10, etag="any")
    assert admission.locate(SourceRef("src", KEY), SETTINGS).etag == "any"


# ----------------------------------------------------------------------------- judge


def test_a_small_image_is_judged_from_one_read_of_all_of_it(s3: S3Stub) -> None:
    data = images.jpeg(640, 480)
    serve(s3, data, len(data))
    assert admission.judge(info(len(data)), SETTINGS) == PinnedSource(
        "src", KEY, "e1", None, len(data), "jpeg", 640, 480
    )


def test_a_large_image_is_judged_from_its_first_64_kib(s3: S3Stub) -> None:
    data = images.jpeg(640, 480) + bytes(200_000)  # trailing bytes after EOI are never read
    serve(s3, data, 64 * 1024)
    assert admission.judge(info(len(data)), SETTINGS).width == 640


def test_displayed_size_follows_the_exif_orientation(s3: S3Stub) -> None:
    data = images.jpeg(300, 100, orientation=6)
    serve(s3, data, len(data))
    judged = admission.judge(info(len(data)), SETTINGS)
    assert (judged.width, judged.height) == (100, 300)


def test_a_header_past_the_first_read_widens_it_up_to_the_whole_object(s3: S3Stub) -> None:
    data = images.huge_exif_jpeg()  # frame header ~240 KB in
    serve(s3, data, 64 * 1024, len(data))
    assert admission.judge(info(len(data)), SETTINGS).format == "jpeg"


def test_a_header_that_never_ends_is_refused_at_the_cap(s3: S3Stub) -> None:
    filler = [(0xEF, bytes(65_000))] * 70  # 4.5 MB of APP15 before the frame header
    data = images.jpeg_segments(images.jpeg(64, 48), filler)
    assert len(data) > admission.MAX_HEADER_BYTES
    serve(s3, data, 64 * 1024, 256 * 1024, 1024 * 1024, admission.MAX_HEADER_BYTES)
    with pytest.raises(ImageRejected) as caught:
        admission.judge(info(len(data)), SETTINGS)
    assert caught.value.reason == "header-too-large"


def test_an_object_that_ends_inside_its_header_is_truncated(s3: S3Stub) -> None:
    data = images.huge_exif_jpeg()[:100_000]
    serve(s3, data, 64 * 1024, len(data))
    with pytest.raises(ImageRejected) as caught:
        admission.judge(info(len(data)), SETTINGS)
    assert caught.value.reason == "truncated"


@pytest.mark.parametrize(
    ("size", "reason"), [(0, "empty"), (SETTINGS.max_source_bytes + 1, "too-many-bytes")]
)
def test_size_alone_rejects_without_reading(s3: S3Stub, size: int, reason: str) -> None:
    with pytest.raises(ImageRejected) as caught:
        admission.judge(info(size), SETTINGS)
    assert caught.value.reason == reason
    assert s3.calls == []


def test_the_pixel_cap_is_read_from_the_header(s3: S3Stub) -> None:
    data = images.png_claiming(20_000, 20_000)
    serve(s3, data, len(data))
    with pytest.raises(ImageRejected) as caught:
        admission.judge(info(len(data)), SETTINGS)
    assert caught.value.reason == "too-many-pixels"


def test_the_format_comes_from_the_bytes_not_the_name(s3: S3Stub) -> None:
    serve(s3, images.SVG, len(images.SVG))
    with pytest.raises(ImageRejected) as caught:
        admission.judge(info(len(images.SVG)), SETTINGS)
    assert caught.value.reason == "svg"


def test_a_source_replaced_between_head_and_read_is_source_changed(s3: S3Stub) -> None:
    s3.error("get_object", "PreconditionFailed", 412)
    with pytest.raises(SourceChanged):
        admission.judge(info(1000), SETTINGS)


# ----------------------------------------------------------------------------- moderatable


def test_moderatable_means_jpeg_or_png_within_rekognitions_byte_limit() -> None:
    source = PinnedSource("src", KEY, "e", None, admission.MODERATION_MAX_BYTES, "jpeg", 1, 1)
    assert admission.moderatable(source)
    assert admission.moderatable(replace(source, format="png"))
    assert not admission.moderatable(replace(source, bytes=admission.MODERATION_MAX_BYTES + 1))
    assert not admission.moderatable(replace(source, format="webp"))
    assert not admission.moderatable(replace(source, format="gif", bytes=10))


# ----------------------------------------------------------------------------- cost and pointers


def test_a_directory_at_the_end_of_a_tiff_is_read_there_not_by_reading_everything(s3: S3Stub) -> None:
    data = images.save(images.photo(1500, 1000), "TIFF", compression="tiff_lzw")
    (ifd,) = struct.unpack("<I", data[4:8])
    assert ifd > 64 * 1024 and len(data) - ifd < 64 * 1024  # past the first read, in one window
    serve(s3, data, 64 * 1024)
    s3.get("src", KEY, data[ifd:], etag="e1", IfMatch='"e1"', Range=f"bytes={ifd}-{len(data) - 1}")
    judged = admission.judge(info(len(data)), SETTINGS)
    assert (judged.format, judged.width, judged.height) == ("tiff", 1500, 1000)


def group(*sizes: SizeSpec) -> RenderGroup:
    return RenderGroup(tuple(sizes))


DEFAULT_GROUP = group(
    SizeSpec(128, 128, "cover"), SizeSpec(256, 256), SizeSpec(512, 512), SizeSpec(1024, 1024)
)


def test_what_would_not_fit_the_render_function_is_too_costly(s3: S3Stub) -> None:
    data = images.save(images.photo(640, 480), "JPEG", progressive=True, subsampling=0)
    serve(s3, data, len(data))
    tight = replace(SETTINGS, render_memory_mb=128, render_function="ResizeFunction")
    with pytest.raises(ImageRejected) as caught:
        admission.judge(info(len(data)), tight, [DEFAULT_GROUP])
    assert caught.value.reason == "too-costly"
    assert "MB to render" in caught.value.detail and "ResizeFunction has 128 MB" in caught.value.detail


def test_each_render_group_is_judged_and_no_groups_means_no_cost_check(s3: S3Stub) -> None:
    data = images.jpeg(640, 480)
    serve(s3, data, len(data), len(data))
    assert admission.judge(info(len(data)), SETTINGS, [DEFAULT_GROUP, group(SizeSpec(64, 64))]).width == 640
    tight = replace(SETTINGS, render_memory_mb=64)
    assert admission.judge(info(len(data)), tight).width == 640  # a caller that renders nothing


def test_render_limits_come_from_the_settings() -> None:
    limits = admission.render_limits(
        replace(SETTINGS, render_memory_mb=2048, render_timeout_s=30, render_function="OnDemandFunction")
    )
    assert (limits.memory_mb, limits.timeout_s, limits.function) == (2048, 30, "OnDemandFunction")
