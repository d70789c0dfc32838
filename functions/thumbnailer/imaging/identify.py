"""The format from magic bytes, and a precise reason when the bytes are not an image we take.

A file name never decides how bytes are parsed: a PNG named ``.jpg`` is a PNG, and text,
HTML, SVG, archives and formats we do not render are refused by name, so whoever uploaded
them can act on the alert. No PIL here: whether this Pillow build can read the format is
the Pillow layer's question (``pillow.readable``).
"""

from __future__ import annotations

import re

from ..errors import ImageRejected
from . import isobmff
from .headers import HEADER_BYTES

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

_HTML_TAGS = frozenset(
    {"html", "head", "body", "div", "p", "span", "a", "script", "style", "meta", "link", "title"}
    | {"table", "iframe", "form", "img", "br"}
)
_BMP_DIB_SIZES = (12, 16, 40, 52, 56, 64, 108, 124)
_DIB_BITS = (1, 2, 4, 8, 16, 24, 32)
_TGA_TYPES = (1, 2, 3, 9, 10, 11)  # colour-mapped, true-colour, grey; +8: run-length encoded
_HIGH_BYTES = bytes(range(128, 256))
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f\v\x1b") + b"\x7f"
_SKIP_XML_PROLOG = re.compile(r"\s*(<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>)", re.S | re.I)


def format_of(head: bytes) -> str:
    """Our name for the format (jpeg, png, gif, webp, tiff, bmp, avif, heif), or ImageRejected saying why."""
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
    if head[:2] == b"BM" and len(head) >= 18 and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES:
        return "bmp"
    if head[4:8] == b"ftyp":
        return _isobmff(head)
    if head.startswith(b"%PDF-"):
        raise ImageRejected("pdf", "PDF documents are not rendered")
    if _is_tga(head):  # before CUR: an uncompressed TGA can start like one (00 00 02 00)
        raise ImageRejected("unsupported-format", "tga")
    for magic, kind in _UNSUPPORTED_MAGIC:
        if head.startswith(magic):
            raise ImageRejected("unsupported-format", kind)
    if _is_headerless_dib(head):
        raise ImageRejected("unsupported-format", "dib (a Windows bitmap without its BMP file header)")
    if len(head) >= 3 and head[0] == 0x50 and head[1] in b"1234567" and head[2] in b" \t\r\n":
        raise ImageRejected("unsupported-format", "pnm")
    for magic, kind in _OTHER_MAGIC:
        if head.startswith(magic):
            raise ImageRejected("not-an-image", kind)
    text = as_text(head[:HEADER_BYTES])
    if text is None:
        # Markup carrying binary (an HTML/SVG page with an image inside, a polyglot) is
        # still a page: judge it by the text before the first binary byte.
        markup = re.match(rb"\s*<[^\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]*", head[:HEADER_BYTES])
        if markup:
            kind, detail = classify_text(markup.group().decode("latin-1"))
            if kind in ("html", "svg"):
                raise ImageRejected(kind, f"{detail}, with binary data inside")
        raise ImageRejected("not-an-image", "no known image signature")
    raise ImageRejected(*classify_text(text))


def _isobmff(head: bytes) -> str:
    """AVIF, HEIF and MP4 share one container; the brands say which it is (AVIF first: it is a HEIF)."""
    size = int.from_bytes(head[:4], "big")
    brands = [head[8:12]]
    end = min(len(head), size if size >= 16 else 16)
    brands += [head[i : i + 4] for i in range(16, end - 3, 4)]
    if b"avif" in brands or b"avis" in brands:
        return "avif"
    if isobmff.HEIF_BRANDS.intersection(brands):
        return "heif"  # HEIC, or another HEIF: the header says which codec (``isobmff``)
    if head[8:11] == b"crx":
        raise ImageRejected("unsupported-format", "camera-raw")
    kind = head[8:12].decode("latin-1").strip()
    raise ImageRejected("not-an-image", f"ISO media file (brand {kind!r}), probably video")


def _is_tga(head: bytes) -> bool:
    """A Truevision TGA header (it has no magic number): image type, colour map and pixel depth agree.

    A CUR file starts 00 00 02 00 too, but then holds at least one image (a count at 4..5),
    where an uncompressed true-colour TGA without a colour map has a zero map length there.
    """
    if len(head) < 18:
        return False
    colour_map, kind, depth, descriptor = head[1], head[2], head[16], head[17]
    width, height = int.from_bytes(head[12:14], "little"), int.from_bytes(head[14:16], "little")
    if kind not in _TGA_TYPES or colour_map != (1 if kind in (1, 9) else 0) or not width or not height:
        return False
    if descriptor & 0xC0 or (descriptor & 15) > 8:  # reserved bits; alpha bits
        return False
    if colour_map:
        entry = head[7]
        return depth == 8 and entry in (15, 16, 24, 32) and int.from_bytes(head[5:7], "little") > 0
    return head[3:8] == bytes(5) and depth in ((8, 16) if kind in (3, 11) else (15, 16, 24, 32))


def _is_headerless_dib(head: bytes) -> bool:
    """A BITMAPINFOHEADER (or a later one) at the very start: a bitmap without "BM" and its offsets."""
    if len(head) < 16 or int.from_bytes(head[:4], "little") not in _BMP_DIB_SIZES:
        return False
    if int.from_bytes(head[:4], "little") == 12:
        planes, bits = int.from_bytes(head[8:10], "little"), int.from_bytes(head[10:12], "little")
        return planes == 1 and bits in (1, 4, 8, 24) and head[4:6] != b"\x00\x00" and head[6:8] != b"\x00\x00"
    width = int.from_bytes(head[4:8], "little", signed=True)
    height = int.from_bytes(head[8:12], "little", signed=True)
    planes, bits = int.from_bytes(head[12:14], "little"), int.from_bytes(head[14:16], "little")
    return 0 < width <= 1 << 20 and 0 < abs(height) <= 1 << 20 and planes == 1 and bits in _DIB_BITS


def as_text(head: bytes) -> str | None:
    """Decode the head as text if it plausibly is text: UTF-8 or UTF-16 (with its BOM) without
    NULs or control characters, or 8-bit text that is mostly ASCII (latin-1, cp1252).

    Binary data with no NUL byte (a fuzzed file, a run of 0xFF) is not text just because every
    byte means something in latin-1: it must be nearly all ASCII to be read as legacy text.
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        body = head[2 : 2 + (len(head) - 2) // 2 * 2]
        text = body.decode("utf-16-le" if head[0] == 0xFF else "utf-16-be", "replace")
        wrong = text.count("\ufffd") + sum(1 for c in text if ord(c) < 32 and c not in "\t\n\r\f\v\x1b")
        return text if "\x00" not in text and wrong <= max(1, len(text) // 200) else None
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
    high = len(head) - len(head.translate(None, _HIGH_BYTES))
    if high * 10 <= len(head):
        return head.decode("latin-1")  # legacy 8-bit text: ASCII with some accented letters
    return None


def classify_text(text: str) -> tuple[str, str]:
    """(reason, detail): SVG, HTML or other text, judged by the first element after any XML prolog."""
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
