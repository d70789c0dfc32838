"""The image engine: identify, probe and render thumbnails. The only module that imports PIL.

Three steps, each cheaper than the next:

* ``sniff`` names the format from magic bytes, so a file name never decides how bytes are
  parsed and non-images are rejected with a reason a human can act on.
* ``probe`` reads only the header (the caller fetches ``HEADER_BYTES`` first), so a
  decompression bomb is refused before its pixels are ever downloaded, let alone decoded.
* ``render`` decodes once and derives every size from that single decode, largest first.

Nothing here talks to S3 or logs: errors are ``ImageRejected`` with a stable reason slug.
"""

from __future__ import annotations

import io
import re
import struct
import threading
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageCms

from .errors import ConfigError, ImageRejected
from .spec import SizeSpec

HEADER_BYTES: int = 64 * 1024
"""Fetch this much first: enough for the header (incl. EXIF/ICC) of nearly every real file."""

# Our format names -> Pillow's plugin names. AVIF only when this Pillow build can read it.
_PIL_FORMATS: dict[str, str] = {
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
        _PIL_FORMATS["avif"] = "AVIF"
except ImportError:  # pragma: no cover - depends on the Pillow build
    pass

_OUTPUTS: dict[str, tuple[str, str]] = {
    "jpeg": ("jpg", "image/jpeg"),
    "png": ("png", "image/png"),
    "webp": ("webp", "image/webp"),
}

# An earlier, smaller intermediate may feed a later size when it is still ~2x larger
# (1.9 rather than 2.0 so 1024x683 -> 512x342 still counts despite rounding).
_DERIVE_GAP = 1.9
# The DCT-scaled decode leaves every output ~2x to resize from, with the same slack:
# 4000 px -> 1024 px decodes at 1/2 (a 1.95x gap) instead of in full: half the CPU,
# the same difference to a full-resolution reference (bench/).
_DRAFT_GAP = 1.9
# Pillow's resize may box-reduce by an integer factor first as long as >= 3x is left for
# LANCZOS; Pillow documents that as indistinguishable from a plain resize, and it is far
# cheaper when one small size must come straight from a large decode.
_RESIZE_REDUCING_GAP = 3.0
# A step that reduces by at most this much uses BICUBIC rather than LANCZOS: a resize pass
# costs in proportion to the filter's support, and bicubic's is 2/3 of Lanczos-3's. On the
# 2 MP bench image (no draft possible: 1632 -> 1024 -> 512 -> 256) resizing drops from ~75 to
# ~48 ms CPU of a ~105 ms render. Before encoding, those outputs differ from the LANCZOS ones
# by a mean 0.36-0.68 levels of 255 (pyvips' lanczos3: 0.27-0.38), ~8% less edge energy, no
# visible difference at 3x zoom; once encoded they are as close to the full-resolution
# LANCZOS reference as pyvips' (bench/). Bigger steps keep LANCZOS's sharper cut-off.
_BICUBIC_MAX_STEP = 2.01
# JPEG Huffman optimisation (a second entropy-coding pass) only up to this many output
# pixels. It adds ~45% to the encode at every size; on small thumbnails that is <= 1 ms and
# saves 3-9% of their bytes, on a 1024x768 one it is ~4 ms (5% of a 2 MP render) for 2.4%.
_JPEG_OPTIMIZE_MAX_PIXELS = 512 * 512

_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Modes render knows how to bring to L/LA/RGB/RGBA/CMYK; anything else is refused by name.
_KNOWN_MODES = frozenset(
    {"1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"}
    | {"I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
)


@dataclass(frozen=True)
class ImageFacts:
    """What the header says about an image, before any pixel is decoded."""

    format: str
    width: int  # as displayed, i.e. after EXIF orientation
    height: int
    mode: str  # PIL mode of the stored image
    orientation: int  # EXIF orientation 1..8
    frames: int  # best effort, from headers only


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


# --------------------------------------------------------------------------------------
# sniff


# (prefix, kind) pairs for image formats we recognise but do not process.
_UNSUPPORTED_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"8BPS", "psd"),
    (b"\x00\x00\x01\x00", "ico"),
    (b"\x00\x00\x02\x00", "cur"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "jpeg2000"),
    (b"\xff\x4f\xff\x51", "jpeg2000"),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", "jpeg-xl"),
    (b"\xff\x0a", "jpeg-xl"),
    (b"II\xbc", "jpeg-xr"),
    (b"qoif", "qoi"),
    (b"DDS ", "dds"),
    (b"icns", "icns"),
    (b"gimp xcf", "xcf"),
    (b"v/1\x01", "openexr"),
    (b"#?RADIANCE", "radiance-hdr"),
    (b"#?RGBE", "radiance-hdr"),
    (b"FLIF", "flif"),
    (b"BPG\xfb", "bpg"),
    (b"\x01\xda", "sgi"),
    (b"\x59\xa6\x6a\x95", "sun-raster"),
    (b"\xd7\xcd\xc6\x9a", "wmf"),
    (b"FUJIFILMCCD-RAW", "camera-raw"),
    (b"IIRO", "camera-raw"),
    (b"IIU\x00", "camera-raw"),
    (b"%!PS", "postscript"),
    (b"\xc5\xd0\xd3\xc6", "postscript"),
    (b"/* XPM */", "xpm"),
)

