"""Stored size and frame counts straight from header bytes, before any decoder sees them.

Parsed here rather than by Pillow so the pixel cap is enforced on what the file *claims*
(a 100-byte PNG may claim 100000x100000) and so ``probe`` can say "fetch more" instead of
failing when a header runs past the first read. No PIL here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import ImageRejected

HEADER_BYTES: int = 64 * 1024
"""Fetch this much first: enough for the header (incl. EXIF/ICC) of nearly every real file."""


class NeedMore(Exception):
    """The header runs past the bytes we have."""


def _u16be(b: bytes, i: int) -> int:
    if i + 2 > len(b):
        raise NeedMore
    return (b[i] << 8) | b[i + 1]


def _u16le(b: bytes, i: int) -> int:
    if i + 2 > len(b):
        raise NeedMore
    return b[i] | (b[i + 1] << 8)


def _u32be(b: bytes, i: int) -> int:
    if i + 4 > len(b):
        raise NeedMore
    return int.from_bytes(b[i : i + 4], "big")


def _u32le(b: bytes, i: int) -> int:
    if i + 4 > len(b):
        raise NeedMore
    return int.from_bytes(b[i : i + 4], "little")


def _corrupt(detail: str) -> ImageRejected:
    return ImageRejected("corrupt", detail)


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Refuse a size with no pixels, or with more than ``max_pixels``, by name."""
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageRejected("zero-dimensions", f"header says {width}x{height}")
    if width * height > max_pixels:
        raise ImageRejected("too-many-pixels", f"{width}x{height} = {width * height} pixels > {max_pixels}")


# --------------------------------------------------------------------------------------
# JPEG, PNG, GIF, BMP

_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
MAX_SEGMENTS = 1024
"""JPEG marker segments before the first scan; Pillow keeps a Python object for every one."""
MAX_HEADER_END = 4 * 1024 * 1024
"""A header must end within this many bytes of the start (Validate never reads more)."""


@dataclass(frozen=True)
class JpegHeader:
    """What a JPEG says up to its first scan: the frame, and how libjpeg will have to buffer it."""

    size: tuple[int, int]
    components: int
    coefficient_bytes: float  # per pixel, when libjpeg holds every DCT coefficient (multi-scan)
    segments: int
    end: int  # just past the first scan header: all Pillow's parser reads


def jpeg_size(b: bytes) -> tuple[int, int]:
    """The frame header's (stored) size; NeedMore when ``b`` stops before it."""
    return jpeg_header(b, to_scan=False).size


def jpeg_header(b: bytes, to_scan: bool = True) -> JpegHeader:
    """Walk marker segments to the frame header (SOFn), and on to the first scan (SOS).

    Junk between segments is skipped like libjpeg does. More than ``MAX_SEGMENTS`` segments
    (``too-many-segments``) or a first scan past ``MAX_HEADER_END`` (``header-too-large``)
    is refused before any decoder builds one entry per segment.
    """
    i, segments = 2, 0
    frame: tuple[tuple[int, int], list[tuple[int, int]], bool] | None = None
    while True:
        while i < len(b) and b[i] != 0xFF:
            i += 1
        while i < len(b) and b[i] == 0xFF:
            i += 1
        if i >= len(b):
            raise NeedMore
        marker = b[i]
        i += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8 or marker == 0x00:
            continue  # standalone markers, stuffed bytes in junk
        if marker == 0xD9 or (marker == 0xDA and frame is None):
            raise _corrupt("JPEG has no frame header before its scan data")
        segments += 1
        if segments > MAX_SEGMENTS:
            raise ImageRejected(
                "too-many-segments",
                f"JPEG has more than {MAX_SEGMENTS} marker segments before its first scan",
            )
        length = _u16be(b, i)
        if length < 2:
            raise _corrupt(f"JPEG segment 0x{marker:02X} has length {length}")
        if marker == 0xF7:
            raise ImageRejected("unsupported-format", "jpeg-ls")
        if marker in _JPEG_SOF and frame is None:
            size = (_u16be(b, i + 5), _u16be(b, i + 3))
            if not to_scan:
                return JpegHeader(size, 0, 0.0, segments, i + length)
            count = _byte(b, i + 7)
            sampling = [(_byte(b, i + 9 + 3 * c) >> 4, _byte(b, i + 9 + 3 * c) & 15) for c in range(count)]
            frame = (size, sampling, marker in _JPEG_PROGRESSIVE)
        if marker == 0xDA and frame is not None:
            size, sampling, progressive = frame
            whole = progressive or _byte(b, i + 2) < len(sampling)  # non-interleaved: several scans
            return JpegHeader(
                size, len(sampling), _coefficients(sampling) if whole else 0.0, segments, i + length
            )
        i += length
        if i > MAX_HEADER_END:
            raise ImageRejected(
                "header-too-large", f"JPEG metadata runs past {MAX_HEADER_END} bytes before the first scan"
            )


