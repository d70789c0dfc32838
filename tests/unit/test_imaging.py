"""Tests for the image engine, on real bytes that Pillow makes here in memory.

Every source image is photo-like (gradient, shapes, seeded noise) rather than flat, so
encoders, resamplers and colour conversions do real work and bugs show up as numbers.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import subprocess
import sys
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageChops, ImageCms, ImageDraw, ImageFile, ImageStat, features
from thumbnailer import imaging
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import HEADER_BYTES, ImageFacts, Rendition, probe, render, sniff
from thumbnailer.spec import SizeSpec

from tests.corpus import matrix_icc, secret_exif

CAP = 50_000_000
REPO = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------------------
# helpers


def noise(size: tuple[int, int], seed: int, amplitude: int = 24) -> Image.Image:
    """Seeded grey noise centred on 128 (Pillow's effect_noise is not seedable)."""
    rnd = random.Random(seed)
    raw = bytes(
        128 - amplitude // 2 + b % (amplitude + 1) for b in rnd.randbytes(size[0] * size[1])
    )
    return Image.frombytes("L", size, raw)


def photo(width: int = 320, height: int = 240, seed: int = 1) -> Image.Image:
    """A small synthetic landscape: sky gradient, sun, hills and a little noise."""
    gradient = Image.linear_gradient("L").resize((width, height))
    sky = Image.merge(
        "RGB",
        (
            gradient.point(lambda v: 70 + v // 3),
            gradient.point(lambda v: 120 + v // 4),
            Image.new("L", (width, height), 225),
        ),
    )
    draw = ImageDraw.Draw(sky)
    draw.ellipse(
        (width * 0.7, height * 0.1, width * 0.85, height * 0.1 + width * 0.15),
        fill=(250, 215, 110),
    )
    rnd = random.Random(seed)
    for layer in range(3):
        step = max(1, width // 8)
        ridge = [
            (x, height * (0.55 + 0.1 * layer) + rnd.uniform(-0.06, 0.06) * height)
            for x in range(0, width + step, step)
        ]
        draw.polygon(
            [(0, height), *ridge, (width, height)], fill=(50 + 30 * layer, 115 - 25 * layer, 45)
        )
    grain = Image.merge("RGB", [noise((width, height), seed + i) for i in range(3)])
    return Image.blend(sky, grain, 0.1)


def encode(img: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **options)
    return buf.getvalue()


def decode(rendition: Rendition) -> Image.Image:
    img = Image.open(io.BytesIO(rendition.body))
    img.load()
    return img


def mean(img: Image.Image, box: tuple[int, int, int, int] | None = None) -> list[float]:
    return ImageStat.Stat(img.crop(box) if box else img).mean


def close(a: list[float], b: list[float] | tuple[float, ...], tol: float) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int, crc_ok: bool = True) -> bytes:
    """A tiny PNG whose IHDR claims any size; the single IDAT holds a few bytes only."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if not crc_ok:
        ihdr = ihdr[:-4] + bytes(4)
    idat = png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + png_chunk(b"IEND", b"")


def patch_jpeg_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the SOF0 frame header of a baseline JPEG to claim another size."""
    at = data.index(b"\xff\xc0")
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


ADOBE_LIKE_ICC = matrix_icc(
    "Adobe-like wide gamut RGB (test)",
    [(0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446)],
    563 / 256,
)


def with_hole(img: Image.Image) -> Image.Image:
    """RGBA copy whose left half is fully transparent."""
    alpha = Image.new("L", img.size, 255)
    ImageDraw.Draw(alpha).rectangle((0, 0, img.width // 2 - 1, img.height), fill=0)
    rgba = img.convert("RGBA")
    rgba.putalpha(alpha)
    return rgba


def spec(
    w: int, h: int | None = None, fit: str = "inside", fmt: str = "auto", q: int = 80
) -> SizeSpec:
    return SizeSpec(w, w if h is None else h, fit, fmt, q)


# --------------------------------------------------------------------------------------
# sniff


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("JPEG", {}),
        ("PNG", {}),
        ("GIF", {}),
        ("WEBP", {}),
        ("WEBP", {"lossless": True}),
        ("TIFF", {}),
        ("TIFF", {"compression": "tiff_deflate"}),
        ("BMP", {}),
    ],
)
def test_sniff_names_each_supported_format(fmt: str, options: dict[str, object]) -> None:
    data = encode(photo(64, 48), fmt, **options)
    assert sniff(data) == fmt.lower()
    assert sniff(data[:64]) == fmt.lower()  # magic bytes only


def test_sniff_avif_when_pillow_reads_it() -> None:
    if features.check("avif"):
        assert sniff(encode(photo(64, 48), "AVIF")) == "avif"
    else:  # this Pillow cannot read AVIF: then the brand must be refused by name
        data = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64)
        with pytest.raises(ImageRejected) as exc:
            sniff(data)
        assert exc.value.reason == "unsupported-format"


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"<!doctype html><html><body><svg><circle r='4'/></svg></body></html>", "html"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><!-- <html> --></svg>", "svg"),
        (b"BMW 320d, photos to follow\n", "text"),  # "BM" alone does not make a bitmap
        (b"GIF89 is not quite a GIF header\n", "text"),
    ],
)
def test_sniff_judges_by_structure_not_by_words_inside(head: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as exc:
        sniff(head)
    assert exc.value.reason == reason


@pytest.mark.parametrize(
    ("head", "reason", "detail"),
    [
        (b"", "empty", ""),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10"><rect/></svg>', "svg", ""),
        (
            b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- by hand -->\n'
            b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg></svg>',
            "svg",
            "",
        ),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "pdf", ""),
        (b"<!DOCTYPE html>\n<html><head><title>404</title></head></html>", "html", ""),
        (b"  <html>\n<body>Not Found</body></html>", "html", ""),
        (b"hello, this is just a note about a photo \xe2\x98\x83\n", "text", ""),
        (b'{"error": "AccessDenied"}\n', "text", ""),
        (b'<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>', "text", ""),
        (
            b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(40),
            "unsupported-format",
            "heic",
        ),
        (b"8BPS\x00\x01" + bytes(60), "unsupported-format", "psd"),
        (b"\x00\x00\x01\x00\x01\x00\x10\x10" + bytes(60), "unsupported-format", "ico"),
        (b"P6\n64 48\n255\n" + bytes(range(256)) * 4, "unsupported-format", "pnm"),
        (bytes(random.Random(7).randbytes(4096)), "not-an-image", ""),
        (b"PK\x03\x04\x14\x00" + bytes(100), "not-an-image", "zip"),
    ],
)
def test_sniff_rejections_have_specific_reasons(head: bytes, reason: str, detail: str) -> None:
    with pytest.raises(ImageRejected) as exc:
        sniff(head)
    assert exc.value.reason == reason
    assert detail in exc.value.detail


