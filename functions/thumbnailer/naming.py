"""The one naming rule shared by the workflow and the on-demand resizer.

``photos/cat.jpg`` at 200x200 as JPEG is ``photos/cat_200x200.jpg``. Both paths
use these functions so each serves the other's output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# DOTALL and \Z: an S3 key may hold a line break, and its thumbnails are named by the same rule.
_THUMB_RE = re.compile(
    r"(?P<stem>.+)_(?P<w>[0-9]{1,5})x(?P<h>[0-9]{1,5})\.(?P<ext>[A-Za-z0-9]{1,5})\Z", re.DOTALL
)


def key_stem(key: str) -> str:
    """The key without its extension: only the last path segment's last dot counts.

    ``a.b/c.d.jpg`` -> ``a.b/c.d``; ``photos/.hidden`` and ``photos/noext`` keep their name.
    """
    head, _, name = key.rpartition("/")
    dot = name.rfind(".")
    if dot > 0:
        name = name[:dot]
    return f"{head}/{name}" if head else name


def thumbnail_key(source_key: str, width: int, height: int, extension: str) -> str:
    """``<source key without extension>_<W>x<H>.<ext>``."""
    return f"{key_stem(source_key)}_{width}x{height}.{extension}"


@dataclass(frozen=True)
class ThumbnailName:
    """A parsed thumbnail key: which source stem, which box, which extension."""

    stem: str
    width: int
    height: int
    extension: str


def parse_thumbnail_key(key: str) -> ThumbnailName | None:
    """Split a thumbnail key into its parts, or None when it does not follow the rule."""
    match = _THUMB_RE.match(key)
    if not match:
        return None
    return ThumbnailName(
        match["stem"], int(match["w"]), int(match["h"]), match["ext"].lower()
    )
