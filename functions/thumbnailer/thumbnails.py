"""Make the thumbnails of one render group and store them, idempotently.

Shared by the workflow's Resize step and the on-demand resizer, so both write
the same names, tags and metadata for the same size, and both use one rule
(``is_current``) to decide whether a stored thumbnail can be served as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from importlib.metadata import version

from . import faces, formats, imaging, ownership, storage
from .errors import ImageRejected, TransientError
from .naming import key_stem, thumbnail_key
from .records import PinnedSource, Thumbnail
from .settings import Settings
from .spec import SizeSpec

# What a thumbnail's bytes depend on besides its spec: bump the first part when the engine's
# output changes; the second is the exact Pillow that encodes (the bundle and the local
# environment pin the same one), so an upgrade re-renders stored thumbnails instead of
# leaving them stale.
RENDER_VERSION = f"3+pillow-{version('pillow')}"
# Conditional writes lost to concurrent writers before giving up (TransientError: retried).
WRITE_ATTEMPTS = 4


def spec_digest(spec: SizeSpec) -> str:
    """Identifies what a thumbnail was made with, so a changed spec is never served stale.

    A size without ``gravity`` (centred, the default) has no ``gravity`` in ``to_dict``: its
    digest is the one it had before gravity existed (at the same ``RENDER_VERSION``).
    """
    body = {k: v for k, v in spec.to_dict().items() if k != "name"}
    body["render"] = RENDER_VERSION
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


def is_current(metadata: Mapping[str, str], source_etag: str, digests: Collection[str]) -> bool:
    """A stored thumbnail may be served as it is: made from these source bytes with one of these specs."""
    return metadata.get("source-etag") == source_etag and metadata.get("spec") in digests


def thumbnail_tags(spec: SizeSpec, source_etag: str, made_by: str) -> dict[str, str]:
    """The tags every thumbnail carries; the lifecycle rule filters on thumbnail=yes."""
    return {
        "thumbnail": "yes",
        "thumbnail-size": spec.label,
        "source-etag": source_etag,
        "made-by": made_by,
    }


def check_key_room(source_key: str) -> None:
    """Reject a source whose thumbnail keys could pass S3's key limit (``key-too-long``).

    Judged against the longest suffix any size can have, not this group's sizes, so
    every render group of a source reaches the same verdict before anything is written.
    """
    stem = len(key_stem(source_key).encode())
    if stem + formats.MAX_SUFFIX_BYTES > formats.MAX_KEY_BYTES:
        raise ImageRejected(
            "key-too-long",
            f"the key without its extension is {stem} bytes; thumbnail keys add up to "
            f"{formats.MAX_SUFFIX_BYTES} and S3 keys are at most {formats.MAX_KEY_BYTES} bytes",
        )


def placeholder_metadata(placeholder: imaging.Placeholder | None) -> dict[str, str]:
    """The placeholder as S3 user metadata (ASCII: a BlurHash's alphabet is, and so is #rrggbb)."""
    return {} if placeholder is None else {"blurhash": placeholder.blurhash, "color": placeholder.color}


def stored_placeholder(metadata: Mapping[str, str]) -> dict[str, str] | None:
    """The placeholder a stored thumbnail carries; None if it was stored without one."""
    blurhash, color = metadata.get("blurhash"), metadata.get("color")
    return {"blurhash": blurhash, "color": color} if blurhash and color else None


def _reusable(
    source: storage.Pinned, spec: SizeSpec, key: str, info: storage.ObjectInfo | None
) -> Thumbnail | None:
    """The object stored at ``key``, if it was made from these exact bytes with this spec."""
    if info is None or not is_current(info.metadata, source.etag, {spec_digest(spec)}):
        return None
    meta = info.metadata
    return Thumbnail(
        key=key,
        size=spec.label,
        width=int(meta.get("width", 0)),
        height=int(meta.get("height", 0)),
        bytes=info.size,
        format=meta.get("format", key.rsplit(".", 1)[-1]),
        tags=thumbnail_tags(spec, source.etag, meta.get("made-by", "workflow")),
        reused=True,
        placeholder=stored_placeholder(meta),
    )


def stored(
    settings: Settings, source_key: str, spec: SizeSpec
) -> Iterator[tuple[str, storage.ObjectInfo | None]]:
    """Each key a thumbnail of this spec may be stored under (its format's candidates, in order),
    with what a HEAD finds there; lazily, so a caller that stops early asks no more."""
    for fmt in formats.candidates(spec.format):
        key = thumbnail_key(source_key, spec.width, spec.height, fmt.extension)
        yield key, storage.head(settings.thumbnail_bucket, key)


def find_existing(
    settings: Settings,
    source: storage.Pinned,
    spec: SizeSpec,
    seen: dict[str, str | None],
) -> Thumbnail | None:
    """A thumbnail already made from these exact source bytes with this exact spec.

    ``seen`` collects the ETag (None: absent) of every key looked at, for conditional writes.
    """
    for key, info in stored(settings, source.key, spec):
        seen[key] = info.etag if info is not None else None
        found = _reusable(source, spec, key, info)
        if found is not None:
            return found
    return None


def make(
    settings: Settings,
    source: storage.Pinned,
    specs: Sequence[SizeSpec],
    *,
    made_by: str = "workflow",
    reuse: bool = True,
) -> list[Thumbnail]:
    """Render the specs not already stored from ONE read and ONE decode of the source.

    Results come back in ``specs`` order. Source bytes are read pinned to the
    validated ETag, so a newer upload can never be mixed into this one's work.

    Nor can a newer upload's thumbnails be overwritten by this work: after rendering, the
    source must still have the validated ETag (else SourceChanged), and each thumbnail is
    written only if its key still holds what was seen before rendering (S3 conditional
    writes), and only by the source that owns the stem's names (``ownership``: a second source
    with the same name but another extension is refused as ``name-collision``). A write lost to
    a duplicate execution of the same bytes reuses the winner's thumbnail, so each is written
    once. ``reuse`` (the workflow) first looks for thumbnails already made from these bytes
    (when the stem has been claimed at all); the on-demand resizer, called on a miss, does
    not. ``smart`` sizes of a validated source centre on its largest face when face-aware
    crops are on (``faces``).
    """
    check_key_room(source.key)
    done: dict[int, Thumbnail] = {}
    # Keys looked at, with the ETag seen (None: absent). Where nothing was looked at (on demand,
    # called on a miss; or no claim yet) every write is If-None-Match: a thumbnail stored
    # meanwhile is kept when it was made from these bytes, else replaced only while these bytes
    # are current.
    seen: dict[str, str | None] = {}
    looked: ownership.Claim | None = None  # the stem's claim, read once: ``claim`` starts from it
    if reuse:
        # No claim means nothing was stored under the stem (a claim precedes every thumbnail
        # write and the purge drops it last): a new upload's sizes cost no HEAD (two per ``auto``
        # size, one per fixed format) before they are rendered. A thumbnail stored before stems
        # were claimed is still found, by the conditional write that it makes fail.
        looked = ownership.look(settings, source.key)
        for i, spec in enumerate(specs if looked is not None else ()):
            found = find_existing(settings, source, spec, seen)
            if found is not None:
                done[i] = found
    todo = [(i, s) for i, s in enumerate(specs) if i not in done]
    if todo:
        wanted = [s for _, s in todo]
        focus = faces.focus(source, wanted) if isinstance(source, PinnedSource) else None
        data = storage.read(source)
        renditions = imaging.render(data, wanted, max_pixels=settings.max_source_pixels, focus=focus)
        storage.confirm(source)
        # Only the source that owns the stem writes its thumbnail names (name-collision otherwise).
        if reuse:
            ownership.claim(settings, source.key, looked=looked)
        else:  # on demand: read after rendering, as nothing was looked at before
            ownership.claim(settings, source.key)
        for (i, spec), out in zip(todo, renditions, strict=True):
            done[i] = _store(settings, source, spec, out, made_by, seen)
    return [done[i] for i in range(len(specs))]


def _store(
    settings: Settings,
    source: storage.Pinned,
    spec: SizeSpec,
    out: imaging.Rendition,
    made_by: str,
    seen: dict[str, str | None],
) -> Thumbnail:
    """Write one thumbnail, only over what ``seen`` says was there before rendering."""
    key = thumbnail_key(source.key, spec.width, spec.height, out.extension)
    tags = thumbnail_tags(spec, source.etag, made_by)
    for _ in range(WRITE_ATTEMPTS):
        expected = seen.get(key)
        try:
            storage.put(
                settings.thumbnail_bucket,
                key,
                out.body,
                content_type=out.content_type,
                cache_control=settings.cache_control,
                tags=tags,
                metadata={
                    "source-key": ownership.encoded(source.key),
                    "source-etag": source.etag,
                    "spec": spec_digest(spec),
                    "width": str(out.width),
                    "height": str(out.height),
                    "format": out.format,
                    "made-by": made_by,
                    **placeholder_metadata(out.placeholder),
                },
                if_match=expected,
                if_absent=expected is None,
            )
        except storage.WriteConflict:
            # Someone wrote the key since it was read: a duplicate execution of the same
            # bytes (reuse its thumbnail) or another upload of the source (overwrite it only
            # while the source still holds the bytes this one rendered).
            info = storage.head(settings.thumbnail_bucket, key)
            found = _reusable(source, spec, key, info)
            if found is not None:
                return found
            storage.confirm(source)
            seen[key] = info.etag if info is not None else None
            continue
        placeholder = out.placeholder.to_dict() if out.placeholder is not None else None
        return Thumbnail(key, spec.label, out.width, out.height, len(out.body), out.format, tags,
                         placeholder=placeholder)
    raise TransientError(f"{key}: {WRITE_ATTEMPTS} conditional writes lost to concurrent writers")