# --------------------------------------------------------------------------------------
# probe


def jpeg_with_big_exif(img: Image.Image, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.ImageDescription] = "x" * 20_000  # pushes SOF well past the first bytes
    return encode(img, "JPEG", quality=85, exif=exif.tobytes())


def test_probe_returns_none_until_header_is_complete_then_facts() -> None:
    data = jpeg_with_big_exif(photo(400, 300), orientation=6)
    assert probe(data[:1000], total_bytes=len(data), max_pixels=CAP) is None
    assert probe(data[:10], total_bytes=len(data), max_pixels=CAP) is None
    facts = probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP)
    assert facts == ImageFacts("jpeg", 300, 400, "RGB", 6, 1)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: encode(photo(50, 40), "PNG"), ("png", 50, 40, "RGB", 1)),
        (lambda: encode(photo(50, 40).convert("RGBA"), "PNG"), ("png", 50, 40, "RGBA", 1)),
        (lambda: encode(photo(50, 40).convert("CMYK"), "JPEG"), ("jpeg", 50, 40, "CMYK", 1)),
        (lambda: encode(photo(50, 40).convert("L"), "JPEG"), ("jpeg", 50, 40, "L", 1)),
        (lambda: encode(photo(50, 40), "GIF"), ("gif", 50, 40, "P", 1)),
        (lambda: encode(photo(50, 40), "BMP"), ("bmp", 50, 40, "RGB", 1)),
        (lambda: encode(photo(50, 40), "TIFF"), ("tiff", 50, 40, "RGB", 1)),
        (lambda: encode(photo(50, 40), "WEBP"), ("webp", 50, 40, "RGB", 1)),
        (
            lambda: encode(with_hole(photo(50, 40)), "WEBP", lossless=True),
            ("webp", 50, 40, "RGBA", 1),
        ),
        (lambda: encode(sixteen_bit(50, 40), "PNG"), ("png", 50, 40, "I;16", 1)),
    ],
)
def test_probe_facts_per_format(make: Callable[[], bytes], expected: tuple[object, ...]) -> None:
    data = make()
    facts = probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP)
    assert facts is not None
    assert (facts.format, facts.width, facts.height, facts.mode, facts.frames) == expected


def test_probe_counts_frames_from_headers() -> None:
    frames = [photo(40, 30, seed) for seed in range(3)]
    apng = encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:])
    webp = encode(frames[0], "WEBP", save_all=True, append_images=frames[1:])
    tiff = encode(frames[0], "TIFF", save_all=True, append_images=frames[1:])
    for data in (apng, gif, webp, tiff):
        facts = probe(data, total_bytes=len(data), max_pixels=CAP)
        assert facts is not None and facts.frames == 3, (data[:4], facts)


def test_probe_swaps_dimensions_for_rotated_exif_in_webp() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8
    data = encode(photo(60, 20), "WEBP", exif=exif.tobytes())
    facts = probe(data, total_bytes=len(data), max_pixels=CAP)
    assert facts is not None and (facts.width, facts.height, facts.orientation) == (20, 60, 8)