# Binary containers that are certainly not images; named in the detail to help whoever uploaded.
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!", "rar archive"),
    (b"\x7fELF", "ELF executable"),
    (b"MZ", "windows executable"),
    (b"ID3", "mp3 audio"),
    (b"OggS", "ogg media"),
    (b"fLaC", "flac audio"),
    (b"\x1a\x45\xdf\xa3", "matroska/webm video"),
)

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_HTML_TAGS = frozenset(
    {"html", "head", "body", "div", "p", "span", "a", "script", "style", "meta", "link", "title"}
    | {"table", "iframe", "form", "img", "br"}
)
_BMP_DIB_SIZES = (12, 16, 40, 52, 56, 64, 108, 124)
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f\v\x1b") + b"\x7f"
_SKIP_XML_PROLOG = re.compile(r"\s*(<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>)", re.S | re.I)


def sniff(head: bytes) -> str:
    """Name the format from magic bytes, or say precisely why this is not an image we take."""
    if not head:
        raise ImageRejected("empty", "the object has 0 bytes")
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if head[:2] == b"BM" and len(head) >= 18 and _u32le(head, 14) in _BMP_DIB_SIZES:
        return "bmp"
    if head[4:8] == b"ftyp":
        return _sniff_isobmff(head)
    if head.startswith(b"%PDF-"):
        raise ImageRejected("pdf", "PDF documents are not rendered")
    for magic, kind in _UNSUPPORTED_MAGIC:
        if head.startswith(magic):
            raise ImageRejected("unsupported-format", kind)
    if len(head) >= 3 and head[0] == 0x50 and head[1] in b"1234567" and head[2] in b" \t\r\n":
        raise ImageRejected("unsupported-format", "pnm")
    for magic, kind in _OTHER_MAGIC:
        if head.startswith(magic):
            raise ImageRejected("not-an-image", kind)
    text = _as_text(head[:HEADER_BYTES])
    if text is None:
        # Markup carrying binary (an HTML/SVG page with an image inside, a polyglot) is
        # still a page: judge it by the text before the first binary byte.
        markup = re.match(rb"\s*<[^\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]*", head[:HEADER_BYTES])
        if markup:
            kind, detail = _classify_text(markup.group().decode("latin-1"))
            if kind in ("html", "svg"):
                raise ImageRejected(kind, f"{detail}, with binary data inside")
        raise ImageRejected("not-an-image", "no known image signature")
    raise ImageRejected(*_classify_text(text))


def _sniff_isobmff(head: bytes) -> str:
    """AVIF, HEIF and MP4 share one container; the brands say which it is."""
    size = _u32be(head, 0)
    brands = [head[8:12]]
    end = min(len(head), size if size >= 16 else 16)
    brands += [head[i : i + 4] for i in range(16, end - 3, 4)]
    if b"avif" in brands or b"avis" in brands:
        if "avif" in _PIL_FORMATS:
            return "avif"
        raise ImageRejected("unsupported-format", "avif (not supported by this build)")
    if _HEIF_BRANDS.intersection(brands):
        raise ImageRejected("unsupported-format", "heic")
    if b"mif1" in brands or b"msf1" in brands:
        raise ImageRejected("unsupported-format", "heif")
    if head[8:11] == b"crx":
        raise ImageRejected("unsupported-format", "camera-raw")
    kind = head[8:12].decode("latin-1").strip()
    raise ImageRejected("not-an-image", f"ISO media file (brand {kind!r}), probably video")