def _coefficients(sampling: list[tuple[int, int]]) -> float:
    """Bytes per pixel of a whole-image coefficient buffer: 64 two-byte coefficients a block."""
    hmax = max((h for h, _ in sampling), default=1) or 1
    vmax = max((v for _, v in sampling), default=1) or 1
    return sum(2.0 * h * v / (hmax * vmax) for h, v in sampling)


def _byte(b: bytes, i: int) -> int:
    if i >= len(b):
        raise NeedMore
    return b[i]


def png_size(b: bytes) -> tuple[int, int]:
    if len(b) < 24:
        raise NeedMore
    if b[12:16] != b"IHDR":
        raise _corrupt("PNG does not start with an IHDR chunk")
    return _u32be(b, 16), _u32be(b, 20)


MAX_PNG_HEADER_CHUNKS = 1024
"""PNG chunks before the image data; Pillow's reader handles each one in Python."""
MAX_CHUNKS = 1 << 17
"""Chunks in a whole PNG or WebP (8 KB image data chunks make 6,400 in 50 MB)."""


@dataclass(frozen=True)
class PngHeader:
    """IHDR and the chunks before the first image data chunk."""

    size: tuple[int, int]
    depth: int
    colour_type: int
    interlaced: bool
    animated: bool
    chunks: int
    end: int  # where the first IDAT chunk starts


def png_header(b: bytes) -> PngHeader:
    """Walk the chunks up to the first IDAT, refusing more than ``MAX_PNG_HEADER_CHUNKS``."""
    size = png_size(b)
    depth, colour_type, interlace = _byte(b, 24), _byte(b, 25), _byte(b, 28)
    i, chunks, animated, profiles = 8, 0, False, 0
    while True:
        length, kind = _u32be(b, i), b[i + 4 : i + 8]
        if len(kind) < 4:
            raise NeedMore
        chunks += 1
        if kind == b"IDAT":
            return PngHeader(size, depth, colour_type, interlace == 1, animated, chunks, i)
        if kind == b"IEND":
            raise _corrupt("PNG has no image data")
        if length > 0x7FFFFFFF:
            raise _corrupt(f"PNG chunk {kind!r} claims {length} bytes")
        if chunks > MAX_PNG_HEADER_CHUNKS:
            raise ImageRejected(
                "too-many-chunks", f"PNG has more than {MAX_PNG_HEADER_CHUNKS} chunks before its image data"
            )
        animated = animated or kind == b"acTL"
        profiles += kind == b"iCCP"
        if profiles > 1:  # each would be inflated (up to 16 MiB) in turn; PNG allows one
            raise _corrupt("PNG has more than one ICC profile (iCCP chunk)")
        i += 12 + length
        if i > MAX_HEADER_END:
            raise ImageRejected(
                "header-too-large", f"PNG chunks run past {MAX_HEADER_END} bytes before the image data"
            )


def png_chunks(b: bytes) -> int:
    """Every chunk of a whole PNG, up to IEND: refused past ``MAX_CHUNKS`` (``too-many-chunks``)."""
    i, chunks = 8, 0
    while i + 8 <= len(b):
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise ImageRejected("too-many-chunks", f"PNG has more than {MAX_CHUNKS} chunks")
        if b[i + 4 : i + 8] == b"IEND":
            break
        i += 12 + int.from_bytes(b[i : i + 4], "big")
    return chunks


