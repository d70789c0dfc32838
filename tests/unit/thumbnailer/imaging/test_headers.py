"""headers: stored size and frames from header bytes, checked against files Pillow wrote."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from PIL import Image
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import containers, headers, tiff
from thumbnailer.imaging.headers import NeedMore, check_pixels
from thumbnailer.imaging.layout import stored_size

from tests import images
from tests.unit.thumbnailer.imaging.checks import photo


@pytest.mark.parametrize(
    ("fmt", "pil", "options"),
    [
        ("jpeg", "JPEG", {}),
        ("jpeg", "JPEG", {"progressive": True}),
        ("png", "PNG", {}),
        ("gif", "GIF", {}),
        ("bmp", "BMP", {}),
        ("tiff", "TIFF", {}),
        ("tiff", "TIFF", {"compression": "tiff_lzw"}),
        ("webp", "WEBP", {}),  # VP8
        ("webp", "WEBP", {"lossless": True}),  # VP8L
        ("webp", "WEBP", {"exif": images.exif_bytes(orientation=3)}),  # VP8X
        ("avif", "AVIF", {}),
    ],
)
def test_stored_size_matches_what_pillow_wrote(fmt: str, pil: str, options: dict[str, object]) -> None:
    for size in ((77, 41), (41, 77), (1, 1)):
        data = images.save(photo(*size), pil, **options)
        assert stored_size(fmt, data) == size, (fmt, size)


@pytest.mark.parametrize(
    ("fmt", "build", "cut"),
    [
        ("jpeg", lambda: images.jpeg_with_big_exif(photo(64, 48)), 1000),
        ("png", lambda: images.save(photo(64, 48), "PNG"), 20),
        ("gif", lambda: images.save(photo(64, 48), "GIF"), 8),
        ("bmp", lambda: images.save(photo(64, 48), "BMP"), 20),
        ("tiff", lambda: images.tiff_claiming(64, 48), 80),
        ("webp", lambda: images.save(photo(64, 48), "WEBP"), 20),
        ("avif", lambda: images.save(photo(64, 48), "AVIF"), 40),
    ],
)
def test_a_header_cut_short_asks_for_more(fmt: str, build: Callable[[], bytes], cut: int) -> None:
    data = build()
    assert stored_size(fmt, data) == (64, 48)
    with pytest.raises(NeedMore):
        stored_size(fmt, data[:cut])


def test_jpeg_size_is_the_frame_header_even_when_it_lies() -> None:
    assert headers.jpeg_size(images.jpeg_claiming(65_000, 60_000)) == (65_000, 60_000)
    assert headers.jpeg_size(images.huge_exif_jpeg()) == (320, 480)  # SOF past 240 KB; stored size


@pytest.mark.parametrize(
    ("data", "reason", "detail"),
    [
        (images.jpeg_without_frame(), "corrupt", "no frame header"),
        (b"\xff\xd8\xff\xe0\x00\x01JFIF" + bytes(40), "corrupt", "length 1"),
        (b"\xff\xd8\xff\xf7\x00\x0b\x08\x00\x10\x00\x10\x01\x01\x11\x00", "unsupported-format", "jpeg-ls"),
    ],
)
def test_jpeg_size_refuses_what_libjpeg_would(data: bytes, reason: str, detail: str) -> None:
    with pytest.raises(ImageRejected) as exc:
        headers.jpeg_size(data)
    assert (exc.value.reason, detail in exc.value.detail) == (reason, True)


def test_png_must_start_with_ihdr() -> None:
    data = b"\x89PNG\r\n\x1a\n" + images.png_chunk(b"IDAT", b"x" * 20)
    with pytest.raises(ImageRejected) as exc:
        headers.png_size(data)
    assert exc.value.reason == "corrupt"
    assert headers.png_size(images.png_claiming(100_000, 7)) == (100_000, 7)


def test_bmp_top_down_core_and_negative_width() -> None:
    bottom_up = images.save(photo(30, 20), "BMP")
    top_down = bottom_up[:22] + struct.pack("<i", -20) + bottom_up[26:]
    assert headers.bmp_size(top_down) == (30, 20)
    core = b"BM" + bytes(12) + struct.pack("<IHHHH", 12, 30, 20, 1, 24)
    assert headers.bmp_size(core) == (30, 20)
    with pytest.raises(ImageRejected) as exc:
        headers.bmp_size(bottom_up[:18] + struct.pack("<i", -30) + bottom_up[22:])
    assert exc.value.reason == "corrupt"
    assert headers.bmp_size(images.bmp32_alpha()) == (300, 200)


def test_tiff_pages_and_first_page_size() -> None:
    assert tiff.tiff_ifds(images.multipage_tiff()) == ((400, 300), 3)
    assert tiff.tiff_ifds(images.tiff_claiming(4_000_000_000, 1_000_000)) == (
        (4_000_000_000, 1_000_000),
        1,
    )
    assert tiff.tiff_ifds(images.save(photo(50, 40), "TIFF", big_tiff=True)) == ((50, 40), 1)
    bad = images.tiff_claiming(10, 10)
    with pytest.raises(ImageRejected) as exc:
        tiff.tiff_ifds(bad[:4] + struct.pack("<I", 4) + bad[8:])
    assert "points into the header" in exc.value.detail


def test_gif_size_is_the_logical_screen_and_frames_a_lower_bound() -> None:
    assert headers.gif_size(images.gif_screen_bomb()) == (65535, 65535)
    assert headers.gif_frames(images.animated("GIF", frames=3)) == 3
    assert headers.gif_frames(images.save(photo(20, 10), "GIF")) == 1
    many = images.many_frame_gif()
    assert headers.gif_frames(many) == 3000
    assert 1 <= headers.gif_frames(many[:4096]) < 3000  # only the bytes we have


def test_webp_header_modes_frames_and_exif() -> None:
    rgba = containers.webp_header(images.rgba_webp_lossless())
    assert (rgba.size, rgba.mode, rgba.frames) == ((300, 200), "RGBA", 1)
    lossy = containers.webp_header(images.save(photo(30, 20), "WEBP"))
    assert (lossy.size, lossy.mode, lossy.exif) == ((30, 20), "RGB", None)
    assert containers.webp_header(images.animated("WEBP", frames=4)).frames == 4

    tagged = images.save(photo(60, 20), "WEBP", exif=images.exif_bytes(orientation=8))
    parsed = containers.webp_header(tagged)
    assert parsed.exif is not None
    exif = Image.Exif()
    exif.load(parsed.exif)
    assert (exif[0x0112], parsed.exif_missing) == (8, False)
    # The EXIF chunk comes after the pixels: a first read that stops before it says so.
    at = tagged.index(b"EXIF")
    cut = containers.webp_header(tagged[:at])
    assert (cut.exif, cut.exif_missing) == (None, True)


def test_webp_claims_and_bad_first_chunks() -> None:
    assert containers.webp_header(images.webp_claiming(16384, 16384)).size == (16384, 16384)
    with pytest.raises(ImageRejected) as exc:
        containers.webp_header(b"RIFF\x00\x10\x00\x00WEBPVP8Z" + bytes(40))
    assert exc.value.reason == "corrupt"


def test_avif_size_is_the_largest_image_extent() -> None:
    data = images.save(photo(90, 60), "AVIF")
    assert containers.avif_size(data) == (90, 60)
    meta = data.index(b"meta") - 4
    (length,) = struct.unpack(">I", data[meta : meta + 4])
    no_ispe = data.replace(b"ispe", b"xxxx")
    with pytest.raises(ImageRejected) as exc:
        containers.avif_size(no_ispe[: meta + length])
    assert "no image size" in exc.value.detail


@pytest.mark.parametrize(
    ("size", "cap", "reason"),
    [
        ((0, 10), 100, "zero-dimensions"),
        ((10, -1), 100, "zero-dimensions"),
        ((11, 10), 100, "too-many-pixels"),
        ((10, 10), 100, None),  # the cap is inclusive
    ],
)
def test_check_pixels(size: tuple[int, int], cap: int, reason: str | None) -> None:
    if reason is None:
        check_pixels(size, cap)
        return
    with pytest.raises(ImageRejected) as exc:
        check_pixels(size, cap)
    assert exc.value.reason == reason
    assert f"{size[0]}x{size[1]}" in exc.value.detail
