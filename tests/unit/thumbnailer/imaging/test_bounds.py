"""Header parsing bounded: counts and sizes checked by our walkers before Pillow parses a byte.

Each bomb is refused by a specific, stable slug, from the first read (64 KiB) where that is
enough, in milliseconds; each bound leaves real files alone.
"""

from __future__ import annotations

import struct
import time
import zlib

import pytest
from thumbnailer import imaging
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import HEADER_BYTES, headers, layout, pillow

from tests import images, worstcases
from tests.unit.thumbnailer.imaging.checks import CAP, photo, spec


def refused(data: bytes, *, read: int = HEADER_BYTES) -> tuple[str, str, float]:
    """(reason, detail, CPU seconds) of probing the first ``read`` bytes of ``data``."""
    head = data[:read]
    started = time.process_time()
    with pytest.raises(ImageRejected) as exc:
        imaging.probe(head, total_bytes=len(data), max_pixels=CAP)
    return exc.value.reason, exc.value.detail, time.process_time() - started


@pytest.mark.parametrize(
    ("build", "reason", "read"),
    [
        (lambda: worstcases.jpeg_empty_segments(100_000), "too-many-segments", HEADER_BYTES),
        (lambda: worstcases.tiff_strip_offsets(100_000), "too-many-strips", HEADER_BYTES),
        (lambda: worstcases.png_empty_chunks(20_000), "too-many-chunks", HEADER_BYTES),
        # 2-byte sub-blocks: 32 Ki in the first read, so the second (256 KiB) refuses them
        (lambda: worstcases.gif_comment_subblocks(400_000), "too-many-blocks", 4 * HEADER_BYTES),
    ],
)
def test_bombs_are_refused_from_the_first_reads(build: object, reason: str, read: int) -> None:
    got, detail, seconds = refused(build(), read=read)  # type: ignore[operator]
    assert got == reason and ("more than" in detail or "for an image of" in detail)
    assert seconds < 0.5


def test_stray_bytes_between_gif_blocks_count_too() -> None:
    tiny = images.save(photo(16, 16), "GIF")
    screen = 13 + 3 * (2 << (tiny[10] & 7))
    data = tiny[:screen] + b"\x00" * 100_000 + tiny[screen:]
    assert refused(data, read=len(data))[0] == "too-many-blocks"


def test_a_header_past_the_cap_is_too_large_without_reading_it() -> None:
    data = images.jpeg_segments(images.jpeg(64, 48), [(0xE1, b"Exif\x00\x00" + bytes(65_000))] * 70)
    assert refused(data, read=len(data))[0] == "header-too-large"
    big_png = worstcases.chunk(b"zTXt", bytes(5 << 20))
    tiny = images.save(photo(8, 8), "PNG")
    at = tiny.index(b"IDAT") - 4
    huge = tiny[:at] + big_png + tiny[at:]
    assert refused(huge, read=len(huge))[0] == "header-too-large"


def test_real_headers_stay_within_the_bounds() -> None:
    for data in (
        images.huge_exif_jpeg(),
        images.jpeg_with_secrets(),
        images.png_with_text_and_exif(),
        images.many_frame_gif(),
        images.gif_js_polyglot(),
        images.multipage_tiff(),
    ):
        assert imaging.probe(data, total_bytes=len(data), max_pixels=CAP) is not None


def test_jpeg_layout_says_how_libjpeg_will_buffer() -> None:
    base = headers.jpeg_header(images.save(photo(64, 48), "JPEG", subsampling=2))
    progressive = headers.jpeg_header(images.save(photo(64, 48), "JPEG", subsampling=0, progressive=True))
    grey = headers.jpeg_header(images.save(photo(64, 48).convert("L"), "JPEG", progressive=True))
    assert (base.coefficient_bytes, progressive.coefficient_bytes, grey.coefficient_bytes) == (0.0, 6.0, 2.0)
    assert base.components == 3 and base.segments >= 4


def test_whole_file_bounds_are_checked_before_decoding() -> None:
    jpeg = images.save(photo(64, 48), "JPEG", progressive=True)
    many_scans = jpeg[:-2] + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" * (layout.MAX_SCANS + 1) + jpeg[-2:]
    with pytest.raises(ImageRejected) as exc:
        imaging.render(many_scans, [spec(32)], max_pixels=CAP)
    assert exc.value.reason == "too-many-scans"
    after = worstcases.png_chunks_after_image(headers.MAX_CHUNKS + 10)
    assert imaging.probe(after[:HEADER_BYTES], total_bytes=len(after), max_pixels=CAP) is not None
    started = time.process_time()
    with pytest.raises(ImageRejected) as exc:
        imaging.render(after, [spec(32)], max_pixels=CAP)
    assert exc.value.reason == "too-many-chunks" and time.process_time() - started < 1.0


def test_bmp_layout_marks_rle() -> None:
    lay = layout.read("bmp", layout.Sparse.of(worstcases.bmp_rle8((40, 30))))
    assert (lay.size, lay.rle, lay.depth) == ((40, 30), True, 8)


def test_pillows_unidentified_file_never_shows_an_object_repr() -> None:
    data = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 2) + struct.pack("<HHII", 256, 4, 1, 4)
    data += struct.pack("<HHII", 257, 4, 1, 4) + struct.pack("<I", 0) + bytes(64)
    with pytest.raises(ImageRejected) as exc:
        imaging.probe(data, total_bytes=len(data), max_pixels=CAP)
    assert exc.value.reason == "corrupt" and " at 0x" not in exc.value.detail and "<" not in exc.value.detail
    assert pillow._reason(SyntaxError("cannot identify image file <_io.BytesIO object at 0x7f00>")) == (
        "cannot identify image file the file"
    )


def test_a_png_icc_profile_over_a_mebibyte_is_read() -> None:
    profile = images.SWAPPED_ICC + bytes(3 << 20)  # real printer profiles reach several MB
    data = images.save(photo(64, 48), "PNG", icc_profile=profile)
    assert len(zlib.compress(profile)) < HEADER_BYTES
    facts = imaging.probe(data, total_bytes=len(data), max_pixels=CAP)
    assert facts is not None and facts.mode == "RGB"
    made = imaging.render(data, [spec(32)], max_pixels=CAP)
    assert made[0].width == 32


def test_a_second_png_icc_profile_is_refused_before_it_is_inflated() -> None:
    data = images.save(photo(8, 8), "PNG", icc_profile=images.SWAPPED_ICC)
    at = data.index(b"iCCP") - 4
    (length,) = struct.unpack(">I", data[at : at + 4])
    profile = data[at : at + 12 + length]
    assert refused(data[:at] + profile + data[at:], read=len(data) + len(profile))[:2] == (
        "corrupt",
        "PNG has more than one ICC profile (iCCP chunk)",
    )
