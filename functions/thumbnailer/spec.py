"""Size specifications: the one shape a configured size takes everywhere.

The Configure state of the workflow holds sizes as JSON objects; the on-demand
resizer builds the same objects from a URL. Parsing them in one place keeps the
two paths producing identical thumbnails for identical names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from . import formats
from .errors import ConfigError
from .formats import MAX_SIDE

FITS = ("inside", "cover")
# Where a cover crop sits: in the middle, or where the image itself is most interesting
# (``imaging.attention``). "center" is read as "centre".
GRAVITIES = ("centre", "smart")
DEFAULT_GRAVITY = "centre"
DEFAULT_QUALITY = 80


@dataclass(frozen=True)
class SizeSpec:
    """One thumbnail to make: a box, how to fit the image in it, and how to encode it."""

    width: int
    height: int
    fit: str = "inside"
    format: str = "auto"
    quality: int = DEFAULT_QUALITY
    name: str = ""
    gravity: str = DEFAULT_GRAVITY

    @property
    def smart(self) -> bool:
        """A cover crop placed by the image's content (or a focal point) rather than centred."""
        return self.fit == "cover" and self.gravity == "smart"

    @property
    def label(self) -> str:
        """The ``WxH`` part of thumbnail names and the ``thumbnail-size`` tag."""
        return f"{self.width}x{self.height}"

    def to_dict(self) -> dict[str, Any]:
        """The Configure entry; ``gravity`` only when it is not the default, so a size written
        without it travels (and is digested, ``thumbnails.spec_digest``) exactly as before."""
        body = asdict(self)
        if self.gravity == DEFAULT_GRAVITY:
            del body["gravity"]
        return body


def _which(raw: Mapping[str, Any]) -> str:
    """How an error names the size: its name when it has one, else its box."""
    name = raw.get("name")
    if isinstance(name, str) and name:
        return f"size {name!r}"
    return f"size {raw.get('width')}x{raw.get('height')}"


def parse_size(raw: Mapping[str, Any]) -> SizeSpec:
    """Build a SizeSpec from a Configure entry, rejecting anything out of range by naming the size."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"a size must be an object, got {json.dumps(raw)[:80]}")
    which = _which(raw)
    try:
        width = int(raw["width"])
        height = int(raw["height"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{which}: width and height must be integers") from exc
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ConfigError(f"{which}: {width}x{height} is outside 1..{MAX_SIDE}")
    fit = str(raw.get("fit", "inside"))
    if fit not in FITS:
        raise ConfigError(f"{which}: fit {fit!r} is not one of {', '.join(FITS)}")
    fmt = formats.normalise(str(raw.get("format", formats.AUTO)))
    if fmt not in formats.CONFIGURABLE:
        raise ConfigError(f"{which}: format {fmt!r} is not one of {', '.join(formats.CONFIGURABLE)}")
    try:
        quality = int(raw.get("quality", DEFAULT_QUALITY))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{which}: quality must be an integer") from exc
    if not 1 <= quality <= 100:
        raise ConfigError(f"{which}: quality {quality} is outside 1..100")
    gravity = str(raw.get("gravity", DEFAULT_GRAVITY)).lower()
    gravity = "centre" if gravity == "center" else gravity
    if gravity not in GRAVITIES:
        raise ConfigError(f"{which}: gravity {gravity!r} is not one of {', '.join(GRAVITIES)}")
    if gravity != DEFAULT_GRAVITY and fit != "cover":
        raise ConfigError(f"{which}: gravity {gravity!r} places a crop: it needs fit cover")
    return SizeSpec(width, height, fit, fmt, quality, str(raw.get("name", "")), gravity)


def parse_sizes(raw: Sequence[Mapping[str, Any]]) -> list[SizeSpec]:
    """Parse a list of sizes; an empty list is a configuration error."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes) or not raw:
        raise ConfigError("Configure must list at least one size")
    return [parse_size(item) for item in raw]
