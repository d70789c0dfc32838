"""Placeholders a front-end shows while a thumbnail loads: a BlurHash and one colour.

The BlurHash (https://blurha.sh, its Algorithm.md) is a few DCT components of the image in
linear light, the first stored exactly as sRGB and the rest quantised, in a base-83 string of
ASCII characters that is safe in JSON, HTML and S3 metadata. The colour is that first term:
the mean of the image in linear light, as sRGB ``#rrggbb``. A mean, not the mode of a colour
histogram: it is what the blurred image averages to (the swatch and the BlurHash agree), it
moves smoothly with the pixels where a histogram's winning bin jumps, and it is free once the
BlurHash is computed.

Both come from one tiny rendition of the whole frame (``SIDE`` pixels along its longer
side, made by the engine from its smallest output like any other size), upright and in sRGB;
transparency is shown over white, as a JPEG thumbnail shows it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from operator import mul

from PIL import Image

from ..blurhash import LINEAR, base83, to_srgb
from ..spec import SizeSpec

SIDE = 32
"""Longer side of the rendition placeholders are computed from: 4x3 components need no more."""
SPEC = SizeSpec(SIDE, SIDE)  # whole frame, never upscaled
COMPONENTS = 4, 3  # along the longer side, the shorter one



@dataclass(frozen=True)
class Placeholder:
    """What a front-end shows before the thumbnail arrives."""

    blurhash: str
    color: str  # "#rrggbb", sRGB

    def to_dict(self) -> dict[str, str]:
        return {"blurhash": self.blurhash, "color": self.color}


def components(size: tuple[int, int]) -> tuple[int, int]:
    """(x, y) components: more along the longer side, so portrait images get 3x4."""
    return COMPONENTS if size[0] >= size[1] else (COMPONENTS[1], COMPONENTS[0])


def of(im: Image.Image) -> Placeholder:
    """The placeholder of a small upright sRGB image (L, LA, RGB or RGBA)."""
    if im.mode in ("LA", "RGBA"):
        flat = Image.new("RGB", im.size, "white")
        flat.paste(im.convert("RGBA"), mask=im.getchannel("A"))
        im = flat
    elif im.mode != "RGB":
        im = im.convert("RGB")
    nx, ny = components(im.size)
    factors = _factors(im, nx, ny)
    dc = tuple(to_srgb(v) for v in factors[0])
    return Placeholder(_encode(factors, nx, ny), "#{:02x}{:02x}{:02x}".format(*dc))


def blurhash(im: Image.Image, nx: int, ny: int) -> str:
    """The BlurHash of an RGB image with ``nx`` x ``ny`` components (1..9 each)."""
    if not (1 <= nx <= 9 and 1 <= ny <= 9):
        raise ValueError(f"{nx}x{ny} components: each must be 1..9")
    return _encode(_factors(im.convert("RGB"), nx, ny), nx, ny)


def _factors(im: Image.Image, nx: int, ny: int) -> list[tuple[float, float, float]]:
    """The DCT terms, x fastest then y: sum of linear pixel x cos(pi i x / w) cos(pi j y / h), normalised."""
    width, height = im.size
    linear = [LINEAR[v] for v in im.tobytes()]
    cos_x = [[math.cos(math.pi * i * x / width) for x in range(width)] for i in range(nx)]
    cos_y = [[math.cos(math.pi * j * y / height) for y in range(height)] for j in range(ny)]
    # First along each row (per channel and x component), then down the columns of those sums.
    rows: list[list[list[float]]] = [[[0.0] * height for _ in range(nx)] for _ in range(3)]
    stride = width * 3
    for y in range(height):
        line = linear[y * stride : (y + 1) * stride]
        for c in range(3):
            channel = line[c::3]
            for i in range(nx):
                rows[c][i][y] = sum(map(mul, cos_x[i], channel))
    out = []
    for j in range(ny):
        for i in range(nx):
            scale = (1 if i == j == 0 else 2) / (width * height)
            r, g, b = (sum(map(mul, cos_y[j], rows[c][i])) * scale for c in range(3))
            out.append((r, g, b))
    return out


def _encode(factors: list[tuple[float, float, float]], nx: int, ny: int) -> str:
    """The string: size flag, quantised AC maximum, DC as sRGB, then each AC term in 2 digits."""
    dc, ac = factors[0], factors[1:]
    out = base83((nx - 1) + (ny - 1) * 9, 1)
    if ac:
        actual = max(abs(v) for term in ac for v in term)
        quantised = int(max(0, min(82, math.floor(actual * 166 - 0.5))))
        maximum = (quantised + 1) / 166
        out += base83(quantised, 1)
    else:
        maximum = 1.0
        out += base83(0, 1)
    r, g, b = (to_srgb(v) for v in dc)
    out += base83((r << 16) + (g << 8) + b, 4)
    for term in ac:
        q = [math.floor(math.copysign(abs(v / maximum) ** 0.5, v) * 9 + 9.5) for v in term]
        r, g, b = (max(0, min(18, v)) for v in q)
        out += base83(r * 19 * 19 + g * 19 + b, 2)
    return out