def test_probe_tiny_png_claiming_huge_size_is_too_many_pixels() -> None:
    data = png_claiming(100_000, 100_000)
    assert len(data) < 200
    with pytest.raises(ImageRejected) as exc:
        probe(data, total_bytes=len(data), max_pixels=CAP)
    assert exc.value.reason == "too-many-pixels"
    with pytest.raises(ImageRejected) as exc:
        render(data, [spec(100)], max_pixels=CAP)
    assert exc.value.reason == "too-many-pixels"


def test_probe_jpeg_sof_claiming_huge_size_is_too_many_pixels() -> None:
    data = patch_jpeg_size(encode(photo(64, 48), "JPEG"), 60_000, 60_000)
    with pytest.raises(ImageRejected) as exc:
        probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP)
    assert exc.value.reason == "too-many-pixels"
    with pytest.raises(ImageRejected) as exc:
        render(data, [spec(100)], max_pixels=CAP)
    assert exc.value.reason == "too-many-pixels"


def test_probe_uses_our_cap_not_pillows_and_emits_no_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    filters = list(warnings.filters)
    data = png_claiming(12_000, 12_000)  # 144 MP: over Pillow's default cap, under ours
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        facts = probe(data, total_bytes=len(data), max_pixels=200_000_000)
        renditions = render(encode(photo(64, 48), "PNG"), [spec(32)], max_pixels=CAP)
    assert facts is not None and (facts.width, facts.height) == (12_000, 12_000)
    assert renditions[0].width == 32
    assert caught == []
    assert Image.MAX_IMAGE_PIXELS == 1000
    assert warnings.filters == filters


def test_probe_zero_dimensions() -> None:
    data = png_claiming(0, 10)
    with pytest.raises(ImageRejected) as exc:
        probe(data, total_bytes=len(data), max_pixels=CAP)
    assert exc.value.reason == "zero-dimensions"


def test_probe_truncated_when_whole_object_holds_no_complete_header() -> None:
    data = jpeg_with_big_exif(photo(64, 48))[:5000]
    with pytest.raises(ImageRejected) as exc:
        probe(data, total_bytes=len(data), max_pixels=CAP)
    assert exc.value.reason == "truncated"


@pytest.mark.parametrize(
    "data",
    [
        png_claiming(64, 48, crc_ok=False),
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IDAT", b"x" * 20),
        b"\xff\xd8\xff\xe0\x00\x01JFIF" + bytes(40),
    ],
)
def test_probe_corrupt_header(data: bytes) -> None:
    with pytest.raises(ImageRejected) as exc:
        probe(data, total_bytes=len(data), max_pixels=CAP)
    assert exc.value.reason == "corrupt"


def test_probe_never_decodes_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("probe decoded pixels")

    sources = {
        fmt: encode(photo(80, 60), fmt) for fmt in ("JPEG", "PNG", "GIF", "TIFF", "BMP", "WEBP")
    }
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(Image, "_getdecoder", refuse)
    for data in sources.values():
        facts = probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP)
        assert facts is not None and (facts.width, facts.height) == (80, 60)


# --------------------------------------------------------------------------------------
# render: geometry


@pytest.mark.parametrize(
    ("source", "box", "fit", "expected"),
    [
        ((640, 480), (200, 200), "inside", (200, 150)),
        ((640, 480), (100, 1000), "inside", (100, 75)),
        ((640, 480), (1000, 1000), "inside", (640, 480)),  # never upscale
        ((640, 480), (640, 480), "inside", (640, 480)),
        ((640, 480), (200, 200), "cover", (200, 200)),
        ((640, 480), (300, 100), "cover", (300, 100)),
        ((640, 480), (100, 300), "cover", (100, 300)),
        ((640, 480), (1000, 1000), "cover", (480, 480)),  # box aspect at source scale
        ((640, 480), (2000, 500), "cover", (640, 160)),
        ((640, 480), (400, 600), "cover", (320, 480)),
        ((10_000, 10), (128, 128), "inside", (128, 1)),
        ((10, 10_000), (128, 128), "inside", (1, 128)),
        ((10_000, 10), (128, 128), "cover", (10, 10)),
        ((10_000, 10), (1, 1), "cover", (1, 1)),
    ],
)
def test_render_dimensions(
    source: tuple[int, int], box: tuple[int, int], fit: str, expected: tuple[int, int]
) -> None:
    data = encode(photo(*source), "PNG")
    (out,) = render(data, [spec(box[0], box[1], fit, "png")], max_pixels=CAP)
    assert (out.width, out.height) == expected
    assert decode(out).size == expected


def test_render_cover_crops_the_centre() -> None:
    img = photo(300, 100)
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 99, 99), fill=(255, 0, 0))
    draw.rectangle((100, 0, 199, 99), fill=(0, 200, 0))
    draw.rectangle((200, 0, 299, 99), fill=(0, 0, 255))
    (out,) = render(encode(img, "PNG"), [spec(50, 50, "cover", "png")], max_pixels=CAP)
    assert close(mean(decode(out)), (0, 200, 0), 3)


