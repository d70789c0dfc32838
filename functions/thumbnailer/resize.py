"""Resize step: one render group (one decode) of one source, stored tagged.

Thin handler: rebuild the pinned source and the group from the Map item, call
``thumbnails.make``, return the group with its outcome: ``made`` (the manifest
entries), ``rejected`` (the bytes do not decode) or ``superseded`` (a newer
upload owns the key). Failures that may clear are raised for the Retry.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from . import settings, thumbnails
from .errors import ImageRejected, SourceChanged
from .observability import count, lambda_handler, logger
from .records import PinnedSource, RenderGroup, group_result


@lambda_handler(correlation_id_path="execution")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Payload: ``{source: <Validate's pinned source>, sizes: [...], execution}``."""
    source = PinnedSource.from_payload(event["source"])
    group = RenderGroup.from_payload(event)
    logger.append_keys(bucket=source.bucket, key=source.key, sizes=group.labels)
    try:
        made = thumbnails.make(settings.load(), source, group.sizes)
    except ImageRejected as exc:
        logger.warning("rejected while decoding", extra={"reason": exc.reason, "detail": exc.detail})
        count("ImagesRejected")
        return group_result(group, "rejected", cause=str(exc), reason=exc.reason)
    except SourceChanged as exc:
        logger.info("superseded by a newer upload", extra={"detail": str(exc)})
        count("ImagesSuperseded")
        return group_result(group, "superseded", cause=str(exc), reason="superseded")
    fresh = sum(1 for t in made if not t.reused)
    count("ThumbnailsWritten", fresh)
    count("ThumbnailsReused", len(made) - fresh)
    logger.info("rendered", extra={"written": fresh, "reused": len(made) - fresh})
    return group_result(group, "made", made)
