"""Flag step: mark a source that moderation flagged, by tags only; its bytes never change."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from . import storage
from .moderation import merge_tags, moderation_tags
from .observability import count, lambda_handler, logger
from .records import PinnedSource


@lambda_handler(correlation_id_path="execution")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Payload: ``{source: <Validate's pinned source>, labels: [...], execution}``."""
    src = PinnedSource.from_payload(event["source"])
    tags = merge_tags(storage.get_tags(src.bucket, src.key, src.version), moderation_tags(event["labels"]))
    storage.put_tags(src.bucket, src.key, tags, src.version)
    count("ImagesFlagged")
    logger.info("flagged", extra={"bucket": src.bucket, "key": src.key, "tags": tags})
    return {"tags": tags}
