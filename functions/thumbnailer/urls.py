"""Thumbnail URLs: a request path parsed into the key it names, and where its source may be.

``/photos/cat_200x200.jpg`` names ``photos/cat_200x200.jpg``, the 200x200 JPEG of
a source ``photos/cat.<ext>``. Every path that cannot be such a name is refused
here, before anything is read or rendered.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import unquote

from . import formats
from .naming import ThumbnailName, parse_thumbnail_key


class BadRequest(Exception):
    """The path cannot name a thumbnail (400)."""


def parse_path(raw_path: str) -> tuple[str, ThumbnailName]:
    """``/photos/cat_200x200.jpg`` (still percent-encoded) -> (key, parsed name), or BadRequest."""
    if not raw_path.startswith("/"):
        raise BadRequest("the path must start with /")
    lowered = raw_path.lower()
    if "%2f" in lowered or "%5c" in lowered or "\\" in raw_path:
        raise BadRequest("encoded slashes and backslashes are not allowed")
    try:
        key = unquote(raw_path[1:], errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the path is not valid UTF-8") from None
    try:
        encoded = key.encode()
    except UnicodeEncodeError:  # a lone surrogate: no S3 key can hold it
        raise BadRequest("the path is not valid UTF-8") from None
    if not key or len(encoded) > formats.MAX_KEY_BYTES:
        raise BadRequest(f"the key must be 1..{formats.MAX_KEY_BYTES} bytes")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise BadRequest("control characters are not allowed")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise BadRequest("empty, '.' and '..' path segments are not allowed")
    name = parse_thumbnail_key(key)
    if name is None:
        endings = "|".join(formats.BY_EXTENSION)
        raise BadRequest(f"expected <source key without extension>_<W>x<H>.<{endings}>")
    if name.extension not in formats.BY_EXTENSION or not key.endswith("." + name.extension):
        raise BadRequest(f"the extension must be one of {sorted(formats.BY_EXTENSION)}, lower case")
    if not (1 <= name.width <= formats.MAX_SIDE and 1 <= name.height <= formats.MAX_SIDE):
        raise BadRequest(f"width and height must be within 1..{formats.MAX_SIDE}")
    if key != f"{name.stem}_{name.width}x{name.height}.{name.extension}":
        raise BadRequest("write the size as the naming rule does: no leading zeros")
    return key, name


def source_candidates(name: ThumbnailName) -> Iterator[str]:
    """``<stem>.<ext>`` first, then every other source extension, lower then upper case."""
    order = [name.extension, *(e for e in formats.SOURCE_EXTENSIONS if e != name.extension)]
    for ext in order:
        yield f"{name.stem}.{ext}"
        yield f"{name.stem}.{ext.upper()}"