def _as_text(head: bytes) -> str | None:
    """Decode the head as text if it plausibly is text (no NULs, almost no control bytes)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        body = head[2 : 2 + (len(head) - 2) // 2 * 2]
        return body.decode("utf-16-le" if head[0] == 0xFF else "utf-16-be", "replace")
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    if b"\x00" in head:
        return None
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > len(head) // 200:
        return None
    for cut in range(4):  # the head may end in the middle of a UTF-8 sequence
        try:
            return head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return head.decode("latin-1")  # printable legacy-encoded text is still text


def _classify_text(text: str) -> tuple[str, str]:
    """SVG, HTML or other text, judged by the first element after any XML prolog."""
    start = text[:8192]
    pos = 0
    while match := _SKIP_XML_PROLOG.match(start, pos):
        decl = match.group(1).lower()
        if decl.startswith("<!doctype"):
            if "svg" in decl:
                return "svg", "SVG is not rasterised"
            if "html" in decl:
                return "html", "looks like an HTML page"
        pos = match.end()
    tag = re.match(r"\s*<([a-zA-Z][\w:.-]*)", start[pos:])
    if tag:
        name = tag.group(1).lower()
        if name in ("svg", "svg:svg"):
            return "svg", "SVG is not rasterised"
        if name in _HTML_TAGS:
            return "html", "looks like an HTML page"
    if "<svg" in start.lower() and "<html" not in start.lower():
        return "svg", "SVG is not rasterised"
    if start.lstrip().startswith("#define") and "_width" in start:
        return "unsupported-format", "xbm"
    return "text", "plain text, not an image"


# --------------------------------------------------------------------------------------
# header parsing (no Pillow): dimensions for the pixel cap before any decoder sees the bytes


class _NeedMore(Exception):
    """The header runs past the bytes we have."""


def _u16be(b: bytes, i: int) -> int:
    if i + 2 > len(b):
        raise _NeedMore
    return (b[i] << 8) | b[i + 1]


def _u32be(b: bytes, i: int) -> int:
    if i + 4 > len(b):
        raise _NeedMore
    return int.from_bytes(b[i : i + 4], "big")


def _u32le(b: bytes, i: int) -> int:
    if i + 4 > len(b):
        raise _NeedMore
    return int.from_bytes(b[i : i + 4], "little")


def _corrupt(detail: str) -> ImageRejected:
    return ImageRejected("corrupt", detail)


_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)


def _jpeg_size(b: bytes) -> tuple[int, int]:
    """Walk marker segments to the frame header (SOFn); skip junk between them like libjpeg."""
    i = 2
    while True:
        while i < len(b) and b[i] != 0xFF:
            i += 1
        while i < len(b) and b[i] == 0xFF:
            i += 1
        if i >= len(b):
            raise _NeedMore
        marker = b[i]
        i += 1
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:
            continue
        if marker in (0xD9, 0xDA):
            raise _corrupt("JPEG has no frame header before its scan data")
        if marker == 0x00:
            continue  # stuffed byte in junk
        length = _u16be(b, i)
        if length < 2:
            raise _corrupt(f"JPEG segment 0x{marker:02X} has length {length}")
        if marker in _JPEG_SOF:
            return _u16be(b, i + 5), _u16be(b, i + 3)
        if marker == 0xF7:
            raise ImageRejected("unsupported-format", "jpeg-ls")
        i += length


def _png_size(b: bytes) -> tuple[int, int]:
    if len(b) < 24:
        raise _NeedMore
    if b[12:16] != b"IHDR":
        raise _corrupt("PNG does not start with an IHDR chunk")
    return _u32be(b, 16), _u32be(b, 20)


def _gif_size(b: bytes) -> tuple[int, int]:
    if len(b) < 10:
        raise _NeedMore
    return struct.unpack_from("<HH", b, 6)


def _bmp_size(b: bytes) -> tuple[int, int]:
    if len(b) < 26:
        raise _NeedMore
    if _u32le(b, 14) == 12:
        return struct.unpack_from("<HH", b, 18)
    width, height = struct.unpack_from("<ii", b, 18)
    if width < 0:
        raise _corrupt(f"BMP width {width} is negative")
    return width, abs(height)


def _tiff_ifds(b: bytes) -> tuple[tuple[int, int], int]:
    """Size from IFD0 and the number of IFDs (pages) found inside ``b``."""
    endian = "<" if b[:2] == b"II" else ">"
    if len(b) < 16:
        raise _NeedMore
    big = struct.unpack_from(endian + "H", b, 2)[0] == 43
    count_fmt, entry, value_fmt = ("Q", 20, "Q") if big else ("H", 12, "I")
    offset = struct.unpack_from(endian + ("Q" if big else "I"), b, 8 if big else 4)[0]
    count_size = struct.calcsize(count_fmt)
    size: tuple[int, int] | None = None
    pages = 0
    seen: set[int] = set()
    while offset and offset not in seen and pages < 10_000:
        seen.add(offset)
        if offset < 8:
            raise _corrupt(f"TIFF IFD offset {offset} points into the header")
        if offset + count_size > len(b):
            if size is None:
                raise _NeedMore
            break
        (count,) = struct.unpack_from(endian + count_fmt, b, offset)
        start = offset + count_size
        if start + count * entry + struct.calcsize(value_fmt) > len(b):
            if size is None:
                raise _NeedMore
            break
        pages += 1
        if size is None:
            dims: dict[int, int] = {}
            for n in range(count):
                tag, kind = struct.unpack_from(endian + "HH", b, start + n * entry)
                at = start + n * entry + (12 if big else 8)
                if tag in (256, 257):
                    fmt = {3: "H", 4: "I", 16: "Q"}.get(kind)
                    if fmt is None:
                        raise _corrupt(f"TIFF dimension tag {tag} has type {kind}")
                    dims[tag] = struct.unpack_from(endian + fmt, b, at)[0]
            if len(dims) != 2:
                raise _corrupt("TIFF first page has no width/height")
            size = (dims[256], dims[257])
        (offset,) = struct.unpack_from(endian + value_fmt, b, start + count * entry)
    if size is None:
        raise _corrupt("TIFF has no image directory")
    return size, pages


def _webp_chunks(b: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(fourcc, payload start, payload size) of each RIFF chunk whose header is in ``b``."""
    i = 12
    while i + 8 <= len(b):
        size = _u32le(b, i + 4)
        yield b[i : i + 4], i + 8, size
        i += 8 + size + (size & 1)


