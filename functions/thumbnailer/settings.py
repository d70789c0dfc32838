"""Configuration that comes from the function's environment (set by template.yaml).

Read at call time, not import time, so one process can serve several
configurations (local mode, tests) without re-importing anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import ConfigError

DEFAULT_CACHE_CONTROL = "public, max-age=86400"
# The function that renders, when the template does not say (ResizeFunction's own values).
DEFAULT_RENDER_MEMORY_MB = 1024
DEFAULT_RENDER_TIMEOUT_S = 120
DEFAULT_RENDER_FUNCTION = "ResizeFunction"


@dataclass(frozen=True)
class Settings:
    """The knobs a deployment sets through template parameters."""

    source_bucket: str
    thumbnail_bucket: str
    max_source_bytes: int
    max_source_pixels: int
    cache_control: str = DEFAULT_CACHE_CONTROL
    # Set only when the rule cannot filter suffixes itself (a KeyPrefix is set too): EventBridge
    # cannot AND a case-sensitive prefix with a case-insensitive suffix on one field.
    allowed_suffixes: tuple[str, ...] = ()
    # The function that renders what this one admits (Validate: ResizeFunction; the on-demand
    # resizer: itself): its MemorySize and Timeout, so an image that would exceed them is
    # refused by name (too-costly) before it is decoded.
    render_memory_mb: int = DEFAULT_RENDER_MEMORY_MB
    render_timeout_s: int = DEFAULT_RENDER_TIMEOUT_S
    render_function: str = DEFAULT_RENDER_FUNCTION
    # The DynamoDB table of the stems' name claims (``ownership``); only the functions that
    # claim, look up or release names are given it.
    claims_table: str = ""


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc
    if value < 1:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def load() -> Settings:
    """Settings from the environment; missing bucket names are a deployment error."""
    try:
        source = os.environ["SOURCE_BUCKET"]
        thumbs = os.environ["THUMBNAIL_BUCKET"]
    except KeyError as exc:
        raise ConfigError(f"environment variable {exc.args[0]} is not set") from exc
    return Settings(
        source_bucket=source,
        thumbnail_bucket=thumbs,
        max_source_bytes=_int("MAX_SOURCE_BYTES", 50 * 1024 * 1024),
        max_source_pixels=_int("MAX_SOURCE_PIXELS", 100_000_000),
        cache_control=os.environ.get("THUMBNAIL_CACHE_CONTROL", DEFAULT_CACHE_CONTROL),
        allowed_suffixes=tuple(
            s.strip() for s in os.environ.get("ALLOWED_SUFFIXES", "").split(",") if s.strip()
        ),
        render_memory_mb=_int("RENDER_MEMORY_MB", DEFAULT_RENDER_MEMORY_MB),
        render_timeout_s=_int("RENDER_TIMEOUT_S", DEFAULT_RENDER_TIMEOUT_S),
        render_function=os.environ.get("RENDER_FUNCTION", "").strip() or DEFAULT_RENDER_FUNCTION,
        claims_table=os.environ.get("CLAIMS_TABLE", "").strip(),
    )
