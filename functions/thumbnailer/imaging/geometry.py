"""Resize geometry as plain arithmetic: which size, which region, which decode, which source.

Everything here is decided before or without pixels: fitting a spec to the image as
displayed (``inside`` or ``cover``, never upscaling), where a ``smart`` cover crop sits (on
a focal point, or where an ``Interest`` profile says the image is most interesting), the
JPEG DCT scale to decode at, and which already-made output feeds each smaller one.
Coordinates are in *stored* pixels of the original image; EXIF orientation is applied to
each output afterwards. No PIL here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ConfigError
from ..formats import CONFIGURABLE
from ..spec import SizeSpec

Size = tuple[int, int]
Region = tuple[float, float, float, float]  # x0, y0, x1, y1
Point = tuple[float, float]  # x, y as fractions (0..1) of the image's width and height

# An earlier, smaller intermediate may feed a later size when it is still ~2x larger
# (1.9 rather than 2.0 so 1024x683 -> 512x342 still counts despite rounding).
DERIVE_GAP = 1.9
# The DCT-scaled decode leaves every output at least this much to resize from. 1.4, not ~2:
# chosen by the quality it gives. 6000 px -> 1024 px decodes at 1/4 (a 1.46x gap) instead of
# 1/2: the 24 MP bench JPEG renders in 0.53x the CPU (the 3000 -> 1024 LANCZOS pass was half
# of it), its 1024 output 6.85 from a full-resolution reference (1/2: 6.81; sharp 6.86, pyvips
# 6.85) and 4.6% smaller. 4000 px -> 1024 stays at 1/2 (1/4 would be 1000 px, below the output).
DRAFT_GAP = 1.4
# A step that reduces by at most this much uses BICUBIC rather than LANCZOS: a resize pass
# costs in proportion to the filter's support, and bicubic's is 2/3 of Lanczos-3's. On the
# 2 MP bench image (no draft possible: 1632 -> 1024 -> 512 -> 256) resizing drops from ~75 to
# ~48 ms CPU of a ~105 ms render. Before encoding, those outputs differ from the LANCZOS ones
# by a mean 0.36-0.68 levels of 255 (pyvips' lanczos3: 0.27-0.38), ~8% less edge energy, no
# visible difference at 3x zoom; once encoded they are as close to the full-resolution
# LANCZOS reference as pyvips' (bench/). Bigger steps keep LANCZOS's sharper cut-off.
BICUBIC_MAX_STEP = 2.01
# ... but a step from the decoded image itself, which still holds all the source's detail, uses
# BICUBIC only up to this much. From a 2000 px decode (12 MP JPEG at 1/2) BICUBIC's softer cut-off
# left the 1024 px output 0.005-0.011 levels further from the reference than sharp's on every 12 MP
# bench JPEG (a worse MAE than the best peer's at that size); LANCZOS is as close or closer, for
# ~14 ms more CPU. 1632 -> 1024 (1.59x) and 1500 -> 1024 (1.46x) stay as close with BICUBIC.
BICUBIC_MAX_DECODED_STEP = 1.75
# A smart crop leaves the centre only when that keeps at least this share of the image's whole
# interest more than the centred crop does: a photo with no clear subject (grain, texture,
# an even scene) keeps its centred crop instead of drifting after noise.
SMART_MARGIN = 0.02
# Then the window is recentred on the interest it holds, at most this many times (each step
# moves it to the centroid of what it keeps), so a subject sits inside it, not at its edge.
SMART_RECENTRE_STEPS = 3

# For each EXIF orientation 1..8: a point of the image as displayed (u, v as fractions, e.g. a
# face Rekognition found) as the same point of the stored pixels.
_TO_STORED = {
    1: lambda u, v: (u, v),
    2: lambda u, v: (1 - u, v),
    3: lambda u, v: (1 - u, 1 - v),
    4: lambda u, v: (u, 1 - v),
    5: lambda u, v: (v, u),
    6: lambda u, v: (v, 1 - u),
    7: lambda u, v: (1 - v, 1 - u),
    8: lambda u, v: (1 - v, u),
}


def swaps_axes(orientation: int) -> bool:
    """EXIF orientations 5..8 turn the image a quarter: displayed width is stored height."""
    return orientation >= 5


def displayed(stored: Size, orientation: int) -> Size:
    """The size a viewer sees once the EXIF orientation is applied."""
    return (stored[1], stored[0]) if swaps_axes(orientation) else stored


def stored_point(point: Point, orientation: int) -> Point:
    """A point given on the image as displayed (fractions), on the stored pixels instead."""
    u, v = (min(1.0, max(0.0, float(c))) for c in point)
    return _TO_STORED.get(orientation, _TO_STORED[1])(u, v)


@dataclass(frozen=True)
class Interest:
    """How interesting each column and each row of the stored image is (``attention``).

    Coarse profiles, left to right and top to bottom, non-negative. A cover crop always spans
    the whole image along one axis, so the profile along the other is all that places it.
    """

    columns: tuple[float, ...]
    rows: tuple[float, ...]


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


def plan(
    index: int,
    spec: SizeSpec,
    stored: Size,
    swap: bool,
    *,
    focus: Point | None = None,
    interest: Interest | None = None,
) -> Plan:
    """Fit a spec to the displayed image (never upscaling), then map back to stored axes.

    A ``smart`` cover crop (``spec.smart``) is centred on ``focus`` (a point of the stored
    image, e.g. a face) when there is one, else placed where ``interest`` says the image is
    most interesting, else centred; every other crop is centred whatever is given.
    """
    sw, sh = stored
    dw, dh = (sh, sw) if swap else (sw, sh)
    bw, bh = spec.width, spec.height
    if spec.fit == "inside":
        if dw <= bw and dh <= bh:
            out = (dw, dh)
        else:
            s = min(bw / dw, bh / dh)
            out = (min(bw, max(1, round(dw * s))), min(bh, max(1, round(dh * s))))
        region: Region = (0, 0, sw, sh)
    elif spec.fit == "cover":
        # Largest rectangle with the box's aspect ratio.
        if dw * bh > dh * bw:
            cw, ch = dh * bw / bh, float(dh)
        else:
            cw, ch = float(dw), dw * bh / bw
        whole = cw >= bw
        if whole:
            out = (bw, bh)
        else:  # smaller than the box: crop to its aspect ratio at source scale, whole pixels
            out = (max(1, min(dw, round(cw))), max(1, min(dh, round(ch))))
            cw, ch = out
        crop = (ch, cw) if swap else (cw, ch)  # on the stored pixels
        x0, y0 = _place(stored, crop, not whole, spec, focus, interest)
        region = (x0, y0, x0 + crop[0], y0 + crop[1])
    else:
        raise ConfigError(f"fit {spec.fit!r} is not one of inside/cover")
    if spec.format not in CONFIGURABLE:
        raise ConfigError(f"format {spec.format!r} is not one of {'/'.join(CONFIGURABLE)}")
    if swap:
        out = (out[1], out[0])
    return Plan(index, spec, out, region)


def _place(
    full: Size,
    crop: tuple[float, float],
    whole_pixels: bool,
    spec: SizeSpec,
    focus: Point | None,
    interest: Interest | None,
) -> tuple[float, float]:
    """The top-left corner of a ``crop`` of the stored image: centred unless the spec is smart."""
    (fw, fh), (cw, ch) = full, crop
    if not spec.smart or (focus is None and interest is None):
        if whole_pixels:
            return (fw - cw) // 2, (fh - ch) // 2
        return (fw - cw) / 2, (fh - ch) / 2
    if focus is not None:
        x0, y0 = focus[0] * fw - cw / 2, focus[1] * fh - ch / 2
    else:
        assert interest is not None
        x0 = window(interest.columns, cw / fw) * fw
        y0 = window(interest.rows, ch / fh) * fh
    if whole_pixels:
        x0, y0 = round(x0), round(y0)
    return min(max(0.0, x0), fw - cw), min(max(0.0, y0), fh - ch)


def window(profile: Sequence[float], span: float) -> float:
    """Where a window ``span`` long (a fraction of the axis) keeps most of ``profile``: its start.

    The profile is read as constant over each of its cells. Of the windows that start on a
    cell edge (and the centred one), the one that keeps the most wins, the most central of
    equals; it must keep ``SMART_MARGIN`` of the whole more than the centred window, else the
    centred one stays. Then it is recentred on the centroid of what it keeps.
    """
    n, free = len(profile), 1.0 - span
    centre = free / 2
    total = float(sum(profile))
    if n == 0 or free <= 1e-9 or total <= 0:
        return max(0.0, centre)
    cumulative = [0.0]
    for value in profile:
        cumulative.append(cumulative[-1] + value)

    def upto(x: float) -> float:  # the profile's integral from 0 to x (fractions of the axis)
        at = min(max(0.0, x * n), float(n))
        cell = min(int(at), n - 1)
        return cumulative[cell] + (at - cell) * profile[cell]

    def kept(start: float) -> float:
        return upto(start + span) - upto(start)

    starts = sorted({min(free, k / n) for k in range(n + 1)} | {centre})
    best = max(starts, key=lambda s: (kept(s), -abs(s - centre)))
    if kept(best) - kept(centre) <= SMART_MARGIN * total:
        return centre
    for _ in range(SMART_RECENTRE_STEPS):
        moved = min(max(0.0, _centroid(profile, best, best + span) - span / 2), free)
        if abs(moved - best) < 1e-9 or kept(moved) < kept(best) - SMART_MARGIN * total:
            break
        best = moved
    return best


def _centroid(profile: Sequence[float], start: float, end: float) -> float:
    """The centre of mass of ``profile`` between ``start`` and ``end`` (fractions of the axis)."""
    n = len(profile)
    a, b = start * n, end * n
    mass = moment = 0.0
    for cell in range(max(0, int(a)), min(n, int(b) + 1)):
        lo, hi = max(a, cell), min(b, cell + 1)
        if hi > lo:
            weight = (hi - lo) * profile[cell]
            mass += weight
            moment += weight * (lo + hi) / 2
    return moment / mass / n if mass > 0 else (start + end) / 2


def draft_factor(plans: Sequence[Plan]) -> int:
    """Largest JPEG DCT scale (1/8..1) that still leaves every output a >= DRAFT_GAP reduction."""
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
            limit = BICUBIC_MAX_STEP if src.index is not None else BICUBIC_MAX_DECODED_STEP
            resample = "bicubic" if step <= limit else "lanczos"
        out.append(Step(p, src.index, box, resample))
        made.append(_Source(p.index, p.size, (x0, y0), (sx, sy), p.region))
    return out
