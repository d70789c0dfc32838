"""Output checks: dimensions, orientation, format, bytes, and the difference from a reference.

The reference for every engine is the same: the full, upright decode of the source, resized
with LANCZOS in floating point (Pillow's mode ``F``, one plane per channel) to each output's own
dimensions (``cover``: the centred crop of the box's aspect ratio, as ``ImageOps.fit`` takes
it). The figure is the mean absolute difference over RGB, 0..255, of the decoded output
against it: no rounding in the reference, and the same reference for every engine, so what
differs is only what each engine's decode scale, filters and encoder did. Transparent images
are compared as seen over mid grey: compositing is linear, so flattening the full image first
gives exactly the premultiplied-alpha resize, and colour under alpha 0 does not count.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageMath, ImageOps

GREY = 128.0
Planes = list[Image.Image]  # three mode-F images: R, G, B as seen over GREY


def planes(im: Image.Image) -> Planes:
    """RGB planes in floating point; alpha composited over mid grey."""
    if im.mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
        rgba = im.convert("RGBA")
        *rgb, alpha = (c.convert("F") for c in rgba.split())
        return [ImageMath.lambda_eval(lambda x: x["c"] * x["a"] / 255 + GREY * (1 - x["a"] / 255),
                                      c=c, a=alpha) for c in rgb]
    return [c.convert("F") for c in im.convert("RGB").split()]


def mean_abs_diff(a: Planes, b: Planes) -> float:
    """Mean absolute difference of two same-sized plane sets, 0..255."""
    total = 0.0
    for pa, pb in zip(a, b, strict=True):
        diff = ImageMath.lambda_eval(lambda x: abs(x["p"] - x["q"]), p=pa, q=pb)
        total += diff.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))  # the exact mean
    return total / len(a)


class Reference:
    """The float LANCZOS reference of one source, made once per (spec, output size)."""

    def __init__(self, image: Path) -> None:
        full = ImageOps.exif_transpose(Image.open(image))
        full.load()
        self.full = planes(full)
        self.size = full.size
        self._made: dict[tuple[int, int, int], Planes] = {}

    def of(self, index: int, fit: str, w: int, h: int) -> Planes:
        key = (index if fit == "cover" else -1, w, h)
        if key not in self._made:
            resize: Callable[[Image.Image], Image.Image]
            if fit == "cover":
                def resize(p: Image.Image) -> Image.Image:
                    return ImageOps.fit(p, (w, h), Image.Resampling.LANCZOS)
            else:
                def resize(p: Image.Image) -> Image.Image:
                    return p.resize((w, h), Image.Resampling.LANCZOS)
            self._made[key] = [resize(p) for p in self.full]
        return self._made[key]


def check(outputs: list[dict[str, Any]], ref: Reference, sizes: list[Any],
          portrait: bool, alpha: bool) -> list[dict[str, Any]]:
    """Dimensions, orientation, format, bytes and difference from the reference, per size."""
    results = []
    for index, (made, spec) in enumerate(zip(outputs, sizes, strict=True)):
        im = Image.open(made["path"])
        im.load()
        w, h = im.size
        fits = w <= spec.width and h <= spec.height
        if spec.fit == "cover":
            fits = (w, h) == (spec.width, spec.height)
        elif fits:
            fits = max(w, h) == max(spec.width, spec.height) or min(w, h) == min(spec.width, spec.height)
        upright = spec.fit == "cover" or (h > w) == portrait
        fmt_ok = made["format"] == ("webp" if alpha else "jpeg")
        results.append({
            "size": spec.label, "fit": spec.fit, "width": w, "height": h, "format": made["format"],
            "bytes": made["bytes"], "dims_ok": fits, "orientation_ok": upright, "format_ok": fmt_ok,
            "alpha_kept": (im.mode in ("RGBA", "LA")) if alpha else None,
            "mad": round(mean_abs_diff(planes(im), ref.of(index, spec.fit, w, h)), 3),
        })
    return results
