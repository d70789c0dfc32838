"""Decoding: as few pixels as the sizes need, into one of a few working modes.

A JPEG is decoded at the largest DCT scale (1/8..1) that still leaves every output a
~2x reduction (``geometry.draft_factor``), and any decoded mode is brought to L, LA,
RGB, RGBA or CMYK, so resizing, colour and encoding deal with five modes, not twenty.
Pillow's load errors are sorted into cut-short files and everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageCms

from ..errors import ImageRejected
from ..spec import SizeSpec
from . import bands, colour, geometry, pillow, webp
from .layout import Layout

# Modes render knows how to bring to L/LA/RGB/RGBA/CMYK; anything else is refused by name.
KNOWN_MODES = frozenset(
    {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}
    | {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
)


def check_mode(im: Image.Image, fmt: str) -> None:
    """Refuse, before decoding, a pixel mode we cannot bring to a working mode."""
    if im.mode not in KNOWN_MODES:
        raise ImageRejected("unsupported-format", f"{fmt} with pixel mode {im.mode}")


@dataclass(frozen=True)
class Working:
    """Decoded pixels in a working mode.

    ``mode`` is L, LA, RGB, RGBA or CMYK. An RGB ``mode`` may be stored as RGBA or RGBX
    whose alpha is opaque: converting 100 MP to RGB would need a second 400 MB image, while
    resizing it as stored and converting each small output gives the same pixels.
    """

    image: Image.Image
    mode: str


@dataclass(frozen=True)
class Decoded:
    """The pixels, ready to resize."""

    image: Image.Image  # in ``mode``, or holding an opaque alpha (see ``Working``)
    mode: str  # L, LA, RGB, RGBA or CMYK
    factor: float  # decoded pixels per original stored pixel (below 1 after a JPEG draft)
    stored: geometry.Size  # the original stored size the geometry works in
    orientation: int  # EXIF orientation still to apply to each output


def decode(
    im: Image.Image | None,
    fmt: str,
    specs: Sequence[SizeSpec],
    orientation: int,
    *,
    data: bytes = b"",
    layout: Layout | None = None,
) -> Decoded:
    """Load the pixels of an opened header, drafted for ``specs``, in a working mode.

    ``im`` is spent: its pixels are released as soon as the working copy exists, so a
    conversion never holds two full-size images plus the decoder's own. ``im`` None is a
    still WebP (``layout``) that libwebp decodes from ``data`` itself.
    """
    if im is None:
        assert layout is not None and layout.webp is not None
        alpha = layout.webp.mode == "RGBA"
        scaled = None if alpha else _scaled_size(layout.size, specs, orientation)
        direct = webp.decode(data, layout.size, alpha=alpha, scaled=scaled)
        if direct is not None:
            return Decoded(
                direct,
                "RGB" if direct.mode == "RGBX" else _alpha_checked(direct),
                direct.width / layout.size[0],
                layout.size,
                orientation,
            )
        im = pillow.open_header(data, fmt)  # libwebp refused: let Pillow's reader say why
        assert im is not None
    full = im.size  # for TIFF, Pillow already reports the oriented size
    factor = 1.0
    if fmt == "jpeg":
        k = _scale_down(full, specs, orientation)
        if k > 1:
            drafted = im.draft(im.mode, geometry.draft_request(full, k))
            if drafted is not None:
                factor = drafted[1][2] / full[0]
    try:
        pixels = pillow.load(im, fmt)
    except (MemoryError, ImageRejected, Image.DecompressionBombError):
        raise
    except Exception as exc:
        raise decode_error(exc, fmt) from exc
    if pillow.upright_after_load(im, fmt):
        orientation = 1
        full = pixels.size
    try:
        working = working_mode(pixels)
    except (ValueError, OSError, ImageCms.PyCMSError) as exc:
        raise ImageRejected("corrupt", f"{fmt} {pixels.mode} pixels cannot be converted: {exc}") from exc
    if working.image is not im:
        pillow.release(im)
    return Decoded(working.image, working.mode, factor, full, orientation)


def _scale_down(stored: geometry.Size, specs: Sequence[SizeSpec], orientation: int) -> int:
    """1/k: how far a JPEG's DCT or libwebp's rescaler may scale this image down on load."""
    swap = geometry.swaps_axes(orientation)
    return geometry.draft_factor([geometry.plan(i, s, stored, swap) for i, s in enumerate(specs)])


def _scaled_size(stored: geometry.Size, specs: Sequence[SizeSpec], orientation: int) -> geometry.Size | None:
    """The size an opaque still WebP is decoded at (the same scales as a JPEG draft), or None
    for its stored size. Only opaque: libwebp rescales a lossy image's alpha plane apart from
    its colour, which would not be a premultiplied resize."""
    k = _scale_down(stored, specs, orientation)
    return geometry.draft_request(stored, k) if k > 1 else None


def decode_error(exc: Exception, fmt: str) -> ImageRejected:
    """Pillow's load errors, sorted into cut-short files and everything else."""
    message = str(exc).strip()  # libheif ends its messages with a newline
    lowered = message.lower()
    if isinstance(exc, EOFError) or any(
        word in lowered for word in ("truncated", "premature end", "end of file", "not enough data")
    ):
        return ImageRejected("truncated", f"{fmt}: {message or type(exc).__name__}")
    return ImageRejected("corrupt", f"{fmt}: {type(exc).__name__}: {message}")


