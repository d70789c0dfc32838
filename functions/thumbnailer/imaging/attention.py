"""Where an image is interesting: the scores a ``smart`` cover crop is placed by.

The method is libvips' attention crop (``vips_smartcrop``, ``interesting=attention``): a pixel
scores its edge strength (Sobel, in L* units), plus a fixed bonus for skin tones (a* 3..22,
b* 4..31, L* >= 15) and one for strongly saturated colour (chroma > 60), in CIE L*a*b*. Here
the scores are summed per column and per row of the stored image (``geometry.Interest``);
``geometry.window`` then keeps the crop window that holds the most of them. No model, no
weights, the same answer for the same pixels.

It runs on the decoded working image before any output is made, so it must cost next to
nothing beside the decode: the image is sampled (nearest pixel) to ``SAMPLE`` pixels along
its longer side, which reads ~50,000 of its pixels whatever its size and keeps the fine
detail a box filter would average away (detail is what the edge score looks for). Edges are
found on that sample's luma (sRGB's transfer curve tracks L* closely), the colour bonuses
on a half-size copy converted to L*a*b*; every step is one Pillow call on a small image.
"""

from __future__ import annotations

from functools import cache

from PIL import Image, ImageChops, ImageCms, ImageFilter, ImageMath, ImageOps

from . import colour
from .geometry import Interest

SAMPLE = 256
"""Pixels along the sample's longer side: the precision (1/256 of the image) a crop is placed with."""

# Pillow's 8-bit L*a*b*: L* x 2.55, a* and b* offset by 128.
_L_SCALE = 2.55
_SKIN_L_MIN = 15.0
_SKIN_A = (3.0, 22.0)
_SKIN_B = (4.0, 31.0)
_CHROMA_MIN = 60.0
_BONUS = 255.0  # what a skin or saturated pixel adds, in the edge score's units (L* per pixel)
# Sobel kernels, scaled so the response (at most 4 x 255) fits a byte around 128.
_SOBEL_SCALE = 8
_SOBEL_X = ImageFilter.Kernel((3, 3), (-1, 0, 1, -2, 0, 2, -1, 0, 1), scale=_SOBEL_SCALE, offset=128)
_SOBEL_Y = ImageFilter.Kernel((3, 3), (-1, -2, -1, 0, 0, 0, 1, 2, 1), scale=_SOBEL_SCALE, offset=128)
_MAGNITUDE = [abs(v - 128) for v in range(256)]
_EDGE_TO_L = _SOBEL_SCALE / _L_SCALE  # one step of the scaled response, in L* units


def _mask(low: float, high: float, offset: float, scale: float) -> list[int]:
    return [255 if low <= (v - offset) / scale <= high else 0 for v in range(256)]


_SKIN_L_MASK = _mask(_SKIN_L_MIN, 1000.0, 0.0, _L_SCALE)
_SKIN_A_MASK = _mask(*_SKIN_A, 128.0, 1.0)
_SKIN_B_MASK = _mask(*_SKIN_B, 128.0, 1.0)


@cache
def _to_lab() -> ImageCms.ImageCmsTransform:
    return ImageCms.buildTransform(colour.srgb(), ImageCms.createProfile("LAB"), "RGB", "LAB")


def _sample(im: Image.Image, mode: str) -> Image.Image:
    """``im`` sampled to at most ``SAMPLE`` pixels a side, as RGB (transparency shown over white)."""
    width, height = im.size
    scale = min(1.0, SAMPLE / max(width, height))
    size = (max(3, round(width * scale)), max(3, round(height * scale)))
    small = im.resize(size, Image.Resampling.NEAREST) if size != im.size else im
    if mode in ("LA", "RGBA"):
        flat = Image.new("RGB", small.size, "white")
        flat.paste(small.convert(mode[:-1] if mode == "LA" else "RGB"), mask=small.getchannel("A"))
        return flat
    return small.convert("RGB")


def _edges(lightness: Image.Image) -> Image.Image:
    """|Sobel x| + |Sobel y| of the L* band, in scaled steps; the border (copied by Pillow) is zero."""
    parts = []
    for kernel in (_SOBEL_X, _SOBEL_Y):
        response = ImageOps.expand(ImageOps.crop(lightness.filter(kernel), 1), 1, fill=128)
        parts.append(response.point(_MAGNITUDE))
    return ImageChops.add(parts[0], parts[1])


def _bonus(rgb: Image.Image) -> Image.Image:
    """Skin tones and strong colour, ``_BONUS`` each, judged on ``rgb`` at half its size (mode F)."""
    half = rgb.reduce(2) if min(rgb.size) >= 6 else rgb
    lab = ImageCms.applyTransform(half, _to_lab())
    assert lab is not None
    lightness, a, b = lab.split()
    skin = ImageChops.multiply(
        ImageChops.multiply(lightness.point(_SKIN_L_MASK), a.point(_SKIN_A_MASK)), b.point(_SKIN_B_MASK)
    )
    bonus = ImageMath.lambda_eval(
        lambda v: v["float"](v["skin"]) * (_BONUS / 255)
        + v["float"]((v["a"] - 128) * (v["a"] - 128) + (v["b"] - 128) * (v["b"] - 128) > _CHROMA_MIN**2)
        * _BONUS,
        skin=skin,
        a=a,
        b=b,
    )
    assert isinstance(bonus, Image.Image)
    return bonus.resize(rgb.size, Image.Resampling.NEAREST)


def interest(im: Image.Image, mode: str) -> Interest:
    """The attention scores of the working image ``im`` (in working ``mode``), per column and row."""
    rgb = _sample(im, mode)
    score = ImageMath.lambda_eval(
        lambda v: v["float"](v["edges"]) * _EDGE_TO_L + v["bonus"],
        edges=_edges(rgb.convert("L")),
        bonus=_bonus(rgb),
    )
    assert isinstance(score, Image.Image)
    columns = score.resize((score.width, 1), Image.Resampling.BOX)
    rows = score.resize((1, score.height), Image.Resampling.BOX)
    return Interest(tuple(columns.get_flattened_data()), tuple(rows.get_flattened_data()))  # type: ignore[arg-type]
