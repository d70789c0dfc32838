"""Pillow's global state and its header reader, kept in one place.

Pillow has a process-wide pixel cap (``Image.MAX_IMAGE_PIXELS``) and talks through
``warnings``; ``scope`` makes our own cap the only one and keeps warnings in. ``open_header``
lets Pillow parse a header (never the pixels) and tells a header that was *cut short*
(fetch more, or truncated) from one that is *wrong* (corrupt). The orientation readers
say how the stored pixels must be turned, as browsers do it.
"""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, PngImagePlugin

from ..errors import ImageRejected
from . import heif, rle
from .sparse import Sparse

rle.install()  # BMP RLE a run at a time, not a pixel at a time

# Our format names -> Pillow's plugin names. AVIF only when this Pillow build can read it.
READERS: dict[str, str] = {
    "jpeg": "JPEG",
    "png": "PNG",
    "gif": "GIF",
    "webp": "WEBP",
    "tiff": "TIFF",
    "bmp": "BMP",
}
try:
    from PIL import AvifImagePlugin

    if AvifImagePlugin.SUPPORTED:
        READERS["avif"] = "AVIF"
except ImportError:  # pragma: no cover - depends on the Pillow build
    pass
if heif.available():
    READERS["heif"] = heif.FORMAT
# Readers of our own, used by ``open_header`` and never registered with Pillow (``Image.open``).
_OWN_READERS = {heif.FORMAT: (heif.HeifImageFile, heif.accept)}


def readable(fmt: str) -> str:
    """``fmt`` itself when this Pillow build has a reader for it, else ImageRejected by name."""
    if fmt not in READERS:
        raise ImageRejected("unsupported-format", f"{fmt} (not supported by this build)")
    return fmt


MAX_ICC_BYTES = 16 * 1024 * 1024
"""A PNG's compressed ICC profile may inflate to this (Pillow's 1 MiB cap refuses real printer profiles)."""

_guard_lock = threading.Lock()
_guard_depth = 0
_saved_max_pixels: int | None = None
_saved_text_chunk = PngImagePlugin.MAX_TEXT_CHUNK


@contextmanager
def scope() -> Iterator[None]:
    """Make our ``max_pixels`` the only pixel cap and keep Pillow's warnings in here.

    Pillow's global MAX_IMAGE_PIXELS is lifted (reference-counted, so overlapping calls
    restore it once) because the header check already enforced our own cap, and PNG's
    cap on inflated text-like chunks is raised to ``MAX_ICC_BYTES`` so large real ICC
    profiles are read (the header they come in is itself bounded). Warning
    filters are restored on exit; ``catch_warnings`` is process-wide, which is fine for
    Lambda's one-invocation-per-process model.
    """
    global _guard_depth, _saved_max_pixels, _saved_text_chunk
    with _guard_lock:
        if _guard_depth == 0:
            _saved_max_pixels = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            _saved_text_chunk = PngImagePlugin.MAX_TEXT_CHUNK
            PngImagePlugin.MAX_TEXT_CHUNK = MAX_ICC_BYTES
        _guard_depth += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageRejected("too-many-pixels", str(exc)) from exc
    finally:
        with _guard_lock:
            _guard_depth -= 1
            if _guard_depth == 0:
                Image.MAX_IMAGE_PIXELS = _saved_max_pixels
                PngImagePlugin.MAX_TEXT_CHUNK = _saved_text_chunk


def open_header(view: Sparse | bytes, fmt: str, *, complete: bool = True) -> Image.Image | None:
    """Let Pillow parse the header (never the pixels); None when ``view`` stops too early.

    ``view`` may be plain bytes: the whole file when ``complete``, else its first bytes.
    The format's reader is called directly rather than through ``Image.open``, whose
    "cannot identify image file <...>" hides the reader's reason behind an object repr.
    """
    if isinstance(view, bytes):
        view = Sparse.of(view, len(view) + (0 if complete else 1))
    reader = view.reader()
    if READERS[fmt] not in Image.OPEN and READERS[fmt] not in _OWN_READERS:
        Image.init()
    factory, accept = _OWN_READERS.get(READERS[fmt]) or Image.OPEN[READERS[fmt]]
    try:
        if accept is not None and not accept(reader.read(16)):
            raise SyntaxError(f"not a {READERS[fmt]} file")
        reader.seek(0)
        im = factory(reader)
    except (MemoryError, Image.DecompressionBombError, ImageRejected):
        raise
    except Exception as exc:
        if reader.ran_short or reader.read_all:
            if not view.complete:
                return None
            raise ImageRejected("truncated", f"{fmt} header ends early") from exc
        raise ImageRejected("corrupt", f"{fmt} header rejected: {_reason(exc)}") from exc
    if reader.ran_short and not view.complete:
        return None  # parsed, but something (EXIF, ICC...) was cut: read it whole
    return im


