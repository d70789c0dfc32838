"""Which existing sources are behind the current Configure: the backfill's question.

A source is current when every configured size is stored, made from its exact bytes
(``source-etag``) with the current spec (``spec`` digest). Everything else is stale and
is brought up to date by running the thumbnail workflow on it, except sources that
would only be refused again: flagged by moderation, not an image (judged from the
header, as Validate does), not readable by Rekognition while moderation is on, or whose
names another source owns. Those are skipped by
name, so a backfill never re-sends the same alerts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import admission, ownership, storage, thumbnails
from .errors import ImageRejected, SourceChanged
from .grouping import group_sizes
from .records import RenderGroup
from .settings import Settings
from .spec import SizeSpec

# Requests in flight per batch: HEADs are latency-bound, not CPU-bound.
PARALLEL = 16
MAX_FAILURES_SHOWN = 20  # failed sources the summary (and the alert) names
GROUP_MAX_PIXELS = 4_194_304  # Configure's default grouping: the costliest way the sizes are rendered


@dataclass(frozen=True)
class Listed:
    """One object as the Distributed Map's ItemReader (ListObjectsV2) lists it."""

    key: str
    etag: str
    size: int

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Listed:
        return cls(str(item["Key"]), str(item.get("ETag", "")).strip('"'), int(item.get("Size", 0)))


@dataclass
class Batch:
    """What checking one batch found: the stale sources, and why the others need nothing."""

    checked: int = 0
    current: int = 0
    stale: list[dict[str, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def to_payload(self) -> dict[str, Any]:
        return {"checked": self.checked, "current": self.current, "stale": self.stale,
                "skipped": dict(sorted(self.skipped.items()))}


def is_current(settings: Settings, item: Listed, specs: Sequence[SizeSpec]) -> bool:
    """Every size stored from these bytes with today's spec."""
    for spec in specs:
        digest = {thumbnails.spec_digest(spec)}
        if not any(info is not None and thumbnails.is_current(info.metadata, item.etag, digest)
                   for _, info in thumbnails.stored(settings, item.key, spec)):
            return False
    return True


def why_skip(settings: Settings, item: Listed, groups: Sequence[RenderGroup] = (), *,
             moderated: bool = False) -> str | None:
    """The name of the reason a stale source would only be refused again, or None to render it."""
    tags = storage.get_tags(settings.source_bucket, item.key)
    if tags.get("moderation") == "flagged":
        return "flagged"
    owner = ownership.owner_of(settings, item.key)
    if owner not in (None, item.key) and storage.head(settings.source_bucket, owner) is not None:
        return "name-collision"
    info = storage.ObjectInfo(settings.source_bucket, item.key, item.etag, item.size)
    try:
        pinned = admission.judge(info, settings, groups)  # with the groups: too-costly too, as Validate
    except ImageRejected as exc:
        return exc.reason
    except SourceChanged:
        return "changed"  # overwritten since the listing: its own upload event renders it
    if moderated and not admission.moderatable(pinned):
        return "not-moderatable"  # Validate refuses it while moderation is on
    return None


def routed(key: str, suffixes: Sequence[str]) -> bool:
    """Whether the upload rule would have started the workflow for this key."""
    lowered = key.lower()
    return not suffixes or any(lowered.endswith(s.lower()) for s in suffixes)


def check(settings: Settings, items: Iterable[Mapping[str, Any]], specs: Sequence[SizeSpec],
          suffixes: Sequence[str] = (), *, moderated: bool = False) -> Batch:
    """Sort one batch of listed sources into current, stale and skipped-by-name.

    ``moderated``: Configure turns moderation on, so what Rekognition cannot read is skipped.
    """
    listed = [Listed.from_item(item) for item in items]
    batch = Batch(checked=len(listed))
    groups = group_sizes(specs, GROUP_MAX_PIXELS)

    def one(item: Listed) -> tuple[Listed, str | None]:
        if not routed(item.key, suffixes):
            return item, "not-routed"
        if is_current(settings, item, specs):
            return item, "current"
        return item, why_skip(settings, item, groups, moderated=moderated)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        for item, verdict in pool.map(one, listed):
            if verdict == "current":
                batch.current += 1
            elif verdict is None:
                batch.stale.append({"bucket": settings.source_bucket, "key": item.key, "etag": item.etag})
            else:
                batch.skipped[verdict] = batch.skipped.get(verdict, 0) + 1
    return batch


def summarise(batches: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Totals of checked batches (with their renders' outcomes) or of totals made before.

    Each batch adds up its own renders, so only counts (and the first failures) leave it;
    the run then adds up those, which keeps its result small whatever the bucket's size.
    """
    total: dict[str, Any] = {"sources": 0, "current": 0, "rendered": 0, "failed": 0,
                             "skipped": {}, "failures": []}
    for batch in batches:
        total["sources"] += int(batch.get("checked", batch.get("sources", 0)))
        total["current"] += int(batch.get("current", 0))
        total["rendered"] += int(batch.get("rendered", 0))
        total["failed"] += int(batch.get("failed", 0))
        for reason, n in (batch.get("skipped") or {}).items():
            total["skipped"][reason] = total["skipped"].get(reason, 0) + int(n)
        failures = list(batch.get("failures") or [])
        for render in batch.get("renders") or []:
            outcome = render.get("outcome") or {}
            if outcome.get("status") == "SUCCEEDED":
                total["rendered"] += 1
            else:
                total["failed"] += 1
                error = outcome.get("error") or outcome.get("status")
                failures.append({"key": render.get("key"), "error": error})
        total["failures"].extend(failures[: max(0, MAX_FAILURES_SHOWN - len(total["failures"]))])
    total["skipped"] = dict(sorted(total["skipped"].items()))
    return total
