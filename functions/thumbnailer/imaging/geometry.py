"""Resize geometry as plain arithmetic: which size, which region, which decode, which source.

Everything here is decided before or without pixels: fitting a spec to the image as
displayed (``inside`` or ``cover``, never upscaling), the JPEG DCT scale to decode at, and
which already-made output feeds each smaller one. Coordinates are in *stored* pixels of
the original image; EXIF orientation is applied to each output afterwards. No PIL here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..formats import CONFIGURABLE
from ..spec import SizeSpec

Size = tuple[int, int]
Region = tuple[float, float, float, float]  # x0, y0, x1, y1

# An earlier, smaller intermediate may feed a later size when it is still ~2x larger
# (1.9 rather than 2.0 so 1024x683 -> 512x342 still counts despite rounding).
DERIVE_GAP = 1.9
# The DCT-scaled decode leaves every output ~2x to resize from, with the same slack:
# 4000 px -> 1024 px decodes at 1/2 (a 1.95x gap) instead of in full: half the CPU,
# the same difference to a full-resolution reference (bench/).
DRAFT_GAP = 1.9
# A step that reduces by at most this much uses BICUBIC rather than LANCZOS: a resize pass
# costs in proportion to the filter's support, and bicubic's is 2/3 of Lanczos-3's. On the
# 2 MP bench image (no draft possible: 1632 -> 1024 -> 512 -> 256) resizing drops from ~75 to
# ~48 ms CPU of a ~105 ms render. Before encoding, those outputs differ from the LANCZOS ones
# by a mean 0.36-0.68 levels of 255 (pyvips' lanczos3: 0.27-0.38), ~8% less edge energy, no
# visible difference at 3x zoom; once encoded they are as close to the full-resolution
# LANCZOS reference as pyvips' (bench/). Bigger steps keep LANCZOS's sharper cut-off.
BICUBIC_MAX_STEP = 2.01


def swaps_axes(orientation: int) -> bool:
    """EXIF orientations 5..8 turn the image a quarter: displayed width is stored height."""
    return orientation >= 5


def displayed(stored: Size, orientation: int) -> Size:
    """The size a viewer sees once the EXIF orientation is applied."""
    return (stored[1], stored[0]) if swaps_axes(orientation) else stored


@dataclass(frozen=True)
class Plan:
    """One spec resolved against the source: output size and source region, stored axes."""

    index: int
    spec: SizeSpec
    size: Size
    region: Region  # in original (undrafted) stored pixels

    @property
    def scale(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.region
        return self.size[0] / (x1 - x0), self.size[1] / (y1 - y0)


def plan(index: int, spec: SizeSpec, stored: Size, swap: bool) -> Plan:
    """Fit a spec to the displayed image (never upscaling), then map back to stored axes."""
    sw, sh = stored
    dw, dh = (sh, sw) if swap else (sw, sh)
    bw, bh = spec.width, spec.height
    if spec.fit == "inside":
        if dw <= bw and dh <= bh:
            out = (dw, dh)
        else:
            s = min(bw / dw, bh / dh)
            out = (min(bw, max(1, round(dw * s))), min(bh, max(1, round(dh * s))))
        region: Region = (0, 0, dw, dh)
    elif spec.fit == "cover":
        # Largest centred rectangle with the box's aspect ratio.
        if dw * bh > dh * bw:
            cw, ch = dh * bw / bh, float(dh)
        else:
            cw, ch = float(dw), dw * bh / bw
        if cw >= bw:
            out = (bw, bh)
            x0, y0 = (dw - cw) / 2, (dh - ch) / 2
        else:  # smaller than the box: crop to its aspect ratio at source scale
            out = (max(1, min(dw, round(cw))), max(1, min(dh, round(ch))))
            cw, ch = out
            x0, y0 = (dw - cw) // 2, (dh - ch) // 2
        region = (x0, y0, x0 + cw, y0 + ch)
    else:
        raise ConfigError(f"fit {spec.fit!r} is not one of inside/cover")
    if spec.format not in CONFIGURABLE:
        raise ConfigError(f"format {spec.format!r} is not one of {'/'.join(CONFIGURABLE)}")
    if swap:  # centred regions stay centred under any flip, so swapping axes is enough
        out = (out[1], out[0])
        region = (region[1], region[0], region[3], region[2])
    return Plan(index, spec, out, region)


def draft_factor(plans: Sequence[Plan]) -> int:
    """Largest JPEG DCT scale (1/8..1) that still leaves every output a >= 2x reduction."""
    allowed = min(1 / (DRAFT_GAP * max(p.scale)) for p in plans)
    return next(k for k in (8, 4, 2, 1) if k <= allowed or k == 1)


def draft_request(stored: Size, factor: int) -> Size:
    """The size to ask the JPEG decoder for at 1/``factor`` scale."""
    return max(1, stored[0] // factor), max(1, stored[1] // factor)


@dataclass(frozen=True)
class Step:
    """How one output is made: from which image, which box of it, with which filter."""

    plan: Plan
    source: int | None  # index of the plan whose output feeds this one; None: the decoded image
    box: Region  # in the source image's pixels
    resample: str  # "crop" (already the right size: no scaling), "bicubic" or "lanczos"


@dataclass(frozen=True)
class _Source:
    """An image steps may read from, and where it sits in original stored pixels."""

    index: int | None
    size: Size  # its pixels
    origin: tuple[float, float]
    scale: tuple[float, float]  # its pixels per original pixel
    extent: Region  # the original region it covers

    def covers(self, region: Region) -> bool:
        eps = 1e-6
        return (
            region[0] >= self.extent[0] - eps
            and region[1] >= self.extent[1] - eps
            and region[2] <= self.extent[2] + eps
            and region[3] <= self.extent[3] + eps
        )


def steps(plans: Sequence[Plan], decoded: Size, factor: float) -> list[Step]:
    """Largest output first, each from the smallest image still ~2x above it.

    ``decoded`` is the size of the decoded image and ``factor`` its pixels per original
    stored pixel (below 1 after a JPEG draft). The steps come in the order they must run.
    """
    base = _Source(None, decoded, (0.0, 0.0), (factor, factor), (0.0, 0.0, 0.0, 0.0))
    made: list[_Source] = []
    out: list[Step] = []
    for p in sorted(plans, key=lambda p: (-p.size[0] * p.size[1], p.index)):
        sx, sy = p.scale
        usable = [
            m
            for m in made
            if m.covers(p.region) and m.scale[0] >= DERIVE_GAP * sx and m.scale[1] >= DERIVE_GAP * sy
        ]
        src = min(usable, key=lambda m: m.scale[0]) if usable else base
        x0, y0, x1, y1 = p.region
        box = (
            max(0.0, (x0 - src.origin[0]) * src.scale[0]),
            max(0.0, (y0 - src.origin[1]) * src.scale[1]),
            min(float(src.size[0]), (x1 - src.origin[0]) * src.scale[0]),
            min(float(src.size[1]), (y1 - src.origin[1]) * src.scale[1]),
        )
        if (box[2] - box[0], box[3] - box[1]) == p.size and all(v.is_integer() for v in box):
            resample = "crop"
        else:
            step = min((box[2] - box[0]) / p.size[0], (box[3] - box[1]) / p.size[1])
            resample = "bicubic" if step <= BICUBIC_MAX_STEP else "lanczos"
        out.append(Step(p, src.index, box, resample))
        made.append(_Source(p.index, p.size, (x0, y0), (sx, sy), p.region))
    return out
