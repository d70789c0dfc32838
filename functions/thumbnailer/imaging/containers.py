"""WebP (RIFF chunks) and AVIF (ISO boxes): size, pixel layout and frames from the container alone.

Pillow's WebP and AVIF readers hand the whole file to libwebp or libavif, so the pixel cap
and the cost model are fed from our own walk of the container: the first image chunk or
box, its mode and depth, and a bounded count of the rest. WebP keeps its EXIF (and so the
orientation) after the image data: a ``Sparse`` view with a fetch reads just that chunk.
No PIL here.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ImageRejected
from . import isobmff
from .headers import MAX_HEADER_END, NeedMore, _corrupt, _u16le, _u32be, _u32le
from .sparse import Sparse

MAX_CHUNKS = 1 << 17
"""RIFF chunks in a whole WebP (libwebp's demuxer keeps a record for every frame)."""
MAX_BOXES = 4096
"""ISO boxes walked in an AVIF's meta box."""
MAX_EXIF_BYTES = 1 << 20
_EXIF_FETCHES = 3  # a still WebP: the image chunk, then EXIF and XMP; an animation is not walked


@dataclass(frozen=True)
class WebPHeader:
    """What the chunks of a WebP say, without a decoder."""

    size: tuple[int, int]
    mode: str
    frames: int
    exif: bytes | None
    exif_missing: bool  # the header promises EXIF that lies beyond what could be read
    lossless: bool = False
    chunks: int = 1
    animated: bool = False
    icc: bytes | None = None


def webp_header(data: bytes | Sparse) -> WebPHeader:
    """Parse VP8/VP8L/VP8X ourselves: Pillow's WebP reader needs the whole file and a canvas."""
    view = data if isinstance(data, Sparse) else Sparse.of(data)
    b = view.prefix
    if len(b) < 30:
        raise NeedMore
    fourcc, at = b[12:16], 20
    if fourcc == b"VP8 ":
        if b[at + 3 : at + 6] != b"\x9d\x01\x2a":
            raise _corrupt("VP8 key frame start code missing")
        size = (_u16le(b, at + 6) & 0x3FFF, _u16le(b, at + 8) & 0x3FFF)
        return WebPHeader(size, "RGB", 1, None, False)
    if fourcc == b"VP8L":
        if b[at] != 0x2F:
            raise _corrupt("VP8L signature missing")
        bits = _u32le(b, at + 1)
        size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        return WebPHeader(size, "RGBA" if bits >> 28 & 1 else "RGB", 1, None, False, lossless=True)
    if fourcc != b"VP8X":
        raise _corrupt(f"unknown first WebP chunk {fourcc!r}")
    flags = b[at]
    size = (
        int.from_bytes(b[at + 4 : at + 7], "little") + 1,
        int.from_bytes(b[at + 7 : at + 10], "little") + 1,
    )
    animated = bool(flags & 0x02)
    frames, exif, icc, lossless, chunks = 0, None, None, False, 1
    alpha = bool(flags & 0x10)
    i = 12 + 8 + _u32le(b, 16)
    while i + 8 <= view.total:
        if not view.has(i, 8) and (view.fetch is None or animated or view.fetches >= _EXIF_FETCHES):
            break  # past what we hold, and not worth a request
        head = view.read(i, 8)
        fourcc, length = head[:4], _u32le(head, 4)
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise ImageRejected("too-many-chunks", f"WebP has more than {MAX_CHUNKS} chunks")
        if fourcc == b"ANMF":
            frames += 1
        elif fourcc == b"ALPH" and frames == 0:
            alpha = True  # libwebp decodes an ALPH chunk whatever the VP8X flag says
        elif fourcc == b"VP8L" and frames == 0:
            lossless = True
            if view.has(i + 8, 5) and _u32le(view.read(i + 9, 4), 0) >> 28 & 1:
                alpha = True  # the VP8L header's alpha_is_used bit, as libwebp reads it
        elif fourcc == b"EXIF" and exif is None and length <= MAX_EXIF_BYTES:
            try:
                exif = view.read(i + 8, length)
            except NeedMore:
                break
        elif fourcc == b"ICCP" and icc is None and view.has(i + 8, length):
            icc = view.read(i + 8, length)
        i += 8 + length + (length & 1)
    mode = "RGBA" if alpha else "RGB"
    missing = bool(flags & 0x08) and exif is None
    return WebPHeader(size, mode, max(frames, 1), exif, missing, lossless, chunks, animated, icc)


@dataclass(frozen=True)
class AvifHeader:
    size: tuple[int, int]  # the largest image extent: the primary image or its grid
    depth: int  # bits per channel (pixi), 8 when not said
    chroma: str  # "444", "422", "420" or "400" (av1C), "420" when not said


def avif_size(b: bytes) -> tuple[int, int]:
    """Largest ``ispe`` (image spatial extent) in meta/iprp/ipco: the primary image or grid."""
    return avif_header(b).size


def avif_header(b: bytes) -> AvifHeader:
    """Walk meta -> iprp -> ipco for ispe, pixi and av1C; NeedMore while the meta box is cut short.

    A HEIF (HEIC) shares the container: its header is ``isobmff``'s walk to the primary item,
    and its size here the largest image libheif will allocate for it.
    """
    if isobmff.is_heif(b):
        heic = isobmff.heif_header(b)
        return AvifHeader(heic.largest, heic.depth, heic.chroma)
    best: tuple[int, int] | None = None
    depth, chroma = 8, "420"
    meta_complete = False
    boxes = 0

    def walk(start: int, end: int, path: tuple[bytes, ...]) -> None:
        nonlocal best, meta_complete, depth, chroma, boxes
        i = start
        while i + 8 <= end:
            boxes += 1
            if boxes > MAX_BOXES:
                raise ImageRejected("too-many-chunks", f"AVIF has more than {MAX_BOXES} boxes in its header")
            size, kind = _u32be(b, i), b[i + 4 : i + 8]
            header = 8
            if size == 1:
                if i + 16 > end:
                    return
                size, header = int.from_bytes(b[i + 8 : i + 16], "big"), 16
            elif size == 0:
                size = len(b) - i
            if size < header:
                raise _corrupt(f"AVIF box {kind!r} has size {size}")
            body, stop = i + header, min(i + size, end)
            # Only meta -> iprp -> ipco is followed, so crafted nesting cannot recurse deeply.
            if (path, kind) == ((), b"meta"):
                if body > MAX_HEADER_END:
                    raise ImageRejected(
                        "header-too-large", f"AVIF meta box starts past {MAX_HEADER_END} bytes"
                    )
                walk(body + 4, stop, (kind,))
                meta_complete = i + size <= len(b)
            elif (path, kind) in (((b"meta",), b"iprp"), ((b"meta", b"iprp"), b"ipco")):
                walk(body, stop, (*path, kind))
            elif path[-1:] == (b"ipco",):
                if kind == b"ispe" and body + 12 <= stop:
                    w, h = _u32be(b, body + 4), _u32be(b, body + 8)
                    if best is None or w * h > best[0] * best[1]:
                        best = (w, h)
                elif kind == b"pixi" and body + 6 <= stop and b[body + 4]:
                    depth = max(depth, b[body + 5])
                elif kind == b"av1C" and body + 3 <= stop:
                    bits = b[body + 2]
                    depth = max(depth, 12 if bits & 0x20 else 10 if bits & 0x40 else 8)
                    chroma = (
                        "400"
                        if bits & 0x10
                        else {(1, 1): "420", (1, 0): "422"}.get(((bits >> 3) & 1, (bits >> 2) & 1), "444")
                    )
            i += size

    walk(0, len(b), ())
    if best is None:
        if meta_complete:
            raise _corrupt("AVIF meta box has no image size (ispe)")
        raise NeedMore
    return AvifHeader(best, depth, chroma)