@pytest.mark.parametrize(
    ("fmt", "mode", "content_type", "extension"),
    [
        ("jpeg", "RGB", "image/jpeg", "jpg"),
        ("png", "RGB", "image/png", "png"),
        ("webp", "RGB", "image/webp", "webp"),
        ("auto", "RGB", "image/jpeg", "jpg"),
    ],
)
def test_render_formats(fmt: str, mode: str, content_type: str, extension: str) -> None:
    source = photo(400, 300)
    (out,) = render(encode(source, "PNG"), [spec(200, 200, "inside", fmt)], max_pixels=CAP)
    img = decode(out)
    assert img.format.lower() == out.format == content_type.split("/")[1]
    assert (out.content_type, out.extension, img.mode) == (content_type, extension, mode)
    assert close(mean(img), mean(source), 4)


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_render_quality_is_honoured(fmt: str) -> None:
    data = encode(photo(600, 400), "PNG")
    low, high = render(
        data, [spec(300, 300, "inside", fmt, 30), spec(300, 300, "inside", fmt, 95)], max_pixels=CAP
    )
    assert len(low.body) * 1.5 < len(high.body)
    reference = photo(600, 400).resize((300, 200), Image.Resampling.LANCZOS)
    err_low = mean(ImageChops.difference(decode(low), reference).convert("L"))[0]
    err_high = mean(ImageChops.difference(decode(high), reference).convert("L"))[0]
    assert err_high < err_low


def test_render_output_order_follows_specs() -> None:
    specs = [spec(64), spec(300, 100, "cover", "png"), spec(128, fmt="webp"), spec(256)]
    out = render(encode(photo(800, 600), "JPEG"), specs, max_pixels=CAP)
    assert [r.spec for r in out] == specs
    assert [(r.width, r.height) for r in out] == [(64, 48), (300, 100), (128, 96), (256, 192)]
    assert [r.format for r in out] == ["jpeg", "png", "webp", "jpeg"]


def test_render_empty_spec_list() -> None:
    assert render(encode(photo(64, 48), "JPEG"), [], max_pixels=CAP) == []


# --------------------------------------------------------------------------------------
# render: orientation