def _sixteen_to_l(band: Image.Image) -> Image.Image:
    # 16-bit samples: 0..65535 maps onto 0..255 (convert("L") alone would clip to white).
    return band.convert("I").point(lambda v: v * (1 / 257)).convert("L")


def _scaled_to_l(mode: str, scale: float, offset: float) -> Callable[[Image.Image], Image.Image]:
    def to_l(band: Image.Image) -> Image.Image:
        if mode == "I":
            band = band.convert("F")
        return band.point(lambda v: v * scale + offset).convert("L")

    return to_l


def _lab_to_rgb(band: Image.Image) -> Image.Image:
    converted = ImageCms.profileToProfile(
        band, ImageCms.createProfile("LAB"), colour.srgb(), outputMode="RGB"
    )
    assert converted is not None
    return converted


def _alpha_checked(im: Image.Image) -> str:
    """The working mode of a decoded RGBA image: RGBA only if its alpha is really used."""
    return "RGBA" if bands.alpha_used(im) else "RGB"


def working_mode(im: Image.Image) -> Working:
    """Bring any decoded mode to L, LA, RGB, RGBA or CMYK; alpha only if it is really used.

    A conversion Pillow makes in one step allocates just its result; the chains that pass
    through full-size 32-bit copies (16-bit and 32-bit grey to 8 bits) run band by band
    (``bands.convert``), so only the source and the result are ever held in full. An RGBA
    image whose alpha is opaque is kept as it is (``Working``) rather than copied to RGB.
    """
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        im = bands.convert(im, "L", _sixteen_to_l)
    elif mode in ("I", "F"):
        lo, hi = im.getextrema()
        if mode == "F" and lo >= 0 and hi <= 1:  # type: ignore[operator]
            scale, offset = 255.0, 0.0
        elif lo >= 0 and hi <= 255:  # type: ignore[operator]
            scale, offset = 1.0, 0.0
        elif mode == "I" and lo >= 0 and hi <= 65535:  # type: ignore[operator]
            scale, offset = 1 / 257, 0.0
        else:
            scale = 255 / (hi - lo) if hi > lo else 0.0  # type: ignore[operator]
            offset = -lo * scale  # type: ignore[operator]
        im = bands.convert(im, "L", _scaled_to_l(mode, scale, offset))
    elif mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info or im.palette.mode == "RGBA" else "RGB")
    elif mode in ("1", "L") and "transparency" in im.info:
        im = im.convert("LA")
    elif mode == "1":
        im = im.convert("L")
    elif mode in ("PA", "RGBa") or (mode == "RGB" and "transparency" in im.info):
        im = im.convert("RGBA")
    elif mode == "La":
        im = im.convert("LA")
    elif mode in ("YCbCr", "HSV"):
        im = im.convert("RGB")
    elif mode == "LAB":
        im = _lab_to_rgb(im)
    if im.mode == "RGBX":
        return Working(im, "RGB")  # resized as stored, each output converted
    if im.mode in ("LA", "RGBA") and not bands.alpha_used(im):
        # Opaque alpha is no alpha: smaller, faster, JPEG-able.
        if im.mode == "RGBA":
            return Working(im, "RGB")
        im = im.convert("L")
    return Working(im, im.mode)