@dataclass(frozen=True)
class _WebPHeader:
    size: tuple[int, int]
    mode: str
    frames: int
    exif: bytes | None
    exif_missing: bool  # the header promises EXIF that lies beyond ``b``


def _webp_header(b: bytes) -> _WebPHeader:
    """Parse VP8/VP8L/VP8X ourselves: Pillow's WebP reader needs the whole file and a canvas."""
    chunks = _webp_chunks(b)
    first = next(chunks, None)
    if first is None or first[1] + 10 > len(b):
        raise _NeedMore
    fourcc, at, _ = first
    if fourcc == b"VP8 ":
        if b[at + 3 : at + 6] != b"\x9d\x01\x2a":
            raise _corrupt("VP8 key frame start code missing")
        size = (_u16le(b, at + 6) & 0x3FFF, _u16le(b, at + 8) & 0x3FFF)
        return _WebPHeader(size, "RGB", 1, None, False)
    if fourcc == b"VP8L":
        if b[at] != 0x2F:
            raise _corrupt("VP8L signature missing")
        bits = _u32le(b, at + 1)
        size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        return _WebPHeader(size, "RGBA" if bits >> 28 & 1 else "RGB", 1, None, False)
    if fourcc != b"VP8X":
        raise _corrupt(f"unknown first WebP chunk {fourcc!r}")
    flags = b[at]
    size = (
        int.from_bytes(b[at + 4 : at + 7], "little") + 1,
        int.from_bytes(b[at + 7 : at + 10], "little") + 1,
    )
    frames, exif = 0, None
    for fourcc, start, length in chunks:
        if fourcc == b"ANMF":
            frames += 1
        elif fourcc == b"EXIF" and start + length <= len(b):
            exif = b[start : start + length]
    mode = "RGBA" if flags & 0x10 else "RGB"
    return _WebPHeader(size, mode, max(frames, 1), exif, bool(flags & 0x08) and exif is None)


def _u16le(b: bytes, i: int) -> int:
    if i + 2 > len(b):
        raise _NeedMore
    return b[i] | (b[i + 1] << 8)


