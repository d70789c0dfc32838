"""Flag step: mark a source that moderation flagged, by tags only.

S3 has no 'add a tag': this reads the tag set, merges the moderation tags in
and writes it back, so the uploader's own tags survive. Bytes never change.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import storage, tracing

logger = Logger()
tracer = Tracer(provider=tracing.provider(), patch_modules=tracing.PATCH_MODULES)
metrics = Metrics()

MAX_TAGS = 10  # S3's limit per object
_TAG_SAFE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 +-=._:/@")


def moderation_tags(labels: list[dict[str, Any]]) -> dict[str, str]:
    """The tags that say why: the flag and the most confident label."""
    top = max(labels, key=lambda lab: float(lab.get("Confidence", 0)), default={})
    name = "".join(c for c in str(top.get("Name", "unknown")) if c in _TAG_SAFE)[:256]
    return {"moderation": "flagged", "moderation-label": name or "unknown"}


def merge_tags(existing: dict[str, str], added: dict[str, str]) -> dict[str, str]:
    """Ours win on the same key; if over S3's limit, ours are kept and the oldest others dropped."""
    merged = {k: v for k, v in existing.items() if k not in added}
    overflow = len(merged) + len(added) - MAX_TAGS
    if overflow > 0:
        merged = dict(list(merged.items())[overflow:])
    merged.update(added)
    return merged


@logger.inject_lambda_context(correlation_id_path="execution")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Payload: ``{source: <Validate's source facts>, labels: [...], execution}``."""
    src = event["source"]
    bucket, key, version = src["bucket"], src["key"], src.get("version")
    tags = merge_tags(storage.get_tags(bucket, key, version), moderation_tags(event["labels"]))
    storage.put_tags(bucket, key, tags, version)
    metrics.add_metric(name="ImagesFlagged", unit=MetricUnit.Count, value=1)
    logger.info("flagged", extra={"bucket": bucket, "key": key, "tags": tags})
    return {"tags": tags}
