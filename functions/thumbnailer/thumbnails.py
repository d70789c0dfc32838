"""Make the thumbnails of one render group and store them, idempotently.

Shared by the workflow's Resize step and the on-demand resizer, so both write
the same names, tags and metadata for the same size.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import imaging, storage
from .naming import EXTENSIONS, thumbnail_key
from .settings import Settings
from .spec import SizeSpec

# Bump when the engine's output for the same spec changes, so stored thumbnails are re-made.
RENDER_VERSION = "1"


@dataclass(frozen=True)
class Thumbnail:
    """One stored thumbnail, as the manifest reports it."""

    key: str
    size: str
    width: int
    height: int
    bytes: int
    format: str
    tags: dict[str, str]
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "size": self.size,
            "width": self.width,
            "height": self.height,
            "bytes": self.bytes,
            "format": self.format,
            "tags": self.tags,
            "reused": self.reused,
        }


def spec_digest(spec: SizeSpec) -> str:
    """Identifies what a thumbnail was made with, so a changed spec is never served stale."""
    body = {k: v for k, v in spec.to_dict().items() if k != "name"}
    body["render"] = RENDER_VERSION
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def candidate_extensions(spec: SizeSpec) -> list[str]:
    """Where a thumbnail of this spec may already be: 'auto' resolves to JPEG or WebP."""
    return ["jpg", "webp"] if spec.format == "auto" else [EXTENSIONS[spec.format]]


def thumbnail_tags(spec: SizeSpec, source_etag: str, made_by: str) -> dict[str, str]:
    """The tags every thumbnail carries; the lifecycle rule filters on thumbnail=yes."""
    return {
        "thumbnail": "yes",
        "thumbnail-size": spec.label,
        "source-etag": source_etag,
        "made-by": made_by,
    }


def find_existing(
    settings: Settings, source: storage.ObjectInfo, spec: SizeSpec
) -> Thumbnail | None:
    """A thumbnail already made from these exact source bytes with this exact spec."""
    digest = spec_digest(spec)
    for ext in candidate_extensions(spec):
        key = thumbnail_key(source.key, spec.width, spec.height, ext)
        info = storage.head(settings.thumbnail_bucket, key)
        if info is None:
            continue
        meta = info.metadata
        if meta.get("source-etag") != source.etag or meta.get("spec") != digest:
            continue
        return Thumbnail(
            key=key,
            size=spec.label,
            width=int(meta.get("width", 0)),
            height=int(meta.get("height", 0)),
            bytes=info.size,
            format=meta.get("format", ext),
            tags=thumbnail_tags(spec, source.etag, meta.get("made-by", "workflow")),
            reused=True,
        )
    return None


def make(
    settings: Settings,
    source: storage.ObjectInfo,
    specs: Sequence[SizeSpec],
    *,
    made_by: str = "workflow",
    reuse: bool = True,
) -> list[Thumbnail]:
    """Render the specs not already stored from ONE read and ONE decode of the source.

    Results come back in ``specs`` order. Source bytes are read pinned to the
    validated ETag, so a newer upload can never be mixed into this one's work.
    """
    done: dict[int, Thumbnail] = {}
    if reuse:
        for i, spec in enumerate(specs):
            found = find_existing(settings, source, spec)
            if found is not None:
                done[i] = found
    todo = [(i, s) for i, s in enumerate(specs) if i not in done]
    if todo:
        data = storage.read(source)
        renditions = imaging.render(
            data, [s for _, s in todo], max_pixels=settings.max_source_pixels
        )
        for (i, spec), out in zip(todo, renditions, strict=True):
            done[i] = _store(settings, source, spec, out, made_by)
    return [done[i] for i in range(len(specs))]


def _store(
    settings: Settings,
    source: storage.ObjectInfo,
    spec: SizeSpec,
    out: imaging.Rendition,
    made_by: str,
) -> Thumbnail:
    key = thumbnail_key(source.key, spec.width, spec.height, out.extension)
    tags = thumbnail_tags(spec, source.etag, made_by)
    storage.put(
        settings.thumbnail_bucket,
        key,
        out.body,
        content_type=out.content_type,
        cache_control=settings.cache_control,
        tags=tags,
        metadata={
            "source-etag": source.etag,
            "spec": spec_digest(spec),
            "width": str(out.width),
            "height": str(out.height),
            "format": out.format,
            "made-by": made_by,
        },
    )
    return Thumbnail(key, spec.label, out.width, out.height, len(out.body), out.format, tags)