def _avif_size(b: bytes) -> tuple[int, int]:
    """Largest ``ispe`` (image spatial extent) in meta/iprp/ipco: the primary image or grid."""
    best: tuple[int, int] | None = None
    meta_complete = False

    def walk(start: int, end: int, path: tuple[bytes, ...]) -> None:
        nonlocal best, meta_complete
        i = start
        while i + 8 <= end:
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
                walk(body + 4, stop, (kind,))
                meta_complete = i + size <= len(b)
            elif (path, kind) in (((b"meta",), b"iprp"), ((b"meta", b"iprp"), b"ipco")):
                walk(body, stop, (*path, kind))
            elif kind == b"ispe" and path[-1:] == (b"ipco",) and body + 12 <= stop:
                w, h = _u32be(b, body + 4), _u32be(b, body + 8)
                if best is None or w * h > best[0] * best[1]:
                    best = (w, h)
            i += size

    walk(0, len(b), ())
    if best is None:
        if meta_complete:
            raise _corrupt("AVIF meta box has no image size (ispe)")
        raise _NeedMore
    return best


def _stored_size(fmt: str, b: bytes) -> tuple[int, int]:
    """Stored (not yet oriented) pixel size straight from the header bytes."""
    if fmt == "jpeg":
        return _jpeg_size(b)
    if fmt == "png":
        return _png_size(b)
    if fmt == "gif":
        return _gif_size(b)
    if fmt == "bmp":
        return _bmp_size(b)
    if fmt == "tiff":
        return _tiff_ifds(b)[0]
    if fmt == "webp":
        return _webp_header(b).size
    return _avif_size(b)


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageRejected("zero-dimensions", f"header says {width}x{height}")
    if width * height > max_pixels:
        raise ImageRejected(
            "too-many-pixels", f"{width}x{height} = {width * height} pixels > {max_pixels}"
        )


def _gif_frames(b: bytes) -> int:
    """Count image descriptors among the bytes we have: a lower bound, never a full scan."""
    if len(b) < 13:
        return 1
    i, frames = 13, 0
    if b[10] & 0x80:
        i += 3 * (2 << (b[10] & 7))

    def skip_blocks(i: int) -> int:
        while i < len(b):
            if b[i] == 0:
                return i + 1
            i += 1 + b[i]
        return i

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


# --------------------------------------------------------------------------------------
# Pillow scope


class _Reader(io.BytesIO):
    """BytesIO that remembers whether a reader ran off the end of the bytes it was given.

    That is how a header that is *cut short* (fetch more / truncated) is told apart
    from a header that is *wrong* (corrupt), whatever exception Pillow chose to raise.
    """

    ran_short = False
    read_all = False

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if size is None or size < 0:
            self.read_all = True
        elif len(data) < size:
            self.ran_short = True
        return data


_guard_lock = threading.Lock()
_guard_depth = 0
_saved_max_pixels: int | None = None


@contextmanager
def _pillow_scope() -> Iterator[None]:
    """Make our ``max_pixels`` the only pixel cap and keep Pillow's warnings in here.

    Pillow's global MAX_IMAGE_PIXELS is lifted (reference-counted, so overlapping calls
    restore it once) because the header check already enforced our own cap. Warning
    filters are restored on exit; ``catch_warnings`` is process-wide, which is fine for
    Lambda's one-invocation-per-process model.
    """
    global _guard_depth, _saved_max_pixels
    with _guard_lock:
        if _guard_depth == 0:
            _saved_max_pixels = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
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


def _open_header(data: bytes, fmt: str, *, complete: bool) -> Image.Image | None:
    """Let Pillow parse the header (never the pixels); None when ``data`` stops too early."""
    reader = _Reader(data)
    try:
        im = Image.open(reader, formats=[_PIL_FORMATS[fmt]])
    except (MemoryError, Image.DecompressionBombError, ImageRejected):
        raise
    except Exception as exc:
        if reader.ran_short or reader.read_all:
            if not complete:
                return None
            raise ImageRejected("truncated", f"{fmt} header ends early") from exc
        raise _corrupt(f"{fmt} header rejected: {exc}") from exc
    if reader.ran_short and not complete:
        return None  # parsed, but something (EXIF, ICC...) was cut: read it whole
    return im


def _exif_orientation(raw: bytes | None) -> int:
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


def _orientation(im: Image.Image) -> int:
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
    return _exif_orientation(raw)


def _facts(
    fmt: str, stored: tuple[int, int], mode: str, orientation: int, frames: int
) -> ImageFacts:
    width, height = stored
    if orientation >= 5:
        width, height = height, width
    return ImageFacts(fmt, width, height, mode, orientation, frames)


