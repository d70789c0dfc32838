"""The image engine: identify, probe and render thumbnails. The only package that imports PIL.

Three steps, each cheaper than the next:

* ``sniff`` names the format from magic bytes, so a file name never decides how bytes are
  parsed and non-images are rejected with a reason a human can act on.
* ``probe`` reads only the header (the caller fetches ``HEADER_BYTES`` first, and ranges a
  header points to through ``fetch``), so a decompression bomb is refused before its pixels
  are ever downloaded, and estimates what rendering will cost (``check_cost`` refuses what
  would not fit the render function, ``too-costly``).
* ``render`` decodes once and derives every size from that single decode, largest first,
  never holding a second full-size copy of the pixels. A ``smart`` cover crop is placed on
  a given focal point (a face) or by the image's own attention scores; every rendition
  carries the source's placeholder (a BlurHash and a colour, from a tiny whole-frame rendition).

Both ``probe`` and ``render`` start with the same header prologue (``_read_header``): our
own bounded walk of the header (``layout``), then Pillow's parse of it. Nothing here talks
to S3 or logs: errors are ``ImageRejected`` with a stable reason slug.

Modules: ``identify`` (magic bytes), ``headers``, ``tiff`` and ``containers`` (each format's
header, within bounds), ``sparse`` (the bytes read so far), ``layout`` (what they found),
``cost`` (the cost model), ``geometry`` (fit, crop placement, draft, which image feeds
which size), ``attention`` (where an image is interesting), ``pillow`` (Pillow's global
state, header parse, orientation), ``decode`` (with ``webp`` and ``rle``, decoders Pillow
lacks), ``bands`` (whole-image work a band at a time), ``colour``, ``pixels``, ``encode`` and
``placeholder``. Only the names below are the engine's interface.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image

from .. import formats
from ..errors import ImageRejected
from ..spec import SizeSpec
from . import (
    attention,
    colour,
    cost,
    decode,
    encode,
    geometry,
    headers,
    identify,
    layout,
    pillow,
    pixels,
    webp,
)
from . import placeholder as placeholders
from .cost import Estimate, Limits
from .geometry import Point
from .headers import HEADER_BYTES, MAX_HEADER_END, NeedMore
from .layout import Layout
from .placeholder import Placeholder
from .sparse import Fetch, Sparse

MAX_HEADER_BYTES = MAX_HEADER_END
__all__ = [
    "HEADER_BYTES",
    "MAX_HEADER_BYTES",
    "Estimate",
    "ImageFacts",
    "Limits",
    "Placeholder",
    "Point",
    "Rendition",
    "check_cost",
    "probe",
    "render",
    "sniff",
]


@dataclass(frozen=True)
class ImageFacts:
    """What the header says about an image, before any pixel is decoded."""

    format: str
    width: int  # as displayed, i.e. after EXIF orientation
    height: int
    mode: str  # PIL mode of the stored image
    orientation: int  # EXIF orientation 1..8
    frames: int  # best effort, from headers only
    cost: cost.Estimate | None = field(default=None, compare=False)  # of rendering the specs probed for
    layout: Layout | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Rendition:
    """One encoded thumbnail, ready to upload."""

    spec: SizeSpec
    width: int
    height: int
    format: str
    extension: str
    content_type: str
    body: bytes
    placeholder: Placeholder | None = None  # the source's, the same on every rendition of one render


def sniff(head: bytes) -> str:
    """Name the format from magic bytes, or say precisely why this is not an image we take."""
    return pillow.readable(identify.format_of(head))


@dataclass(frozen=True)
class _Header:
    format: str
    layout: Layout  # our own walk of the header bytes
    image: Image.Image | None  # Pillow's parse, pixels not loaded; None for a WebP probe


def _read_header(view: Sparse, *, max_pixels: int, for_decode: bool) -> _Header | None:
    """Sniff, walk the header within its bounds, check the pixel cap, let Pillow parse it.

    Call inside ``pillow.scope()``. None when ``view`` (not complete) stops inside the
    header. A WebP probe (not ``for_decode``) skips Pillow, whose WebP reader needs the
    whole file: its facts come from our own parse.
    """
    if not view.complete and len(view.prefix) < 32:
        return None  # too little even to sniff reliably
    fmt = sniff(view.prefix)
    try:
        lay = layout.read(fmt, view)
    except NeedMore:
        if not view.complete:
            return None
        raise ImageRejected("truncated", f"{fmt} header ends early") from None
    except (struct.error, IndexError) as exc:
        raise ImageRejected("corrupt", f"{fmt} header is malformed: {exc}") from exc
    headers.check_pixels(lay.size, max_pixels)
    if fmt == "webp" and (not for_decode or _direct_webp(lay)):
        return _Header(fmt, lay, None)
    im = pillow.open_header(view, fmt)
    if im is None:
        return None
    headers.check_pixels(im.size, max_pixels)  # GIF frames may enlarge the logical screen
    return _Header(fmt, lay, im)


def _direct_webp(lay: Layout) -> bool:
    """A still WebP is decoded by libwebp itself (``webp``), never opened by Pillow."""
    return lay.webp is not None and not lay.webp.animated and webp.available()


def probe(
    head: bytes,
    *,
    total_bytes: int,
    max_pixels: int,
    fetch: Fetch | None = None,
    specs: Sequence[SizeSpec] = (),
) -> ImageFacts | None:
    """Facts from the first bytes of an object, or None if the header needs more bytes.

    ``fetch(first, last)`` reads other ranges of the object, for the headers that point
    elsewhere (a TIFF directory at the end, a WebP's EXIF after the pixels). ``cost``
    in the facts is the estimate of rendering ``specs`` from one decode.
    """
    view = Sparse.of(head, total_bytes, fetch)
    with pillow.scope():
        header = _read_header(view, max_pixels=max_pixels, for_decode=False)
        if header is None:
            return None
        fmt, im, lay = header.format, header.image, header.layout
        if im is None:  # WebP: our own parse has it all
            web = lay.webp
            assert web is not None
            if web.exif_missing and not view.complete and fetch is None:
                return None  # orientation lives in a trailing EXIF chunk
            orientation = pillow.exif_orientation(web.exif)
            mode, frames = web.mode, web.frames
        else:
            orientation = pillow.orientation(im)
            mode = im.mode
            frames = getattr(im, "n_frames", 1) if fmt in ("png", "avif") else lay.frames
        # Pillow's TIFF reader reports the already-oriented size; the header has the stored one.
        stored = lay.size if im is None or fmt == "tiff" else im.size
        width, height = geometry.displayed(stored, orientation)
        estimate = cost.estimate(lay, mode, total_bytes, specs, orientation, webp.available())
        return ImageFacts(fmt, width, height, mode, orientation, frames, estimate, lay)


def check_cost(facts: ImageFacts, specs: Sequence[SizeSpec], source_bytes: int, limits: Limits) -> Estimate:
    """Refuse by name (``too-costly``) rendering ``specs`` from this image within ``limits``."""
    assert facts.layout is not None, "facts from probe"
    estimate = cost.estimate(
        facts.layout, facts.mode, source_bytes, specs, facts.orientation, webp.available()
    )
    cost.check(estimate, limits)
    return estimate


def render(
    data: bytes, specs: Sequence[SizeSpec], *, max_pixels: int, focus: Point | None = None
) -> list[Rendition]:
    """Decode ``data`` once and make every spec from it, in the order of ``specs``.

    ``focus`` is a point of the image as displayed (fractions of its width and height, e.g.
    the centre of a face) that ``smart`` cover crops centre on; without it they are placed
    by the image's attention scores. Other sizes ignore it.
    """
    with pillow.scope():
        header = _read_header(Sparse.of(data), max_pixels=max_pixels, for_decode=True)
        assert header is not None  # complete: never asks for more
        fmt, im, lay = header.format, header.image, header.layout
        layout.check_whole(fmt, data, lay)
        if im is None:  # a still WebP: our own parse has what Pillow's would
            assert lay.webp is not None
            orientation, icc = pillow.exif_orientation(lay.webp.exif), lay.webp.icc
        else:
            decode.check_mode(im, fmt)
            orientation, icc = pillow.orientation(im), im.info.get("icc_profile")
        if not specs:
            return []
        decoded = decode.decode(im, fmt, specs, orientation, data=data, layout=lay)
        orientation_left = decoded.orientation
        swap = geometry.swaps_axes(orientation_left)
        base = decoded.image
        smart = any(s.smart for s in specs)
        point = geometry.stored_point(focus, orientation_left) if smart and focus is not None else None
        seen = attention.interest(base, decoded.mode) if smart and point is None else None
        plans = [
            geometry.plan(i, s, decoded.stored, swap, focus=point, interest=seen) for i, s in enumerate(specs)
        ]
        whole = geometry.plan(len(plans), placeholders.SPEC, decoded.stored, swap)
        transform = colour.to_srgb(icc, decoded.mode)
        transparent = decoded.mode in ("LA", "RGBA")
        sized = pixels.resize(geometry.steps([*plans, whole], base.size, decoded.factor), base, decoded.mode)
        del base, decoded, header, im, lay  # the full-size pixels go before the encoders start
        hint = placeholders.of(pixels.finish(sized.pop(whole.index), orientation_left, transform))
        renditions = []
        for plan in plans:
            out = pixels.finish(sized[plan.index], orientation_left, transform)
            output = formats.resolve(plan.spec.format, transparent=transparent)
            body = encode.encode(out, output.name, plan.spec.quality)
            renditions.append(
                Rendition(
                    plan.spec,
                    out.width,
                    out.height,
                    output.name,
                    output.extension,
                    output.content_type,
                    body,
                    hint,
                )
            )
        return renditions
