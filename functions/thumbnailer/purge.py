"""Purge step: a source was deleted, so its thumbnails go too.

Thin handler: parse the input (S3's "Object Deleted" event as EventBridge delivers it,
or ``{bucket, key}``), let ``purging.purge`` delete that source's thumbnails (never a
newer upload's) and release its name claim, and answer with what was done, including
the paths the workflow then invalidates at CloudFront.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from . import inputs, purging, settings
from .errors import ImageRejected, InputIgnored
from .observability import count, lambda_handler, logger


@lambda_handler(correlation_id_path="execution")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Payload: ``{input, execution}``; answers ``{verdict, object, purge, failure}``."""
    config = settings.load()
    try:
        ref = inputs.parse(event.get("input"), accept=inputs.DELETION)
        if ref.bucket != config.source_bucket:
            raise ImageRejected("wrong-bucket", f"{ref.bucket!r} is not the source bucket")
    except (ImageRejected, InputIgnored) as exc:
        verdict = "ignored" if isinstance(exc, InputIgnored) else "rejected"
        logger.warning(verdict, extra={"cause": str(exc)})
        return {"verdict": verdict, "object": {"bucket": None, "key": None}, "purge": None,
                "failure": {"error": "ImageRejected", "reason": str(exc).split(":", 1)[0],
                            "cause": str(exc)}}
    logger.append_keys(bucket=ref.bucket, key=ref.key)
    done = purging.purge(config, ref.key)
    count("ThumbnailsPurged", len(done.purged))
    logger.info("purged", extra={"purged": len(done.purged), "kept": len(done.kept)})
    return {"verdict": "purged", "object": {"bucket": ref.bucket, "key": inputs.shown(ref.key)},
            "purge": done.to_payload(), "failure": None}