# --------------------------------------------------------------------------------------
# probe


def probe(head: bytes, *, total_bytes: int, max_pixels: int) -> ImageFacts | None:
    """Facts from the first bytes of an object, or None if the header needs more bytes."""
    complete = len(head) >= total_bytes
    if not complete and len(head) < 32:
        return None  # too little even to sniff reliably
    fmt = sniff(head)
    try:
        size = _stored_size(fmt, head)
    except _NeedMore:
        if not complete:
            return None
        raise ImageRejected("truncated", f"{fmt} header ends early") from None
    except (struct.error, IndexError) as exc:
        raise _corrupt(f"{fmt} header is malformed: {exc}") from exc
    _check_pixels(size, max_pixels)

    with _pillow_scope():
        if fmt == "webp":
            web = _webp_header(head)
            if web.exif_missing and not complete:
                return None  # orientation lives in a trailing EXIF chunk
            w, h = web.size
            orient = _exif_orientation(web.exif)
            if orient >= 5:
                w, h = h, w
            return ImageFacts(fmt, w, h, web.mode, orient, web.frames)
        im = _open_header(head, fmt, complete=complete)
        if im is None:
            return None
        _check_pixels(im.size, max_pixels)  # GIF frames may enlarge the logical screen
        if fmt == "gif":
            frames = _gif_frames(head)
        elif fmt == "tiff":
            frames = _tiff_ifds(head)[1]
        elif fmt == "jpeg":
            frames = 1
        else:
            frames = getattr(im, "n_frames", 1)  # PNG acTL / AVIF: from the header
        # Pillow's TIFF reader reports the already-oriented size; the header has the stored one.
        stored = size if fmt == "tiff" else im.size
        return _facts(fmt, stored, im.mode, _orientation(im), frames)


# --------------------------------------------------------------------------------------
# render: geometry


