"""Pixels: run the geometry's steps on the decoded image, then make each output presentable.

Each output is resized once, from the image ``geometry.steps`` chose, and only then turned
upright, converted to sRGB and out of CMYK: on a small output those cost next to nothing,
on the large decoded image they would dominate.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image, ImageCms

from . import bands, colour
from .geometry import Step

# Pillow's resize may box-reduce by an integer factor first as long as this much is left for
# the filter (Pillow: the smaller the gap, the faster; 3.0 is indistinguishable from a plain
# resize). At 3.0 a full-size decode that is not a JPEG never qualified below 6x: a 12 MP PNG
# went 4000 -> 1024 by LANCZOS alone, a 24 MP WebP 6000 -> 1024. At 1.5 they box-reduce 2x /
# 3x first: 0.89x / 0.66x the CPU of the whole render (bench/), and every output stays as
# close to a full-resolution float LANCZOS reference as sharp's and pyvips' or closer
# (cost.REDUCING_GAP mirrors this for the memory model).
RESIZE_REDUCING_GAP = 1.5

_FILTERS = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}

# EXIF orientation -> the transpose that shows the stored pixels upright.
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def resize(steps: Sequence[Step], base: Image.Image, mode: str | None = None) -> dict[int, Image.Image]:
    """Every step's output in ``mode``, by plan index; each step reads ``base`` or an earlier output.

    ``mode`` is the working mode (``decode.Working``): ``base`` may store an RGB image as
    RGBA/RGBX with opaque alpha. Steps that read the full-size ``base`` with real alpha
    premultiply it band by band (``bands``); the outputs are small and resized by Pillow.
    """
    mode = mode or base.mode
    made: dict[int, Image.Image] = {}
    for step in steps:
        if step.source is None:
            made[step.plan.index] = _from_base(step, base, mode)
            continue
        src = made[step.source]
        if step.resample == "crop":
            made[step.plan.index] = src.crop(tuple(int(v) for v in step.box))
        else:
            made[step.plan.index] = src.resize(
                step.plan.size, _FILTERS[step.resample], box=step.box, reducing_gap=RESIZE_REDUCING_GAP
            )
    return made


def _from_base(step: Step, base: Image.Image, mode: str) -> Image.Image:
    """One step read from the full-size image, as Pillow's ``resize`` would make it, in ``mode``."""
    if step.resample == "crop":
        out = base.crop(tuple(int(v) for v in step.box))
    elif base.mode != mode:  # opaque alpha: resampled as stored, never premultiplied
        out = bands.plain_resize(base, step.plan.size, _FILTERS[step.resample], step.box, RESIZE_REDUCING_GAP)
    elif base.mode in ("LA", "RGBA"):
        out = bands.premultiplied_resize(
            base, step.plan.size, _FILTERS[step.resample], step.box, RESIZE_REDUCING_GAP
        )
    else:
        return base.resize(
            step.plan.size, _FILTERS[step.resample], box=step.box, reducing_gap=RESIZE_REDUCING_GAP
        )
    return out.convert(mode) if out.mode != mode else out


def finish(im: Image.Image, orientation: int, transform: ImageCms.ImageCmsTransform | None) -> Image.Image:
    """Upright, sRGB, in L/LA/RGB/RGBA: done on each small output rather than the big base."""
    if orientation in _TRANSPOSE:
        im = im.transpose(_TRANSPOSE[orientation])
    if transform is not None:
        im = colour.apply(im, transform)
    if im.mode == "CMYK":
        im = im.convert("RGB")
    return im
