"""Size specifications: the one shape a configured size takes everywhere.

The Configure state of the workflow holds sizes as JSON objects; the on-demand
resizer builds the same objects from a URL. Parsing them in one place keeps the
two paths producing identical thumbnails for identical names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .errors import ConfigError

FITS = ("inside", "cover")
FORMATS = ("jpeg", "png", "webp", "auto")
MAX_SIDE = 4096
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

    @property
    def label(self) -> str:
        """The ``WxH`` part of thumbnail names and the ``thumbnail-size`` tag."""
        return f"{self.width}x{self.height}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_size(raw: Mapping[str, Any]) -> SizeSpec:
    """Build a SizeSpec from a Configure entry, rejecting anything out of range."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"a size must be an object, got {raw!r}")
    try:
        width = int(raw["width"])
        height = int(raw["height"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"a size needs integer width and height: {raw!r}") from exc
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise ConfigError(f"size {width}x{height} is outside 1..{MAX_SIDE}")
    fit = str(raw.get("fit", "inside"))
    if fit not in FITS:
        raise ConfigError(f"fit {fit!r} is not one of {FITS}")
    fmt = str(raw.get("format", "auto")).lower()
    fmt = "jpeg" if fmt == "jpg" else fmt
    if fmt not in FORMATS:
        raise ConfigError(f"format {fmt!r} is not one of {FORMATS}")
    try:
        quality = int(raw.get("quality", DEFAULT_QUALITY))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"quality must be an integer: {raw!r}") from exc
    if not 1 <= quality <= 100:
        raise ConfigError(f"quality {quality} is outside 1..100")
    return SizeSpec(width, height, fit, fmt, quality, str(raw.get("name", "")))


def parse_sizes(raw: Sequence[Mapping[str, Any]]) -> list[SizeSpec]:
    """Parse a list of sizes; an empty list is a configuration error."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes) or not raw:
        raise ConfigError("Configure must list at least one size")
    return [parse_size(item) for item in raw]
