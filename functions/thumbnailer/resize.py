"""Resize step: one render group (one decode) of one source, stored tagged.

Thin handler: rebuild the validated source reference and the specs from the
Map item, call ``thumbnails.make``, return the manifest entries.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import settings as settings_mod
from . import storage, thumbnails, tracing
from .errors import ImageRejected
from .spec import parse_sizes

logger = Logger()
tracer = Tracer(provider=tracing.provider(), patch_modules=tracing.PATCH_MODULES)
metrics = Metrics()


def source_info(raw: dict[str, Any]) -> storage.ObjectInfo:
    """The validated source, pinned to the ETag (and version) Validate saw."""
    return storage.ObjectInfo(
        bucket=raw["bucket"],
        key=raw["key"],
        etag=raw["etag"],
        size=int(raw.get("bytes", 0)),
        version=raw.get("version"),
    )


@logger.inject_lambda_context(correlation_id_path="execution")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Payload: ``{source: <Validate's source facts>, sizes: [...], execution}``."""
    settings = settings_mod.load()
    info = source_info(event["source"])
    specs = parse_sizes(event.get("sizes") or [])
    logger.append_keys(bucket=info.bucket, key=info.key, sizes=[s.label for s in specs])
    try:
        made = thumbnails.make(settings, info, specs)
    except ImageRejected as exc:
        logger.warning("rejected while decoding", extra={"reason": exc.reason})
        metrics.add_metric(name="ImagesRejected", unit=MetricUnit.Count, value=1)
        raise
    fresh = sum(1 for t in made if not t.reused)
    metrics.add_metric(name="ThumbnailsWritten", unit=MetricUnit.Count, value=fresh)
    metrics.add_metric(name="ThumbnailsReused", unit=MetricUnit.Count, value=len(made) - fresh)
    logger.info("rendered", extra={"written": fresh, "reused": len(made) - fresh})
    return {"thumbnails": [t.to_dict() for t in made]}
