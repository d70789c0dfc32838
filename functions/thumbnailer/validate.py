"""Validate step: is this upload an image we will make thumbnails of, and how?

Thin handler: parse the state's payload, call ``source`` and ``plan``, shape the
output the definition selects from. Rejections raise ``ImageRejected``, which
the definition catches (never retries) and turns into an alert.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import settings as settings_mod
from . import source, tracing
from .errors import ImageRejected, SourceChanged
from .plan import plan_groups
from .spec import parse_sizes

logger = Logger()
tracer = Tracer(provider=tracing.provider(), patch_modules=tracing.PATCH_MODULES)
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="execution")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Payload: ``{input, object: {bucket, key}, sizes, groupMaxPixels, execution}``."""
    settings = settings_mod.load()
    specs = parse_sizes(event.get("sizes") or [])
    ref = source.parse_ref(event.get("input") or {}, event.get("object") or {})
    logger.append_keys(bucket=ref.bucket, key=ref.key)
    try:
        info = source.locate(ref, settings)
        facts = source.inspect(info, settings)
    except ImageRejected as exc:
        logger.warning("rejected", extra={"reason": exc.reason, "detail": exc.detail})
        metrics.add_metric(name="ImagesRejected", unit=MetricUnit.Count, value=1)
        raise
    except SourceChanged:
        logger.info("superseded by a newer upload")
        metrics.add_metric(name="ImagesSuperseded", unit=MetricUnit.Count, value=1)
        raise
    groups = plan_groups(specs, int(event.get("groupMaxPixels", 0) or 0))
    metrics.add_metric(name="ImagesAccepted", unit=MetricUnit.Count, value=1)
    logger.info("accepted", extra={"format": facts.format, "width": facts.width,
                                   "height": facts.height, "groups": len(groups)})
    return {
        "source": facts.to_dict(),
        "moderatable": source.moderatable(facts),
        "groups": [
            {"sizes": [s.to_dict() for s in group], "labels": [s.label for s in group]}
            for group in groups
        ],
    }
