"""The costliest inputs within the default limits (50 MiB, 100 MP), built in memory when asked.

Two kinds, for the corpus (tests/corpus.py) and the worst-case table (bench/worstcase.py):

* the largest valid image of each format and pixel layout (``GIANTS``): what rendering the
  default sizes costs at the caps, rendered or refused by name (``too-costly``);
* header bombs (``BOMBS``): a few pixels behind millions of segments, chunks, sub-blocks or
  strip offsets, or a few KB of RLE claiming 99 MP, each of which used to cost Validate or
  Resize more memory or time than the function has.

Pixels are smooth gradients with some texture (``canvas``): big enough to be real images,
compressible enough to fit 100 MP into 50 MiB, made with Pillow's C operations in seconds.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw

MIB = 1024 * 1024
MAX_BYTES = 50 * MIB
MAX_PIXELS = 100_000_000
WIDE = (12_500, 8_000)  # 100 MP exactly, the cap (which is inclusive)
WEBP_MAX = (16_383, 6_103)  # WebP's widest side times what stays within 100 MP


def save(im: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def canvas(size: tuple[int, int], texture: int = 0) -> Image.Image:
    """RGB gradients (and, with ``texture``, tiled noise of that strength): never flat."""
    width, height = size
    ramp = Image.linear_gradient("L")
    red = ramp.rotate(90).resize(size, Image.Resampling.BILINEAR)
    green = ramp.resize(size, Image.Resampling.BILINEAR)
    if texture:
        noise = Image.effect_noise((1024, 1024), texture)
        tiled = Image.new("L", size)
        for y in range(0, height, 1024):
            for x in range(0, width, 1024):
                tiled.paste(noise, (x, y))
        red = ImageChops.add(red, tiled, 2, -64)
    return Image.merge("RGB", (red, green, ImageChops.invert(red)))


def alpha(size: tuple[int, int]) -> Image.Image:
    """A mask with a fully transparent hole and a ramp of partial alpha around it."""
    mask = Image.radial_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return mask.point(lambda v: 0 if v < 40 else min(255, v * 2))


def grey(size: tuple[int, int]) -> Image.Image:
    return canvas(size).getchannel(0)


def png16(size: tuple[int, int], channels: int) -> bytes:
    """A 16-bit grey (1), grey+alpha (2), RGB (3) or RGBA (4) PNG, which Pillow cannot save."""
    width, height = size
    image = {
        1: lambda: grey(size),
        2: lambda: Image.merge("LA", (grey(size), alpha(size))),
        3: lambda: canvas(size),
        4: lambda: rgba(size),
    }[channels]()
    narrow = image.tobytes()
    wide = bytearray(2 * len(narrow))
    wide[0::2], wide[1::2] = narrow, narrow  # v -> v * 257, big-endian
    row = width * 2 * channels
    body = b"".join(b"\x00" + wide[y * row : (y + 1) * row] for y in range(height))
    return _png(size, 16, {1: 0, 2: 4, 3: 2, 4: 6}[channels], zlib.compress(body, 1))


def _png(size: tuple[int, int], depth: int, colour_type: int, idat: bytes, extra: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", *size, depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def rgba(size: tuple[int, int]) -> Image.Image:
    im = canvas(size).convert("RGBA")
    im.putalpha(alpha(size))
    return im


def palette(size: tuple[int, int], transparent: bool) -> Image.Image:
    im = grey(size).convert("P")
    im.putpalette([v for i in range(256) for v in (i, 255 - i, (i * 7) % 256)])
    if transparent:
        ImageDraw.Draw(im).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=0)
    return im


def bmp_rle8(size: tuple[int, int], runs: bytes | None = None) -> bytes:
    """An 8-bit RLE BMP: each row two runs of a colour (or ``runs``, the whole stream, as given)."""
    width, height = size
    if runs is None:
        half = width // 2
        row = b"".join(
            bytes([min(255, n), c]) for n, c in _split_run(half, 10) + _split_run(width - half, 200)
        )
        runs = (row + b"\x00\x00") * height + b"\x00\x01"
    pal = b"".join(bytes([i, i, i, 0]) for i in range(256))
    dib = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(runs), 2835, 2835, 256, 0)
    offset = 14 + 40 + len(pal)
    return b"BM" + struct.pack("<IHHI", offset + len(runs), 0, 0, offset) + dib + pal + runs


def _split_run(n: int, colour: int) -> list[tuple[int, int]]:
    return [(min(255, n - at), colour) for at in range(0, n, 255)]


def tiff_first(size: tuple[int, int], rows_per_strip: int = 1) -> bytes:
    """An 8-bit grey TIFF as scanners and tifffile write it: header, directory, strip tables, pixels."""
    width, height = size
    strips = -(-height // rows_per_strip)
    pixels = grey(size).tobytes()
    entries = 10
    tables = 8 + 2 + 12 * entries + 4
    data = tables + 8 * strips
    offsets = [data + i * rows_per_strip * width for i in range(strips)]
    counts = [min(rows_per_strip, height - i * rows_per_strip) * width for i in range(strips)]
    tags = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, strips, tables),
        (277, 3, 1, 1),
        (278, 4, 1, rows_per_strip),
        (279, 4, strips, tables + 4 * strips),
        (284, 3, 1, 1),
    ]
    ifd = struct.pack("<H", entries) + b"".join(struct.pack("<HHII", *t) for t in tags) + struct.pack("<I", 0)
    return (
        b"II*\x00"
        + struct.pack("<I", 8)
        + ifd
        + struct.pack(f"<{strips}I", *offsets)
        + struct.pack(f"<{strips}I", *counts)
        + pixels
    )


@dataclass(frozen=True)
class WorstCase:
    """One input and the outcome it must have under the default limits."""

    name: str
    build: Callable[[], bytes]
    reject: str | None = None  # the reason slug it must be refused with; None: it renders
    note: str = ""


def _lab(size: tuple[int, int]) -> Image.Image:
    from PIL import ImageCms

    lab = ImageCms.profileToProfile(
        canvas(size), ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), outputMode="LAB"
    )
    assert lab is not None
    return lab


def _webp_lossless() -> bytes:
    return save(rgba(WEBP_MAX), "WEBP", lossless=True, quality=0, method=0)


GIANTS: list[WorstCase] = [
    WorstCase("jpeg-rgb-100mp", lambda: save(canvas(WIDE, 24), "JPEG", quality=90)),
    WorstCase("jpeg-grey-100mp", lambda: save(canvas(WIDE, 24).getchannel(0), "JPEG", quality=90)),
    WorstCase("jpeg-cmyk-100mp", lambda: save(canvas(WIDE, 16).convert("CMYK"), "JPEG", quality=85)),
    WorstCase(
        "jpeg-progressive-444-100mp",
        lambda: save(canvas(WIDE, 24), "JPEG", quality=85, subsampling=0, progressive=True),
    ),
    WorstCase(
        "jpeg-progressive-cmyk-100mp",
        lambda: save(canvas(WIDE, 16).convert("CMYK"), "JPEG", quality=80, progressive=True),
        reject="too-costly",
        note="libjpeg keeps 8 bytes of coefficients a pixel",
    ),
    WorstCase(
        "jpeg-progressive-cmyk-90mp",
        lambda: save(canvas((12_000, 7_500), 16).convert("CMYK"), "JPEG", quality=80, progressive=True),
        note="the largest the model admits at 1024 MB",
    ),
    WorstCase("png-rgb-100mp", lambda: save(canvas(WIDE), "PNG", compress_level=1)),
    WorstCase("png-rgba-100mp", lambda: save(rgba(WIDE), "PNG", compress_level=1)),
    WorstCase("png-rgba-opaque-100mp", lambda: save(canvas(WIDE).convert("RGBA"), "PNG", compress_level=1)),
    WorstCase("png-grey-100mp", lambda: save(grey(WIDE), "PNG", compress_level=1)),
    WorstCase("png-grey16-100mp", lambda: png16(WIDE, 1)),
    WorstCase("png-la16-100mp", lambda: png16(WIDE, 2)),
    WorstCase("png-rgb16-100mp", lambda: png16(WIDE, 3)),
    WorstCase("png-rgba16-100mp", lambda: png16(WIDE, 4)),
    WorstCase("png-palette-trns-100mp", lambda: save(palette(WIDE, True), "PNG", transparency=0)),
    WorstCase("png-1bit-100mp", lambda: save(grey(WIDE).convert("1"), "PNG")),
    WorstCase("png-interlaced-rgb-100mp", lambda: save(canvas(WIDE), "PNG", compress_level=1, interlace=1)),
    WorstCase("gif-100mp", lambda: save(palette((10_000, 10_000), True), "GIF", transparency=0)),
    WorstCase("webp-lossy-100mp", lambda: save(canvas(WEBP_MAX, 24), "WEBP", quality=75, method=0)),
    WorstCase("webp-lossy-alpha-100mp", lambda: save(rgba(WEBP_MAX), "WEBP", quality=75, method=0)),
    WorstCase("webp-lossless-alpha-100mp", _webp_lossless),
    WorstCase(  # opaque: decoded at its scale on load, but VP8L still holds every ARGB pixel
        "webp-lossless-100mp", lambda: save(canvas(WEBP_MAX, 24), "WEBP", lossless=True, quality=0, method=0)
    ),
    WorstCase("tiff-rgb-100mp", lambda: save(canvas(WIDE), "TIFF", compression="tiff_adobe_deflate")),
    WorstCase("tiff-rgba-100mp", lambda: save(rgba(WIDE), "TIFF", compression="tiff_adobe_deflate")),
    WorstCase(
        "tiff-cmyk-100mp",
        lambda: save(canvas(WIDE).convert("CMYK"), "TIFF", compression="tiff_adobe_deflate"),
    ),
    WorstCase(
        "tiff-int32-100mp",
        lambda: save(
            grey(WIDE).convert("I").point(lambda v: v * 1000 - 70000),
            "TIFF",
            compression="tiff_adobe_deflate",
        ),
    ),
    WorstCase(
        "tiff-float-100mp", lambda: save(grey(WIDE).convert("F"), "TIFF", compression="tiff_adobe_deflate")
    ),
    WorstCase(
        "tiff-grey16-100mp",
        lambda: save(
            grey(WIDE).convert("I").point(lambda v: v * 257).convert("I;16"),
            "TIFF",
            compression="tiff_adobe_deflate",
        ),
    ),
    WorstCase(
        "tiff-la-100mp",
        lambda: save(Image.merge("LA", (grey(WIDE), alpha(WIDE))), "TIFF", compression="tiff_adobe_deflate"),
    ),
    WorstCase("tiff-1bit-100mp", lambda: save(grey(WIDE).convert("1"), "TIFF", compression="group4")),
    WorstCase(
        "tiff-one-strip-100mp",
        lambda: save(canvas(WIDE), "TIFF", compression="tiff_adobe_deflate", tiffinfo={278: WIDE[1]}),
        note="one 300 MB strip",
    ),
    WorstCase("tiff-lab-100mp", lambda: save(_lab(WIDE), "TIFF", compression="tiff_adobe_deflate")),
    WorstCase("tiff-ifd-first-40mp", lambda: tiff_first((5_000, 8_000)), note="strip tables past 64 KiB"),
    WorstCase("bmp-24bit-17mp", lambda: save(canvas((5_120, 3_400)), "BMP")),
    WorstCase("bmp-8bit-52mp", lambda: save(palette((8_000, 6_500), False), "BMP")),
    WorstCase("bmp-1bit-100mp", lambda: save(grey(WIDE).convert("1"), "BMP")),
    WorstCase("bmp-rle8-100mp", lambda: bmp_rle8(WIDE)),
    WorstCase("avif-rgb-100mp", lambda: save(canvas(WIDE, 16), "AVIF", quality=50, speed=10)),
]


# --------------------------------------------------------------------------------------
# header bombs: sizes as the reviewer measured them, each just under 50 MiB


def _tiny_jpeg() -> bytes:
    return save(canvas((16, 16)), "JPEG")


def jpeg_empty_segments(count: int = 13_000_000) -> bytes:
    """SOI, then ``count`` empty APP1 segments, then a 16x16 JPEG: Pillow builds an entry per segment."""
    tiny = _tiny_jpeg()
    return tiny[:2] + b"\xff\xe1\x00\x02" * count + tiny[2:]


def jpeg_exif_segments(count: int = 799) -> bytes:
    """``count`` 64 KB EXIF APP1 segments, which Pillow joins into one (quadratically)."""
    body = b"Exif\x00\x00" + bytes(65_527)
    tiny = _tiny_jpeg()
    return tiny[:2] + (b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body) * count + tiny[2:]


def gif_comment_subblocks(total: int = MAX_BYTES - 1024) -> bytes:
    """A comment extension of 1-byte sub-blocks before a 16x16 image: a Python read per byte pair."""
    tiny = save(palette((16, 16), False), "GIF")
    screen = 13 + (3 * (2 << (tiny[10] & 7)) if tiny[10] & 0x80 else 0)
    blocks = (total - len(tiny)) // 2
    return tiny[:screen] + b"\x21\xfe" + b"\x01x" * blocks + b"\x00" + tiny[screen:]


def tiff_strip_offsets(count: int = 26_000_000) -> bytes:
    """A 1x1 TIFF whose directory lists ``count`` (SHORT) strip offsets and byte counts."""
    entries = [
        (256, 3, 1, 1),
        (257, 3, 1, 1),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 3, count, 8 + 2 + 12 * 8 + 4),
        (277, 3, 1, 1),
        (279, 3, count, 8 + 2 + 12 * 8 + 4),
    ]
    ifd = (
        struct.pack("<H", len(entries))
        + b"".join(
            struct.pack("<HHI", tag, kind, n)
            + (struct.pack("<HH", value, 0) if n == 1 else struct.pack("<I", value))
            for tag, kind, n, value in entries
        )
        + struct.pack("<I", 0)
    )
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<H", 1) * count


def png_empty_chunks(count: int = 4_350_000) -> bytes:
    """``count`` empty private chunks before the image data: Pillow handles each in Python."""
    tiny = save(canvas((16, 16)), "PNG")
    at = tiny.index(b"IDAT") - 4
    return tiny[:at] + chunk(b"prIv", b"") * count + tiny[at:]


def png_chunks_after_image(count: int = 4_350_000) -> bytes:
    """The same empty chunks after the image data, where only the whole file shows them."""
    tiny = save(canvas((16, 16)), "PNG")
    at = tiny.index(b"IEND") - 4
    return tiny[:at] + chunk(b"prIv", b"") * count + tiny[at:]


def claiming(jpeg: bytes, width: int, height: int) -> bytes:
    """A JPEG whose frame header (any SOFn) is rewritten to claim ``width`` x ``height``."""
    at = next(i for i in range(2, len(jpeg) - 1) if jpeg[i] == 0xFF and jpeg[i + 1] in (0xC0, 0xC1, 0xC2))
    return jpeg[: at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9 :]


def webp_animation_claiming(width: int, height: int) -> bytes:
    """An animated WebP whose canvas claims ``width`` x ``height`` around one 16x16 frame.

    Pillow's reader (the only one for animations) keeps two canvases and a copy: 12 bytes a pixel.
    """
    frame = save(canvas((16, 16)), "WEBP", quality=80)[12:]  # the VP8 chunk
    canvas_size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes((0x02, 0, 0, 0)) + canvas_size
    anim = b"ANIM" + struct.pack("<I", 6) + bytes(4) + struct.pack("<H", 0)
    body = bytes(6) + (15).to_bytes(3, "little") * 2 + (100).to_bytes(3, "little") + b"\x00" + frame
    anmf = b"ANMF" + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")
    riff = b"WEBP" + vp8x + anim + anmf
    return b"RIFF" + struct.pack("<I", len(riff)) + riff


def tiff_without_strips(size: tuple[int, int]) -> bytes:
    """A TIFF directory with a size but no strip or tile offsets: Pillow cannot identify it."""
    entries = [(256, 4, 1, size[0]), (257, 4, 1, size[1]), (258, 3, 1, 8), (262, 3, 1, 1)]
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + bytes(size[0] * size[1])


def bmp_rle_claiming(size: tuple[int, int] = (9_950, 9_950), nbytes: int = 40_000) -> bytes:
    """~40 KB of RLE8: one pixel, then end-of-line, row after row, in a bitmap claiming 99 MP."""
    return bmp_rle8(size, b"\x01\x07\x00\x00" * (nbytes // 4) + b"\x00\x01")


BOMBS: list[WorstCase] = [
    WorstCase("bomb-jpeg-13m-empty-segments", jpeg_empty_segments, reject="too-many-segments"),
    WorstCase("bomb-jpeg-800-exif-segments", jpeg_exif_segments, reject="header-too-large"),
    WorstCase("bomb-gif-comment-1-byte-subblocks", gif_comment_subblocks, reject="too-many-blocks"),
    WorstCase("bomb-tiff-26m-strip-offsets", tiff_strip_offsets, reject="too-many-strips"),
    WorstCase("bomb-png-4m-chunks-before-image", png_empty_chunks, reject="too-many-chunks"),
    WorstCase(
        "bomb-png-4m-chunks-after-image",
        png_chunks_after_image,
        reject="too-many-chunks",
        note="refused by Resize: only the whole file shows them",
    ),
    WorstCase("bomb-bmp-rle8-40kb-claiming-99mp", bmp_rle_claiming),
]
