"""Keep local mode's buckets between commands (`run`, then `execute` or `serve`).

moto lives in memory; a folder (default ``.thumbflow/``) keeps each bucket's
objects with their content type, metadata and tags. Bodies are stored under a
hash of the key, so no key (``../x``, absolute paths) can escape the folder.
Restoring happens before the source bucket's notifications are enabled, so it
starts no executions.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .cloud import LocalCloud

INDEX = "index.json"


def _blob_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def save(cloud: LocalCloud, folder: Path) -> int:
    """Write every object of both buckets to folder; returns how many."""
    s3 = cloud.client("s3")
    count = 0
    for role, bucket in (("source", cloud.deployed.source_bucket),
                         ("thumbnails", cloud.deployed.thumbnail_bucket)):
        target = folder / role
        target.mkdir(parents=True, exist_ok=True)
        index: dict[str, Any] = {}
        for key in cloud.objects(bucket):
            obj = s3.get_object(Bucket=bucket, Key=key)
            (target / _blob_name(key)).write_bytes(obj["Body"].read())
            tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
            index[key] = {
                "content_type": obj.get("ContentType", ""),
                "cache_control": obj.get("CacheControl", ""),
                "metadata": obj.get("Metadata", {}),
                "tags": {t["Key"]: t["Value"] for t in tags},
            }
            count += 1
        for stale in target.iterdir():
            if stale.name != INDEX and stale.name not in {_blob_name(k) for k in index}:
                stale.unlink()
        (target / INDEX).write_text(json.dumps(index, indent=1, sort_keys=True), encoding="utf-8")
    return count


def restore(cloud: LocalCloud, folder: Path) -> int:
    """Put saved objects back (same bytes, so the same ETags); returns how many."""
    s3 = cloud.client("s3")
    count = 0
    for role, bucket in (("source", cloud.deployed.source_bucket),
                         ("thumbnails", cloud.deployed.thumbnail_bucket)):
        index_path = folder / role / INDEX
        if not index_path.is_file():
            continue
        index = json.loads(index_path.read_text(encoding="utf-8"))
        for key, meta in index.items():
            blob = folder / role / _blob_name(key)
            if not blob.is_file():
                continue
            kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": blob.read_bytes(),
                                      "Metadata": meta.get("metadata", {})}
            if meta.get("content_type"):
                kwargs["ContentType"] = meta["content_type"]
            if meta.get("cache_control"):
                kwargs["CacheControl"] = meta["cache_control"]
            if meta.get("tags"):
                kwargs["Tagging"] = urlencode(meta["tags"])
            s3.put_object(**kwargs)
            count += 1
    return count