@dataclass(frozen=True)
class _Plan:
    """One spec resolved against the source: output size and source region, stored axes."""

    index: int
    spec: SizeSpec
    size: tuple[int, int]
    region: tuple[float, float, float, float]  # in original (undrafted) stored pixels

    @property
    def scale(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.region
        return self.size[0] / (x1 - x0), self.size[1] / (y1 - y0)


def _plan(index: int, spec: SizeSpec, stored: tuple[int, int], swap: bool) -> _Plan:
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
        region: tuple[float, float, float, float] = (0, 0, dw, dh)
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
    if spec.format not in ("jpeg", "png", "webp", "auto"):
        raise ConfigError(f"format {spec.format!r} is not one of jpeg/png/webp/auto")
    if swap:  # centred regions stay centred under any flip, so swapping axes is enough
        out = (out[1], out[0])
        region = (region[1], region[0], region[3], region[2])
    return _Plan(index, spec, out, region)


def _draft_factor(plans: Sequence[_Plan]) -> int:
    """Largest JPEG DCT scale (1/8..1) that still leaves every output a >= 2x reduction."""
    allowed = min(1 / (_DRAFT_GAP * max(p.scale)) for p in plans)
    return next(k for k in (8, 4, 2, 1) if k <= allowed or k == 1)


@dataclass
class _Intermediate:
    """A decoded or resized image and where it sits in original stored pixel coordinates."""

    image: Image.Image
    origin: tuple[float, float]
    scale: tuple[float, float]  # its pixels per original pixel
    extent: tuple[float, float, float, float]  # the original region it covers

    def covers(self, region: tuple[float, float, float, float]) -> bool:
        eps = 1e-6
        return (
            region[0] >= self.extent[0] - eps
            and region[1] >= self.extent[1] - eps
            and region[2] <= self.extent[2] + eps
            and region[3] <= self.extent[3] + eps
        )


def _derive(plans: Sequence[_Plan], base: _Intermediate) -> dict[int, Image.Image]:
    """Resize largest first, each from the smallest image still ~2x above it."""
    made: list[_Intermediate] = [base]
    out: dict[int, Image.Image] = {}
    for plan in sorted(plans, key=lambda p: (-p.size[0] * p.size[1], p.index)):
        sx, sy = plan.scale
        usable = [
            m
            for m in made[1:]
            if m.covers(plan.region)
            and m.scale[0] >= _DERIVE_GAP * sx
            and m.scale[1] >= _DERIVE_GAP * sy
        ]
        src = min(usable, key=lambda m: m.scale[0]) if usable else base
        img = src.image
        x0, y0, x1, y1 = plan.region
        box = (
            max(0.0, (x0 - src.origin[0]) * src.scale[0]),
            max(0.0, (y0 - src.origin[1]) * src.scale[1]),
            min(float(img.width), (x1 - src.origin[0]) * src.scale[0]),
            min(float(img.height), (y1 - src.origin[1]) * src.scale[1]),
        )
        if (box[2] - box[0], box[3] - box[1]) == plan.size and all(v.is_integer() for v in box):
            result = img.crop(tuple(int(v) for v in box))  # no scaling needed: keep it sharp
        else:
            step = min((box[2] - box[0]) / plan.size[0], (box[3] - box[1]) / plan.size[1])
            resample = (
                Image.Resampling.BICUBIC if step <= _BICUBIC_MAX_STEP else Image.Resampling.LANCZOS
            )
            result = img.resize(plan.size, resample, box=box, reducing_gap=_RESIZE_REDUCING_GAP)
        out[plan.index] = result
        made.append(_Intermediate(result, (x0, y0), (sx, sy), plan.region))
    return out


# --------------------------------------------------------------------------------------
# render: pixels


def _to_working_mode(im: Image.Image) -> Image.Image:
    """Bring any decoded mode to L, LA, RGB, RGBA or CMYK; alpha only if it is really used."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        # 16-bit samples: 0..65535 maps onto 0..255 (convert("L") alone would clip to white).
        im = im.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    elif mode in ("I", "F"):
        lo, hi = im.getextrema()
        if mode == "F" and lo >= 0 and hi <= 1:
            scale, offset = 255.0, 0.0
        elif lo >= 0 and hi <= 255:
            scale, offset = 1.0, 0.0
        elif mode == "I" and lo >= 0 and hi <= 65535:
            scale, offset = 1 / 257, 0.0
        else:
            scale = 255 / (hi - lo) if hi > lo else 0.0
            offset = -lo * scale
        if mode == "I":
            im = im.convert("F")
        im = im.point(lambda v: v * scale + offset).convert("L")
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
    elif mode in ("RGBX", "YCbCr", "HSV"):
        im = im.convert("RGB")
    elif mode == "LAB":
        lab = ImageCms.createProfile("LAB")
        im = ImageCms.profileToProfile(im, lab, _srgb(), outputMode="RGB")
    if im.mode in ("LA", "RGBA") and im.getchannel("A").getextrema()[0] == 255:
        im = im.convert(im.mode[:-1])  # opaque alpha is no alpha: smaller, faster, JPEG-able
    return im


@cache
def _srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


_CMS_SPACE = {"RGB": "RGB ", "RGBA": "RGB ", "L": "GRAY", "LA": "GRAY", "CMYK": "CMYK"}


def _colour_transform(icc: bytes | None, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform to sRGB when the embedded profile is a real, non-sRGB match for ``mode``."""
    if not icc:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = (profile.profile.profile_description or "").lower()
        if "srgb" in description and "linear" not in description:
            return None
        if profile.profile.xcolor_space != _CMS_SPACE.get(mode):
            return None  # profile does not describe these pixels; trust the pixels
        in_mode = "L" if mode == "LA" else mode
        out_mode = "RGBA" if mode == "RGBA" else "RGB"
        return ImageCms.buildTransform(
            profile, _srgb(), in_mode, out_mode, ImageCms.Intent.PERCEPTUAL
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # an unreadable profile is ignored, like browsers do


def _finish(
    im: Image.Image, orientation: int, transform: ImageCms.ImageCmsTransform | None
) -> Image.Image:
    """Upright, sRGB, in L/LA/RGB/RGBA: done on each small output rather than the big base."""
    if orientation in _TRANSPOSE:
        im = im.transpose(_TRANSPOSE[orientation])
    if transform is not None:
        if im.mode == "LA":
            grey = ImageCms.applyTransform(im.getchannel("L"), transform).convert("L")
            im = Image.merge("LA", (grey, im.getchannel("A")))
        else:
            im = ImageCms.applyTransform(im, transform)
            if im.mode == "RGB" and transform.input_mode == "L":
                im = im.convert("L")
    if im.mode == "CMYK":
        im = im.convert("RGB")
    return im


def _encode(im: Image.Image, fmt: str, quality: int) -> bytes:
    """Fixed encoder settings and no metadata, so equal inputs give equal bytes."""
    if fmt == "jpeg" and im.mode in ("LA", "RGBA"):
        flat = Image.new(im.mode[:-1], im.size, "white")
        flat.paste(im, mask=im.getchannel("A"))  # alpha composited on white
        im = flat
    elif fmt == "webp" and im.mode in ("L", "LA"):
        im = im.convert("RGBA" if im.mode == "LA" else "RGB")
    im.info = {}  # resize/transpose copy info: no comment, EXIF, XMP or ICC may ride along
    buf = io.BytesIO()
    if fmt == "jpeg":
        im.save(
            buf,
            "JPEG",
            quality=quality,
            optimize=im.width * im.height <= _JPEG_OPTIMIZE_MAX_PIXELS,
            progressive=False,
            subsampling=0 if quality >= 90 else 2,
        )
    elif fmt == "png":
        im.save(buf, "PNG", optimize=False, compress_level=6)
    else:
        im.save(buf, "WEBP", quality=quality, method=4)
    return buf.getvalue()


def _decode_error(exc: Exception, fmt: str) -> ImageRejected:
    """Pillow's load errors, sorted into cut-short files and everything else."""
    message = str(exc)
    lowered = message.lower()
    if isinstance(exc, EOFError) or any(
        word in lowered for word in ("truncated", "premature end", "end of file", "not enough data")
    ):
        return ImageRejected("truncated", f"{fmt}: {message or type(exc).__name__}")
    return _corrupt(f"{fmt}: {type(exc).__name__}: {message}")


def render(data: bytes, specs: Sequence[SizeSpec], *, max_pixels: int) -> list[Rendition]:
    """Decode ``data`` once and make every spec from it, in the order of ``specs``."""
    fmt = sniff(data)
    try:
        stored = _stored_size(fmt, data)
    except _NeedMore:
        raise ImageRejected("truncated", f"{fmt} header ends early") from None
    except (struct.error, IndexError) as exc:
        raise _corrupt(f"{fmt} header is malformed: {exc}") from exc
    _check_pixels(stored, max_pixels)

    with _pillow_scope():
        im = _open_header(data, fmt, complete=True)
        assert im is not None  # complete=True never asks for more
        _check_pixels(im.size, max_pixels)
        if im.mode not in _KNOWN_MODES:
            raise ImageRejected("unsupported-format", f"{fmt} with pixel mode {im.mode}")
        orientation = _orientation(im)
        icc = im.info.get("icc_profile")
        if not specs:
            return []
        full = im.size  # for TIFF, Pillow already reports the oriented size
        factor = 1.0  # decoded pixels per original pixel
        if fmt == "jpeg":
            draft_plans = [_plan(i, s, full, orientation >= 5) for i, s in enumerate(specs)]
            k = _draft_factor(draft_plans)
            if k > 1:
                drafted = im.draft(im.mode, (max(1, full[0] // k), max(1, full[1] // k)))
                if drafted is not None:
                    factor = drafted[1][2] / full[0]
        try:
            im.load()
        except (MemoryError, ImageRejected, Image.DecompressionBombError):
            raise
        except Exception as exc:
            raise _decode_error(exc, fmt) from exc
        if fmt == "tiff" and 0x0112 not in getattr(im, "tag_v2", {}):
            orientation = 1  # Pillow's TIFF reader turned the pixels upright while loading
            full = im.size
        plans = [_plan(i, s, full, orientation >= 5) for i, s in enumerate(specs)]

        try:
            base = _to_working_mode(im)
        except (ValueError, OSError, ImageCms.PyCMSError) as exc:
            raise _corrupt(f"{fmt} {im.mode} pixels cannot be converted: {exc}") from exc
        transform = _colour_transform(icc, base.mode)
        extent = (0.0, 0.0, float(full[0]), float(full[1]))
        sized = _derive(plans, _Intermediate(base, (0.0, 0.0), (factor, factor), extent))

        transparent = base.mode in ("LA", "RGBA")
        renditions = []
        for plan in plans:
            out = _finish(sized[plan.index], orientation, transform)
            fmt_out = plan.spec.format
            if fmt_out == "auto":
                fmt_out = "webp" if transparent else "jpeg"
            body = _encode(out, fmt_out, plan.spec.quality)
            extension, content_type = _OUTPUTS[fmt_out]
            renditions.append(
                Rendition(plan.spec, out.width, out.height, fmt_out, extension, content_type, body)
            )
        return renditions
