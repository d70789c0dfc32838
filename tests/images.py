"""Test images made in memory with Pillow: photo-like, deterministic, small.

Shared by the unit and functional suites so each case is built one way only.
"""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image, ImageDraw


def photo(width: int = 640, height: int = 480, mode: str = "RGB", seed: int = 1) -> Image.Image:
    """Gradient sky, a sun, hills and noise: never flat, so encoders do real work."""
    rng = random.Random(seed)
    im = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(im)
    for y in range(height):
        t = y / max(height - 1, 1)
        draw.line([(0, y), (width, y)], fill=(int(40 + 150 * t), int(90 + 100 * t), int(200 - 80 * t)))
    r = max(2, min(width, height) // 8)
    draw.ellipse([width * 0.7 - r, height * 0.25 - r, width * 0.7 + r, height * 0.25 + r],
                 fill=(250, 220, 90))
    draw.polygon([(0, height), (width * 0.3, height * 0.55), (width * 0.6, height), ], fill=(40, 120, 50))
    for _ in range(200):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.point((x, y), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    return im.convert(mode) if mode != "RGB" else im


def jpeg(width: int = 640, height: int = 480, orientation: int | None = None, **save: object) -> bytes:
    im = photo(width, height)
    buf = io.BytesIO()
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        save["exif"] = exif.tobytes()
    im.save(buf, "JPEG", quality=85, **save)
    return buf.getvalue()


def png_alpha(width: int = 400, height: int = 300) -> bytes:
    """A shape on a transparent background: real transparency, so 'auto' must keep alpha."""
    im = photo(width, height).convert("RGBA")
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse([width // 8, height // 8, width * 7 // 8, height * 7 // 8], fill=255)
    im.putalpha(mask)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, valid-looking PNG whose header claims width x height (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
TEXT = b"this is not an image, just text that someone named photo.jpg\n"
