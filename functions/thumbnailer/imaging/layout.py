"""One format-independent account of a header: what the parsers of ``headers``, ``tiff`` and
``containers`` found, for the pixel cap, the cost model (``cost``) and Pillow's own parse.

``read`` walks the header within its bounds (counts of segments, chunks, blocks, tags and
strips; a header end within ``MAX_HEADER_END``), so nothing handed to Pillow afterwards can
make it build millions of entries. ``check_whole`` bounds what only the whole file shows
(a JPEG's scans, a PNG's chunks after the header), before the decoder walks them. No PIL here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ImageRejected
from . import containers, headers, tiff
from .sparse import Sparse

MAX_SCANS = 256
"""JPEG scans: libjpeg re-reads every coefficient of the image for each (progressive files have ~10)."""


@dataclass(frozen=True)
class Layout:
    """What the header says, before any decoder sees it."""

    format: str
    size: tuple[int, int]  # stored (not yet oriented)
    end: int  # bytes the header spans: what Pillow's parser reads
    parts: int  # segments, chunks, sub-blocks or directory entries walked
    frames: int = 1  # a lower bound (GIF, TIFF, WebP); PNG and AVIF: Pillow's count
    coefficients: float = 0.0  # JPEG decoded in several scans: DCT coefficient bytes per pixel
    strip_bytes: int = 0  # TIFF: decoded bytes of the largest strip or tile
    depth: int = 8  # bits per sample (PNG, TIFF, AVIF)
    lossless: bool = False  # WebP VP8L
    rle: bool = False  # BMP RLE4/RLE8
    chroma: str = ""  # AVIF
    webp: containers.WebPHeader | None = None
    tiff: tiff.TiffHeader | None = None


def read(fmt: str, view: Sparse) -> Layout:
    """Walk ``fmt``'s header in ``view``; NeedMore while it runs past what the view can supply."""
    b = view.prefix
    if fmt == "jpeg":
        jpeg = headers.jpeg_header(b)
        return Layout(fmt, jpeg.size, jpeg.end, jpeg.segments, coefficients=jpeg.coefficient_bytes)
    if fmt == "png":
        png = headers.png_header(b)
        return Layout(fmt, png.size, png.end, png.chunks, depth=png.depth)
    if fmt == "gif":
        gif = headers.gif_header(b)
        size = (max(gif.size[0], gif.frame[0]), max(gif.size[1], gif.frame[1]))
        return Layout(fmt, size, gif.end, gif.blocks, frames=headers.gif_frames(b))
    if fmt == "bmp":
        bmp = headers.bmp_header(b)
        return Layout(fmt, bmp.size, bmp.end, 1, depth=bmp.bits, rle=bmp.rle)
    if fmt == "tiff":
        page = tiff.tiff_header(view)
        tiff.fetch_tables(view, page)
        return Layout(
            fmt,
            page.size,
            page.end,
            page.tags,
            frames=page.pages,
            strip_bytes=page.strip_bytes,
            depth=page.bits,
            tiff=page,
        )
    if fmt == "webp":
        web = containers.webp_header(view)
        return Layout(fmt, web.size, 30, web.chunks, frames=web.frames, lossless=web.lossless, webp=web)
    avif = containers.avif_header(b)
    return Layout(fmt, avif.size, len(b), 1, depth=avif.depth, chroma=avif.chroma)


def stored_size(fmt: str, b: bytes) -> tuple[int, int]:
    """Stored (not yet oriented) pixel size from a prefix of the file; NeedMore when it stops short."""
    return read(fmt, Sparse.of(b, total=1 << 62)).size


def check_whole(fmt: str, data: bytes, layout: Layout) -> None:
    """Bounds only the whole file shows, checked before a decoder walks them."""
    if fmt == "jpeg" and layout.coefficients:  # multi-scan: libjpeg runs every scan over the image
        scans = 1 + data.count(b"\xff\xda", layout.end)  # the marker never occurs inside scan data
        if scans > MAX_SCANS:
            raise ImageRejected("too-many-scans", f"JPEG has {scans} scans, more than {MAX_SCANS}")
    elif fmt == "png":
        headers.png_chunks(data)