def gif_size(b: bytes) -> tuple[int, int]:
    """The logical screen; a frame may still be larger (the Pillow layer checks that too)."""
    if len(b) < 10:
        raise NeedMore
    return struct.unpack_from("<HH", b, 6)


MAX_GIF_BLOCKS = 1 << 16
"""GIF extension sub-blocks (and stray bytes) before the first image; Pillow reads each in Python."""


@dataclass(frozen=True)
class GifHeader:
    """The logical screen and the blocks up to the first image descriptor."""

    size: tuple[int, int]  # logical screen
    frame: tuple[int, int]  # the first image, which Pillow may let enlarge the screen
    blocks: int
    end: int  # just past the first image descriptor (and its colour table)


def gif_header(b: bytes) -> GifHeader:
    """Walk extensions to the first image, refusing more than ``MAX_GIF_BLOCKS`` sub-blocks."""
    size = gif_size(b)
    i = 13 + (3 * (2 << (_byte(b, 10) & 7)) if _byte(b, 10) & 0x80 else 0)
    blocks = 0
    while True:
        block = _byte(b, i)
        if block == 0x2C:
            frame = (_u16le(b, i + 5), _u16le(b, i + 7))
            flags = _byte(b, i + 9)
            return GifHeader(size, frame, blocks, i + 10 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0))
        if block == 0x3B:
            raise _corrupt("GIF has no image")
        if block == 0x21:
            i += 2
            while (length := _byte(b, i)) != 0:
                blocks += 1
                if blocks > MAX_GIF_BLOCKS:
                    break
                i += 1 + length
            i += 1
        else:
            blocks += 1  # a stray byte: Pillow skips it, one read at a time
            i += 1
        if blocks > MAX_GIF_BLOCKS:
            raise ImageRejected(
                "too-many-blocks", f"GIF has more than {MAX_GIF_BLOCKS} blocks before its first image"
            )
        if i > MAX_HEADER_END:
            raise ImageRejected("header-too-large", f"GIF extensions run past {MAX_HEADER_END} bytes")


def gif_frames(b: bytes) -> int:
    """Count image descriptors among the bytes we have: a lower bound, never a full scan."""
    if len(b) < 13:
        return 1
    i, frames, steps = 13, 0, 0
    if b[10] & 0x80:
        i += 3 * (2 << (b[10] & 7))

    def skip_blocks(i: int) -> int:
        nonlocal steps
        while i < len(b) and steps < MAX_GIF_BLOCKS * 4:
            steps += 1
            if b[i] == 0:
                return i + 1
            i += 1 + b[i]
        return len(b)

    while i < len(b):
        block = b[i]
        if block == 0x21:
            i = skip_blocks(i + 2)
        elif block == 0x2C and i + 10 <= len(b):
            frames += 1
            flags = b[i + 9]
            i += 10 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
            i = skip_blocks(i + 1)
        else:
            break
    return max(frames, 1)


def bmp_size(b: bytes) -> tuple[int, int]:
    """Width and height of the DIB header; a negative height is a top-down bitmap."""
    if len(b) < 26:
        raise NeedMore
    if _u32le(b, 14) == 12:
        return struct.unpack_from("<HH", b, 18)
    width, height = struct.unpack_from("<ii", b, 18)
    if width < 0:
        raise _corrupt(f"BMP width {width} is negative")
    return width, abs(height)


@dataclass(frozen=True)
class BmpHeader:
    size: tuple[int, int]
    bits: int
    rle: bool  # RLE4/RLE8: Pillow decodes these in pure Python
    end: int  # where the pixels start


def bmp_header(b: bytes) -> BmpHeader:
    size = bmp_size(b)
    core = _u32le(b, 14) == 12
    bits = _u16le(b, 24 if core else 28)
    compression = 0 if core else _u32le(b, 30)
    end = _u32le(b, 10)
    if end > MAX_HEADER_END:
        raise ImageRejected("header-too-large", f"BMP pixels start past {MAX_HEADER_END} bytes")
    return BmpHeader(size, bits, compression in (1, 2), end)
