"""The one table of image formats: what we read, what we write, and how each is named.

Every other module asks this one: the engine (which encoder, which content type),
the naming rule (which extension), the on-demand resizer (which URL extensions and
which source extensions to look for) and the key-length check. No PIL here.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_SIDE = 4096
"""Largest width or height a configured or on-demand size may have."""

MAX_KEY_BYTES = 1024
"""S3's own limit on a key, in bytes of UTF-8."""


@dataclass(frozen=True)
class OutputFormat:
    """A format thumbnails are written in."""

    name: str  # as Configure spells it: jpeg, png, webp, avif
    extension: str  # in thumbnail keys and on-demand URLs
    content_type: str


OUTPUTS: dict[str, OutputFormat] = {
    "jpeg": OutputFormat("jpeg", "jpg", "image/jpeg"),
    "png": OutputFormat("png", "png", "image/png"),
    "webp": OutputFormat("webp", "webp", "image/webp"),
    "avif": OutputFormat("avif", "avif", "image/avif"),
}

AUTO = "auto"
"""Configure's ``format: auto``: the engine picks per image (see ``resolve``)."""

CONFIGURABLE: tuple[str, ...] = (*OUTPUTS, AUTO)
"""Values ``format`` may take in a size (``jpg`` is accepted as ``jpeg``)."""

BY_EXTENSION: dict[str, OutputFormat] = {f.extension: f for f in OUTPUTS.values()}
"""Thumbnail extension -> format: what an on-demand URL may end with."""

SOURCE_EXTENSIONS: tuple[str, ...] = (
    "jpg", "jpeg", "png", "webp", "gif", "tif", "tiff", "heic", "heif", "avif",
)
"""Extensions a source may have, in the order the on-demand resizer looks for one."""

MAX_SUFFIX_BYTES = len(f"_{MAX_SIDE}x{MAX_SIDE}.") + max(len(f.extension) for f in OUTPUTS.values())
"""The longest ``_<W>x<H>.<ext>`` any allowed size can add to a source's stem."""


def normalise(name: str) -> str:
    """A configured format name in our spelling (``JPG`` -> ``jpeg``); unknown names pass through."""
    lowered = name.lower()
    return "jpeg" if lowered == "jpg" else lowered


def resolve(configured: str, *, transparent: bool) -> OutputFormat:
    """The format to write: ``auto`` keeps real transparency as WebP and writes JPEG otherwise.

    Not AVIF, though ``bench.formats`` measures it 28% smaller than WebP with alpha at the
    default sizes: ``auto`` is what every client gets, WebP decodes in more of them, and a
    change would rename every stored transparent thumbnail. A size may say ``avif``.
    """
    if configured == AUTO:
        return OUTPUTS["webp" if transparent else "jpeg"]
    return OUTPUTS[configured]


def candidates(configured: str) -> tuple[OutputFormat, ...]:
    """Every format a thumbnail of this configured format may have been written in."""
    if configured == AUTO:
        return (OUTPUTS["jpeg"], OUTPUTS["webp"])
    return (OUTPUTS[configured],)