def _reason(exc: Exception) -> str:
    """Pillow's message, without the reprs some messages carry (``<... object at 0x...>``)."""
    text = re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "the file", str(exc)).strip()
    return text or type(exc).__name__


def load(im: Image.Image, fmt: str) -> Image.Image:
    """The decoded pixels of an opened header: ``im`` itself, or for WebP/AVIF its first frame.

    Pillow's WebP and AVIF readers keep their decoder (libwebp holds two canvas-sized
    buffers) and copy the frame it returns into a new image: 16 bytes a pixel at the peak
    for WebP. Here the frame the decoder returns becomes the image's own memory and the
    decoder is dropped, so only the frame remains. Anything unexpected falls back to ``load``.
    """
    decoder = getattr(im, "_decoder", None)
    if fmt == "webp" and hasattr(decoder, "get_next") and getattr(im, "rawmode", None) in ("RGBA", "RGBX"):
        got = decoder.get_next()
        im._decoder = None  # type: ignore[attr-defined]
        del decoder
        if got is None:
            raise EOFError("failed to decode the first WebP frame")
        return Image.frombuffer(im.rawmode, im.size, got[0], "raw", im.rawmode, 0, 1)  # type: ignore[attr-defined]
    if fmt == "avif" and hasattr(decoder, "get_frame") and im.mode in ("RGB", "RGBA"):
        data = decoder.get_frame(0)[0]
        im._decoder = None  # type: ignore[attr-defined]
        del decoder
        if im.mode == "RGBA":
            return Image.frombuffer("RGBA", im.size, data, "raw", "RGBA", 0, 1)
        return Image.frombytes("RGB", im.size, data)
    if fmt == "heif" and isinstance(im, heif.HeifImageFile):
        return im.decode()
    im.load()
    return im


def release(im: Image.Image) -> None:
    """Free an opened image's pixels and decoder once the working copy is made."""
    if hasattr(im, "_decoder"):
        im._decoder = None  # type: ignore[attr-defined]
    im.close()


def exif_orientation(raw: bytes | None) -> int:
    """Orientation tag of a raw EXIF block, 1 when absent or bogus."""
    if not raw:
        return 1
    try:
        exif = Image.Exif()
        exif.load(raw)
        value = exif.get(0x0112, 1)
    except Exception:  # a broken EXIF block must not cost the image
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def orientation(im: Image.Image) -> int:
    """EXIF orientation as browsers apply it (EXIF only, never XMP), read before decoding."""
    raw = im.info.get("exif")
    if raw is None and "Raw profile type exif" in im.info:  # ImageMagick-style PNG text chunk
        try:
            raw = bytes.fromhex("".join(im.info["Raw profile type exif"].split("\n")[3:]))
        except (AttributeError, ValueError):
            raw = None
    tags = getattr(im, "tag_v2", None)  # TIFF keeps the tag in its first IFD
    if raw is None and tags is not None:
        value = tags.get(0x0112, 1)
        return value if isinstance(value, int) and 1 <= value <= 8 else 1
    return exif_orientation(raw)


def upright_after_load(im: Image.Image, fmt: str) -> bool:
    """Whether loading turned the pixels upright already: Pillow's TIFF reader does, and drops the
    tag; libheif applies a HEIF's irot/imir (and its EXIF orientation is never read, see ``heif``)."""
    return fmt == "heif" or (fmt == "tiff" and 0x0112 not in getattr(im, "tag_v2", {}))
