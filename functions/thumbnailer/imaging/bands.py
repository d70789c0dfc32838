"""Whole-image operations done a band of rows at a time, so no second full-size copy is made.

Pillow converts and premultiplies whole images: bringing a 100 MP 16-bit scan to 8 bits, or
resizing a 100 MP RGBA image (Pillow premultiplies all of it first), needs the decoded image
plus one or two more of its size. Here the same operations run on bands of about
``BAND_PIXELS``: per-pixel conversions band by band into one output image, and the
premultiplied resize as Pillow's own steps (box reduce, then a horizontal and a vertical
resampling pass) fed one premultiplied band at a time. Every operation gives the bytes
Pillow's whole-image call gives (tests/unit/thumbnailer/imaging/test_bands.py compares them).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PIL import Image

BAND_PIXELS = 1 << 21
"""About this many pixels per band: 8 MB in a 4-byte mode, few enough bands to keep Python's share small."""

Box = tuple[float, float, float, float]
_PREMULTIPLIED = {"LA": "La", "RGBA": "RGBa"}
_SUPPORT = {  # Pillow's filter supports (Resample.c), in source pixels at 1x
    Image.Resampling.BOX: 0.5,
    Image.Resampling.BILINEAR: 1.0,
    Image.Resampling.HAMMING: 1.0,
    Image.Resampling.BICUBIC: 2.0,
    Image.Resampling.LANCZOS: 3.0,
}


