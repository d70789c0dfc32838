"""The records that travel between the workflow's steps, each converted once per hop.

Step Functions passes JSON between states; these classes are that JSON's only
Python form. ``to_payload`` is what a handler returns, ``from_payload`` what the
next handler reads, so the field names live in one place and nothing is copied
field by field along the way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from .errors import ConfigError
from .spec import SizeSpec, parse_sizes


@dataclass(frozen=True)
class SourceRef:
    """Which object an execution is about and, when the event says, which bytes of it."""

    bucket: str
    key: str
    etag: str | None = None
    version: str | None = None

    def rerun_input(self) -> dict[str, str]:
        """The manual input that re-runs this source: the object as it is now."""
        return {"bucket": self.bucket, "key": self.key}


@dataclass(frozen=True)
class PinnedSource:
    """A validated source: where its exact bytes are, and what the header says they are.

    Later steps read the object pinned to ``etag`` (and ``version``), so a newer
    upload is never mixed into this execution's work.
    """

    bucket: str
    key: str
    etag: str
    version: str | None
    bytes: int
    format: str
    width: int
    height: int

    def to_payload(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "etag": self.etag,
            "version": self.version,
            "bytes": self.bytes,
            "format": self.format,
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> PinnedSource:
        try:
            return cls(
                bucket=str(raw["bucket"]),
                key=str(raw["key"]),
                etag=str(raw["etag"]),
                version=raw.get("version") or None,
                bytes=int(raw.get("bytes", 0)),
                format=str(raw.get("format", "")),
                width=int(raw.get("width", 0)),
                height=int(raw.get("height", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"the step's source record is malformed: {exc}") from exc


@dataclass(frozen=True)
class RenderGroup:
    """Sizes rendered together from one decode of the source (one Lambda invocation)."""

    sizes: tuple[SizeSpec, ...]

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.sizes]

    def to_payload(self) -> dict[str, Any]:
        return {"sizes": [s.to_dict() for s in self.sizes], "labels": self.labels}

    @classmethod
    def from_payload(cls, raw: Mapping[str, Any]) -> RenderGroup:
        return cls(tuple(parse_sizes(raw.get("sizes") or [])))


@dataclass(frozen=True)
class Thumbnail:
    """One stored thumbnail, as the manifest reports it."""

    key: str
    size: str
    width: int
    height: int
    bytes: int
    format: str
    tags: Mapping[str, str]
    reused: bool = False
    # What a front-end shows while it loads: {"blurhash", "color"} of the source's whole frame
    # (``imaging.Placeholder``); None for a thumbnail stored before placeholders were made.
    placeholder: Mapping[str, str] | None = None

    @property
    def path(self) -> str:
        """The URL path that serves it at the thumbnail endpoint (CloudFront, or `thumbflow serve` /t)."""
        return "/" + quote(self.key, safe="/")

    def to_payload(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "path": self.path,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "bytes": self.bytes,
            "format": self.format,
            "tags": dict(self.tags),
            "reused": self.reused,
            "placeholder": dict(self.placeholder) if self.placeholder is not None else None,
        }


def group_result(
    group: RenderGroup,
    outcome: str,
    thumbnails: Sequence[Thumbnail] = (),
    cause: str = "",
    reason: str = "",
) -> dict[str, Any]:
    """What one render step returns: the group itself (so a retry pass can redo it) and its outcome.

    ``outcome`` is ``made``, ``rejected`` (the bytes are not a usable image) or
    ``superseded`` (a newer upload owns the key); failures are raised instead, so the
    definition's Retry sees them.
    """
    return {
        **group.to_payload(),
        "outcome": outcome,
        "thumbnails": [t.to_payload() for t in thumbnails],
        "reason": reason,
        "cause": cause,
    }
