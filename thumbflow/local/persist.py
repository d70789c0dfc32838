"""Keep local mode's buckets and name claims between commands (`run`, then `execute` or `serve`).

moto lives in memory; a folder (default ``.thumbflow/``) keeps each bucket's
objects with their content type, metadata and tags. Bodies are stored under a
hash of the key, so no key (``../x``, absolute paths) can escape the folder.
Restoring happens before the source bucket's notifications are enabled, so it
starts no executions.

Saving reads moto's S3 store in this process directly (``stored``) rather than asking the S3
API for every object twice (GetObject, GetObjectTagging): it copies the emulator's state,
it does not act as a client, and a request costs milliseconds that a store of a few hundred
objects would pay at the end of every command. It reads what those calls would answer: the
bytes, the Content-Type and Cache-Control, the user metadata and the tags of each key's
current version. Restoring stays a PutObject per object, so a restored object is made exactly
as an upload makes it (ETag, checksum, version).

The stems' name claims (the NameClaims table) are kept beside them, as ``claims.json``: the
items in DynamoDB's own JSON, read with Scan and put back with BatchWriteItem, so a source
uploaded by ``run`` still owns its names in the next command.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from .cloud import LocalCloud
from .names import ACCOUNT

PARTITION = "aws"

INDEX = "index.json"
CLAIMS = "claims.json"
_BATCH = 25  # items per BatchWriteItem, DynamoDB's limit


def _blob_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


_META = "x-amz-meta-"


def stored(bucket: str) -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """Each current object of a bucket in moto's store: (key, body, what ``index`` keeps), in
    key order as ListObjectsV2 gives them; a key whose current version is a delete marker is
    not listed, as ListObjectsV2 does not list it."""
    from moto.s3.models import FakeKey, s3_backends

    backend = s3_backends[ACCOUNT][PARTITION]
    keys = backend.get_bucket(bucket).keys
    for name in sorted(keys.keys()):
        key = keys[name]
        if not isinstance(key, FakeKey):  # a delete marker
            continue
        headers = {str(k).lower(): str(v) for k, v in key.metadata.items()}
        tags = backend.get_object_tagging(key)["Tags"]
        yield name, key.value, {
            "content_type": headers.get("content-type", ""),
            "cache_control": headers.get("cache-control", ""),
            "metadata": {k[len(_META):]: v for k, v in headers.items() if k.startswith(_META)},
            "tags": {t["Key"]: t["Value"] for t in tags},
        }


def save(cloud: LocalCloud, folder: Path) -> int:
    """Write every object of both buckets to folder; returns how many."""
    count = 0
    for role, bucket in (("source", cloud.deployed.source_bucket),
                         ("thumbnails", cloud.deployed.thumbnail_bucket)):
        target = folder / role
        target.mkdir(parents=True, exist_ok=True)
        index: dict[str, Any] = {}
        for key, body, kept in stored(bucket):
            (target / _blob_name(key)).write_bytes(body)
            index[key] = kept
            count += 1
        blobs = {_blob_name(k) for k in index}
        for stale in target.iterdir():
            if stale.name != INDEX and stale.name not in blobs:
                stale.unlink()
        (target / INDEX).write_text(json.dumps(index, indent=1, sort_keys=True), encoding="utf-8")
    return count + _save_claims(cloud, folder)


def _save_claims(cloud: LocalCloud, folder: Path) -> int:
    table = cloud.deployed.claims_table
    if not table:
        return 0
    items: list[dict[str, Any]] = []
    for page in cloud.client("dynamodb").get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page.get("Items", []))
    items.sort(key=lambda item: json.dumps(item, sort_keys=True))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / CLAIMS).write_text(json.dumps(items, indent=1, sort_keys=True), encoding="utf-8")
    return len(items)


def _restore_claims(cloud: LocalCloud, folder: Path) -> int:
    table, path = cloud.deployed.claims_table, folder / CLAIMS
    if not table or not path.is_file():
        return 0
    items = json.loads(path.read_text(encoding="utf-8"))
    dynamodb = cloud.client("dynamodb")
    for start in range(0, len(items), _BATCH):
        batch = items[start:start + _BATCH]
        pending: dict[str, Any] = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while pending:  # what BatchWriteItem leaves unprocessed is sent again
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return len(items)


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
    return count + _restore_claims(cloud, folder)