def rows(width: int, multiple: int = 1) -> int:
    """Rows per band for an image ``width`` wide: a multiple of ``multiple``, at least one."""
    per = max(1, BAND_PIXELS // max(1, width))
    return max(multiple, per // multiple * multiple)


def convert(src: Image.Image, mode: str, fn: Callable[[Image.Image], Image.Image]) -> Image.Image:
    """``fn`` (a per-pixel operation giving ``mode``) applied band by band into one new image."""
    width, height = src.size
    out = Image.new(mode, src.size, None)  # every pixel is pasted over: no need to clear it
    step = rows(width)
    for top in range(0, height, step):
        band = fn(src.crop((0, top, width, min(height, top + step))))
        out.paste(band, (0, top))
    return out


def alpha_used(im: Image.Image) -> bool:
    """Whether any pixel of an LA/RGBA image is less than opaque (stops at the first band that is)."""
    width, height = im.size
    step = rows(width)
    for top in range(0, height, step):
        low, _ = im.crop((0, top, width, min(height, top + step))).getchannel("A").getextrema()
        if low < 255:  # type: ignore[operator]
            return True
    return False


def _reduce_factor(size: tuple[int, int], box: Box, reducing_gap: float | None) -> tuple[int, int]:
    """The integer box reduction Pillow's resize applies first (its ``reducing_gap`` rule)."""
    if reducing_gap is None:
        return 1, 1
    return (
        int((box[2] - box[0]) / size[0] / reducing_gap) or 1,
        int((box[3] - box[1]) / size[1] / reducing_gap) or 1,
    )


def plain_resize(
    im: Image.Image, size: tuple[int, int], resample: int, box: Box, reducing_gap: float | None
) -> Image.Image:
    """Pillow's ``resize``, but an LA/RGBA/RGBX image is resampled as stored, never premultiplied.

    For an image whose alpha is opaque that gives exactly the colour channels of resizing its
    RGB/L conversion: each band is resampled on its own, with the same coefficients.
    """
    if im.size == size and box == (0, 0, *im.size):
        return im.copy()
    fx, fy = _reduce_factor(size, box, reducing_gap)
    if fx > 1 or fy > 1:
        reduce_box = im._get_safe_box(size, resample, box)  # type: ignore[arg-type]
        im = im._new(im.im.reduce((fx, fy), reduce_box))
        box = (
            (box[0] - reduce_box[0]) / fx,
            (box[1] - reduce_box[1]) / fy,
            (box[2] - reduce_box[0]) / fx,
            (box[3] - reduce_box[1]) / fy,
        )
    return im._new(im.im.resize(size, resample, box))


def premultiplied_resize(
    im: Image.Image, size: tuple[int, int], resample: int, box: Box, reducing_gap: float | None
) -> Image.Image:
    """``im.resize(size, resample, box, reducing_gap)`` for LA/RGBA, without premultiplying all of ``im``.

    Pillow converts the whole image to La/RGBa, reduces and resizes that, and converts back.
    The same steps run here on one premultiplied band at a time: the box reduction in bands
    of whole reduction blocks, or (no reduction) the horizontal pass in bands, then the
    vertical pass on its narrow result, as Pillow's two-pass resampler does it.
    """
    if im.size == size and box == (0, 0, *im.size):
        return im.copy()
    pm = _PREMULTIPLIED[im.mode]
    fx, fy = _reduce_factor(size, box, reducing_gap)
    if fx > 1 or fy > 1:
        reduce_box = im._get_safe_box(size, resample, box)  # type: ignore[arg-type]
        reduced = _reduce_premultiplied(im, pm, (fx, fy), reduce_box)
        box = (
            (box[0] - reduce_box[0]) / fx,
            (box[1] - reduce_box[1]) / fy,
            (box[2] - reduce_box[0]) / fx,
            (box[3] - reduce_box[1]) / fy,
        )
        out = reduced._new(reduced.im.resize(size, resample, box))
    else:
        out = _two_pass_premultiplied(im, pm, size, resample, box)
    return out.convert(im.mode)


def _reduce_premultiplied(
    im: Image.Image, pm: str, factor: tuple[int, int], box: tuple[int, int, int, int]
) -> Image.Image:
    """``im.convert(pm).reduce(factor, box)``, premultiplying one band of whole blocks at a time."""
    fx, fy = factor
    x0, y0, x1, y1 = box
    out = Image.new(pm, (math.ceil((x1 - x0) / fx), math.ceil((y1 - y0) / fy)), None)  # all pasted over
    step = rows(x1 - x0, fy)
    for top in range(y0, y1, step):
        band = im.crop((x0, top, x1, min(y1, top + step))).convert(pm)
        out.paste(band._new(band.im.reduce(factor, (0, 0, *band.size))), (0, (top - y0) // fy))
    return out


def _two_pass_premultiplied(
    im: Image.Image, pm: str, size: tuple[int, int], resample: int, box: Box
) -> Image.Image:
    """``im.convert(pm).im.resize(size, resample, box)`` with the first pass done in bands.

    Pillow resamples in two passes, each computing its coefficients from the image size, the
    box and the output size alone, so a pass run band by band gives the same bytes. Pillow 13
    runs the vertical pass first when the height shrinks by more than twice as many pixels
    as the width (``vertical_first``); the first pass reads premultiplied bands of rows
    (horizontal first) or of columns (vertical first) limited to the pixels the filter reaches.
    """
    width, height = im.size
    x0, y0, x1, y1 = box
    need_h = (x0, x1, size[0]) != (0, width, width)
    need_v = (y0, y1, size[1]) != (0, height, height)
    left, top, right, bottom = _reach(im.size, size, resample, box)
    if need_v and vertical_first(im.size, size):
        mid = Image.new(pm, (width, size[1]))
        step = rows(height)  # columns per band: the same pixel budget
        for at in range(left, right, step):
            band = im.crop((at, 0, min(right, at + step), height)).convert(pm)
            mid.paste(
                band._new(band.im.resize((band.width, size[1]), resample, (0, y0, band.width, y1))), (at, 0)
            )
        return mid._new(mid.im.resize(size, resample, (x0, 0, x1, size[1]))) if need_h else mid
    mid = Image.new(pm, (size[0], height))
    step = rows(width)
    for at in range(top, bottom, step):
        band = im.crop((0, at, width, min(bottom, at + step))).convert(pm)
        if need_h:
            band = band._new(band.im.resize((size[0], band.height), resample, (x0, 0, x1, band.height)))
        mid.paste(band, (0, at))
    return mid._new(mid.im.resize(size, resample, (0, y0, size[0], y1))) if need_v else mid


def _reach(
    source: tuple[int, int], size: tuple[int, int], resample: int, box: Box
) -> tuple[int, int, int, int]:
    """The source pixels the filter can touch for ``box`` (a superset, a pixel wider each side)."""
    sx = max(1.0, (box[2] - box[0]) / size[0]) * _SUPPORT[resample] + 1
    sy = max(1.0, (box[3] - box[1]) / size[1]) * _SUPPORT[resample] + 1
    return (
        max(0, math.floor(box[0] - sx)),
        max(0, math.floor(box[1] - sy)),
        min(source[0], math.ceil(box[2] + sx)),
        min(source[1], math.ceil(box[3] + sy)),
    )


def vertical_first(source: tuple[int, int], size: tuple[int, int]) -> bool:
    """Whether Pillow's resampler runs its vertical pass first (Pillow 13: ``Resample.c``)."""
    return size[1] < source[1] and source[1] - size[1] > 2 * (source[0] - size[0])