_TO_DISPLAY = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_INVERSE = {
    Image.Transpose.ROTATE_270: Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_90: Image.Transpose.ROTATE_270,
}


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(
    "source_format", ["JPEG", "PNG", "WEBP", "TIFF"] + (["AVIF"] if features.check("avif") else [])
)
def test_render_applies_every_exif_orientation(orientation: int, source_format: str) -> None:
    # What the viewer must see: 240x160, red top-left corner, blue bottom-right corner.
    shown = photo(240, 160)
    ImageDraw.Draw(shown).rectangle((0, 0, 59, 39), fill=(255, 0, 0))
    ImageDraw.Draw(shown).rectangle((180, 120, 239, 159), fill=(0, 0, 255))
    op = _TO_DISPLAY[orientation]
    stored = shown if op is None else shown.transpose(_INVERSE.get(op, op))
    assert (stored if op is None else stored.transpose(op)).tobytes() == shown.tobytes()
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    data = encode(stored, source_format, exif=exif.tobytes())

    facts = probe(data, total_bytes=len(data), max_pixels=CAP)
    assert facts is not None and (facts.width, facts.height, facts.orientation) == (
        240,
        160,
        orientation,
    )
    full, half = render(
        data, [spec(500, 500, fmt="png"), spec(120, 120, fmt="png")], max_pixels=CAP
    )
    assert (full.width, full.height, half.width, half.height) == (240, 160, 120, 80)
    for out, k in ((full, 1), (half, 2)):
        img = decode(out).convert("RGB")
        assert close(mean(img, (0, 0, 50 // k, 30 // k)), (255, 0, 0), 30)
        assert close(mean(img, (190 // k, 130 // k, 240 // k, 160 // k)), (0, 0, 255), 30)


# --------------------------------------------------------------------------------------
# render: modes and colour


def sixteen_bit(width: int, height: int) -> Image.Image:
    """16-bit grey: a horizontal ramp over the full 0..65535 range plus a little noise."""
    rnd = random.Random(3)
    values = [
        min(65535, max(0, x * 65535 // (width - 1) + rnd.randint(-300, 300)))
        for _ in range(height)
        for x in range(width)
    ]
    return Image.frombytes("I;16", (width, height), struct.pack(f"<{len(values)}H", *values))


def test_render_16_bit_png_is_scaled_not_clipped() -> None:
    src = sixteen_bit(256, 64)
    data = encode(src, "PNG")
    assert Image.open(io.BytesIO(data)).mode == "I;16"
    jpeg, png = render(data, [spec(128, fmt="jpeg"), spec(128, fmt="png")], max_pixels=CAP)
    for out in (jpeg, png):
        img = decode(out)
        assert img.mode == "L"
        assert 110 < mean(img)[0] < 145  # a white clip would be ~255
        assert mean(img, (0, 0, 10, 32))[0] < 30
        assert mean(img, (118, 0, 128, 32))[0] > 225


@pytest.mark.parametrize("mode", ["I", "F"])
def test_render_wide_grey_modes_are_scaled(mode: str) -> None:
    src = sixteen_bit(200, 50).convert(mode)
    (out,) = render(encode(src, "TIFF"), [spec(100, fmt="png")], max_pixels=CAP)
    img = decode(out)
    assert img.mode == "L" and 100 < mean(img)[0] < 155
    assert mean(img, (0, 0, 8, 25))[0] < 30 and mean(img, (92, 0, 100, 25))[0] > 225


def test_render_cmyk_jpeg_colours() -> None:
    src = photo(300, 200)
    ImageDraw.Draw(src).rectangle((0, 0, 149, 199), fill=(200, 60, 40))
    data = encode(src.convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    (out,) = render(data, [spec(150, fmt="jpeg")], max_pixels=CAP)
    img = decode(out)
    assert img.mode == "RGB"
    assert close(mean(img, (5, 5, 70, 95)), (200, 60, 40), 8)
    assert close(mean(img), mean(src), 8)


@pytest.mark.parametrize("mode", ["1", "L"])
def test_render_grey_stays_grey(mode: str) -> None:
    src = photo(200, 150).convert(mode)
    jpeg, webp = render(
        encode(src, "PNG"), [spec(100, fmt="jpeg"), spec(100, fmt="webp")], max_pixels=CAP
    )
    assert decode(jpeg).mode == "L"
    r, g, b = decode(webp).convert("RGB").split()
    assert ImageChops.difference(r, g).getextrema()[1] <= 2
    assert ImageChops.difference(g, b).getextrema()[1] <= 2
    assert close(mean(decode(jpeg)), mean(src.convert("L")), 10)


def palette_with_hole() -> Image.Image:
    """P image whose left half uses palette entry 63, the only transparent one."""
    img = photo(200, 150).quantize(63)
    palette = img.getpalette() or []
    img.putpalette([*palette[: 63 * 3], 255, 0, 255])  # hidden magenta
    ImageDraw.Draw(img).rectangle((0, 0, 99, 149), fill=63)
    img.info["transparency"] = 63
    return img


@pytest.mark.parametrize("source_format", ["PNG", "GIF"])
def test_render_palette_transparency_goes_to_webp_with_alpha(source_format: str) -> None:
    data = encode(palette_with_hole(), source_format)
    assert Image.open(io.BytesIO(data)).mode == "P"
    auto, png, jpeg = render(
        data, [spec(100), spec(100, fmt="png"), spec(100, fmt="jpeg")], max_pixels=CAP
    )
    assert (auto.format, auto.content_type) == ("webp", "image/webp")
    for out in (auto, png):
        img = decode(out)
        assert img.mode == "RGBA"
        assert mean(img.getchannel("A"), (0, 0, 40, 75))[0] < 2
        assert mean(img.getchannel("A"), (60, 0, 100, 75))[0] > 253
    flat = decode(jpeg)
    assert flat.mode == "RGB" and close(mean(flat, (0, 0, 40, 75)), (255, 255, 255), 3)
    opaque = photo(200, 150).resize((100, 75), Image.Resampling.LANCZOS)
    assert close(mean(flat, (60, 0, 100, 75)), mean(opaque, (60, 0, 100, 75)), 12)


def test_render_opaque_rgba_goes_to_jpeg() -> None:
    data = encode(photo(200, 150).convert("RGBA"), "PNG")
    (out,) = render(data, [spec(100)], max_pixels=CAP)
    assert out.format == "jpeg" and decode(out).mode == "RGB"


def test_render_la_keeps_alpha_where_format_allows() -> None:
    src = photo(200, 150).convert("L")
    alpha = Image.new("L", src.size, 255)
    ImageDraw.Draw(alpha).rectangle((100, 0, 199, 149), fill=0)
    data = encode(Image.merge("LA", (src, alpha)), "PNG")
    png, webp, jpeg = render(
        data, [spec(100, fmt="png"), spec(100, fmt="webp"), spec(100, fmt="jpeg")], max_pixels=CAP
    )
    assert decode(png).mode == "LA" and decode(webp).mode == "RGBA"
    assert mean(decode(webp).getchannel("A"), (60, 0, 100, 75))[0] < 2
    assert decode(jpeg).mode == "L" and mean(decode(jpeg), (60, 0, 100, 75))[0] > 250
    grey = src.resize((100, 75), Image.Resampling.LANCZOS)
    assert abs(mean(decode(jpeg), (0, 0, 40, 75))[0] - mean(grey, (0, 0, 40, 75))[0]) < 5


def test_render_srgb_profile_is_left_alone_and_dropped() -> None:
    src = photo(200, 150)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    (out,) = render(encode(src, "PNG", icc_profile=srgb), [spec(200, fmt="png")], max_pixels=CAP)
    img = decode(out)
    assert "icc_profile" not in img.info
    assert ImageChops.difference(img, src).getextrema() == ((0, 0), (0, 0), (0, 0))


def test_render_converts_wide_gamut_profile_to_srgb() -> None:
    wide = ImageCms.ImageCmsProfile(io.BytesIO(ADOBE_LIKE_ICC))  # lcms must accept our bytes
    assert "Adobe-like" in ImageCms.getProfileDescription(wide)
    src = photo(200, 150)
    ImageDraw.Draw(src).rectangle((0, 0, 99, 149), fill=(60, 180, 60))
    expected = ImageCms.profileToProfile(src, wide, ImageCms.createProfile("sRGB"))
    assert expected is not None
    patch = (10, 10, 90, 140)
    assert not close(mean(expected, patch), (60, 180, 60), 10)  # the conversion matters

    for source_format in ("PNG", "JPEG"):  # iCCP chunk and APP2 segments
        data = encode(
            src,
            source_format,
            icc_profile=ADOBE_LIKE_ICC,
            **({"quality": 95} if source_format == "JPEG" else {}),
        )
        (out,) = render(data, [spec(200, fmt="png")], max_pixels=CAP)
        img = decode(out)
        assert "icc_profile" not in img.info
        assert close(mean(img, patch), mean(expected, patch), 3)

    # With alpha: colours converted, transparency untouched (the right half is see-through).
    rgba = with_hole(src.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    data = encode(rgba, "PNG", icc_profile=ADOBE_LIKE_ICC)
    (out,) = render(data, [spec(200, fmt="png")], max_pixels=CAP)
    img = decode(out)
    assert img.mode == "RGBA" and img.getchannel("A").getextrema() == (0, 255)
    flipped = (200 - patch[2], patch[1], 200 - patch[0], patch[3])
    assert close(mean(img.convert("RGB"), flipped), mean(expected, patch), 3)


# --------------------------------------------------------------------------------------
# render: metadata, determinism, frames


def test_render_strips_all_metadata() -> None:
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
        b'syntax-ns#"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        b' xmp:Label="secret"/>'
        b"</rdf:RDF></x:xmpmeta>"
    )
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    src = photo(300, 200)
    data = encode(
        src, "JPEG", exif=secret_exif(), xmp=xmp, comment=b"secret-comment", icc_profile=icc
    )
    source = Image.open(io.BytesIO(data))
    assert {"exif", "xmp", "comment", "icc_profile"} <= set(source.info)

    outs = render(data, [spec(150, fmt=f) for f in ("jpeg", "png", "webp")], max_pixels=CAP)
    for out in outs:
        img = Image.open(io.BytesIO(out.body))
        assert not {"exif", "xmp", "comment", "icc_profile", "XML:com.adobe.xmp"} & set(img.info)
        assert len(img.getexif()) == 0
        for needle in (
            b"secret",
            b"SecretCam",
            b"Exif",
            b"http://ns.adobe.com/xap",
            b"iCCP",
            b"ICCP",
        ):
            assert needle not in out.body, (out.format, needle)


def test_render_is_deterministic_within_and_across_processes() -> None:
    data = encode(palette_with_hole().convert("RGBA"), "PNG")
    specs = [spec(120, fmt=f, q=75) for f in ("jpeg", "png", "webp")] + [spec(90, 60, "cover")]
    first = [r.body for r in render(data, specs, max_pixels=CAP)]
    assert first == [r.body for r in render(data, specs, max_pixels=CAP)]

    script = (
        "import sys, hashlib\n"
        "from thumbnailer.imaging import render\n"
        "from thumbnailer.spec import SizeSpec\n"
        "specs = [SizeSpec(*s) for s in eval(sys.argv[1])]\n"
        "data = sys.stdin.buffer.read()\n"
        "outs = render(data, specs, max_pixels=10**8)\n"
        "print(' '.join(hashlib.sha256(r.body).hexdigest() for r in outs))\n"
    )
    args = repr([(s.width, s.height, s.fit, s.format, s.quality) for s in specs])
    env_path = str(REPO / "functions")
    result = subprocess.run(
        [sys.executable, "-c", script, args],
        input=data,
        capture_output=True,
        check=True,
        env={"PYTHONPATH": env_path},
    )
    assert result.stdout.decode().split() == [hashlib.sha256(b).hexdigest() for b in first]


def test_render_animated_gif_uses_first_frame() -> None:
    colours = [(220, 30, 30), (30, 220, 30), (30, 30, 220)]
    frames = [Image.blend(Image.new("RGB", (120, 80), c), photo(120, 80), 0.15) for c in colours]
    for fmt in ("GIF", "WEBP", "TIFF", "PNG"):
        data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
        (out,) = render(data, [spec(60, fmt="png")], max_pixels=CAP)
        assert close(mean(decode(out).convert("RGB")), mean(frames[0]), 12), fmt


# --------------------------------------------------------------------------------------
# render: single decode, draft, derivation


class DecodeSpy:
    """Counts Image.open calls and decoder instances, and records the size each load decodes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opens = 0
        self.decoders = 0
        self.loaded: list[tuple[int, int]] = []
        real_open, real_decoder, real_load = Image.open, Image._getdecoder, ImageFile.ImageFile.load

        def spy_open(*args: object, **kwargs: object) -> Image.Image:
            self.opens += 1
            return real_open(*args, **kwargs)  # type: ignore[arg-type]

        def spy_decoder(*args: object, **kwargs: object) -> object:
            self.decoders += 1
            return real_decoder(*args, **kwargs)  # type: ignore[arg-type]

        def spy_load(im: ImageFile.ImageFile) -> object:
            if im.tile:
                self.loaded.append(im.size)
            return real_load(im)

        monkeypatch.setattr(Image, "open", spy_open)
        monkeypatch.setattr(Image, "_getdecoder", spy_decoder)
        monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)


def test_render_decodes_once_for_all_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(photo(2400, 1600), "JPEG", quality=90)
    spy = DecodeSpy(monkeypatch)
    out = render(
        data, [spec(s) for s in (64, 128, 256)] + [spec(100, 100, "cover")], max_pixels=CAP
    )
    assert len(out) == 4
    assert (spy.opens, spy.decoders) == (1, 1)
    # Draft: the largest output is 256 wide, so a 1/4 DCT decode (600x400) keeps a >2x gap.
    assert spy.loaded == [(600, 400)]


def test_render_draft_accounts_for_rotation_and_cover(monkeypatch: pytest.MonkeyPatch) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = encode(photo(2400, 800), "JPEG", exif=exif.tobytes())
    spy = DecodeSpy(monkeypatch)
    # Displayed 800x2400; covering 300x300 needs 300 px across the 800-px side: 1/1 decode.
    (out,) = render(data, [spec(300, 300, "cover")], max_pixels=CAP)
    assert (out.width, out.height) == (300, 300)
    assert spy.loaded == [(2400, 800)]
    spy.loaded.clear()
    (out,) = render(data, [spec(100, 100, "cover")], max_pixels=CAP)  # 800/100 = 8 -> 1/4
    assert spy.loaded == [(600, 200)]


def test_render_derives_smaller_sizes_from_larger_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(photo(2400, 1800), "JPEG", quality=90)
    calls: list[tuple[tuple[int, int], tuple[int, int]]] = []
    real_resize = Image.Image.resize

    def spy_resize(self: Image.Image, size: tuple[int, int], *args: object, **kw: object) -> object:
        calls.append((self.size, tuple(size)))
        return real_resize(self, size, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "resize", spy_resize)
    out = render(data, [spec(s) for s in (64, 512, 128, 256)], max_pixels=CAP)
    assert [(r.width, r.height) for r in out] == [(64, 48), (512, 384), (128, 96), (256, 192)]
    # 1/2 DCT decode (1200x900: >= 2x the 512 output), then each size from the one above.
    assert calls == [
        ((1200, 900), (512, 384)),
        ((512, 384), (256, 192)),
        ((256, 192), (128, 96)),
        ((128, 96), (64, 48)),
    ]


def test_render_chained_sizes_match_direct_resizes() -> None:
    data = encode(photo(1600, 1200), "JPEG", quality=92)
    sizes = [spec(s, fmt="png") for s in (1024, 512, 256, 128)]
    chained = render(data, sizes, max_pixels=CAP)
    for i, single in enumerate(sizes):
        (direct,) = render(data, [single], max_pixels=CAP)
        assert (direct.width, direct.height) == (chained[i].width, chained[i].height)
        diff = ImageChops.difference(decode(direct), decode(chained[i])).convert("L")
        assert mean(diff)[0] < 2.0, single


def test_render_pixel_cap_is_checked_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(photo(400, 300), "PNG")
    spy = DecodeSpy(monkeypatch)
    with pytest.raises(ImageRejected) as exc:
        render(data, [spec(100)], max_pixels=400 * 300 - 1)
    assert exc.value.reason == "too-many-pixels"
    assert spy.decoders == 0


def test_render_gif_frame_larger_than_screen_is_capped() -> None:
    data = bytearray(encode(photo(300, 200), "GIF"))
    data[6:10] = struct.pack("<HH", 10, 10)  # logical screen says 10x10, the frame is 300x200
    with pytest.raises(ImageRejected) as exc:
        render(bytes(data), [spec(50)], max_pixels=1000)
    assert exc.value.reason == "too-many-pixels"


# --------------------------------------------------------------------------------------
# render: bad input


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP"])
@pytest.mark.parametrize("keep", [0.3, 0.97])
def test_render_truncated(fmt: str, keep: float) -> None:
    data = encode(photo(300, 200), fmt)
    with pytest.raises(ImageRejected) as exc:
        render(data[: int(len(data) * keep)], [spec(100)], max_pixels=CAP)
    assert exc.value.reason == "truncated"


def test_render_corrupt_scan_data() -> None:
    data = bytearray(encode(photo(300, 200), "PNG"))
    at = data.index(b"IDAT") + 40
    data[at : at + 400] = bytes(random.Random(5).randbytes(400))
    with pytest.raises(ImageRejected) as exc:
        render(bytes(data), [spec(100)], max_pixels=CAP)
    assert exc.value.reason == "corrupt"


def junk_after(prefix: bytes, seed: int) -> bytes:
    return prefix + random.Random(seed).randbytes(3000)


@pytest.mark.parametrize(
    "data",
    [
        junk_after(b"\xff\xd8\xff", 1),
        junk_after(b"\xff\xd8\xff\xdb\x00\x43", 2),
        junk_after(b"\x89PNG\r\n\x1a\n", 3),
        junk_after(b"GIF89a", 4),
        junk_after(b"RIFF\x00\x10\x00\x00WEBPVP8 ", 5),
        junk_after(b"RIFF\x00\x10\x00\x00WEBPVP8X", 6),
        junk_after(b"II*\x00", 7),
        junk_after(b"MM\x00*", 8),
        junk_after(b"BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", 9),
        patch_jpeg_size(encode(photo(64, 48), "JPEG"), 0, 48),
    ],
)
def test_bad_input_only_raises_image_rejected(data: bytes) -> None:
    bad = {"truncated", "corrupt", "too-many-pixels", "zero-dimensions"}
    with pytest.raises(ImageRejected) as exc:
        render(data, [spec(100)], max_pixels=CAP)
    assert exc.value.reason in bad
    try:  # probe may accept a plausible header, but must not fail any other way
        probe(data, total_bytes=len(data), max_pixels=CAP)
    except ImageRejected as rejected:
        assert rejected.reason in bad


# --------------------------------------------------------------------------------------
# samples


def test_samples_are_small_photos_that_render() -> None:
    expected = {
        "landscape.jpg": ("jpeg", 1600, 1067, 1),
        "logo-alpha.png": ("png", 800, 800, 1),
        "portrait-exif-rotated.jpg": ("jpeg", 900, 1200, 6),
    }
    for name, (fmt, width, height, orientation) in expected.items():
        data = (REPO / "samples" / name).read_bytes()
        assert len(data) < 120 * 1024, name
        facts = probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP)
        assert facts is not None
        assert (facts.format, facts.width, facts.height, facts.orientation) == (
            fmt,
            width,
            height,
            orientation,
        )
        (out,) = render(data, [spec(256)], max_pixels=CAP)
        img = decode(out).convert("RGB")
        assert max(hi - lo for lo, hi in img.getextrema()) > 100, name  # not flat colour
    portrait = decode(
        render(
            (REPO / "samples" / "portrait-exif-rotated.jpg").read_bytes(),
            [spec(300, fmt="png")],
            max_pixels=CAP,
        )[0]
    )
    top, bottom = mean(portrait, (0, 0, 225, 60)), mean(portrait, (0, 240, 225, 300))
    assert top[2] > bottom[2] + 40  # blue sky shows at the displayed top


def test_module_is_the_only_pil_user_and_has_no_aws_imports() -> None:
    source = Path(imaging.__file__).read_text()
    assert "boto3" not in source and "logging" not in source
    others = [p for p in (REPO / "functions").rglob("*.py") if p.name != "imaging.py"]
    assert all("PIL" not in p.read_text() for p in others)


def mutations(data: bytes, seed: int, count: int) -> list[bytes]:
    """Seeded byte flips, overwritten runs and cuts: the shapes real corruption takes."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        b = bytearray(data)
        kind = rnd.randrange(3)
        if kind == 0:
            for _ in range(rnd.randint(1, 8)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif kind == 1:
            at, n = rnd.randrange(len(b)), rnd.randint(1, 64)
            b[at : at + n] = rnd.randbytes(n)
        else:
            del b[rnd.randrange(1, len(b)) :]
        out.append(bytes(b))
    return out


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("PNG", {}),
        ("GIF", {}),
        ("WEBP", {}),
        ("TIFF", {"compression": "tiff_deflate"}),
        ("BMP", {}),
    ],
)
def test_mangled_files_only_ever_raise_image_rejected(fmt: str, options: dict[str, object]) -> None:
    data = encode(photo(120, 90), fmt, **options)
    outcomes = set()
    for mangled in mutations(data, seed=len(data), count=25):
        try:
            render(mangled, [spec(64), spec(32, 32, "cover", "png")], max_pixels=CAP)
            outcomes.add("ok")
        except ImageRejected as exc:
            outcomes.add(exc.reason)
        try:
            probe(mangled[:4096], total_bytes=len(mangled), max_pixels=CAP)
        except ImageRejected as exc:
            outcomes.add(exc.reason)
    known = {"ok", "truncated", "corrupt", "too-many-pixels", "zero-dimensions", "not-an-image"}
    assert outcomes <= known | {"unsupported-format", "text"}  # a hit magic number re-sniffs
    assert "truncated" in outcomes
