"""Helpers for the hardening tests: watch what a run did, step into it, check what it left.

``Window`` counts the AWS requests and Lambda invocations made from a point on
(tests in a module run one after another, so a window is one test's work).
``gate`` runs a function of the test's choosing in the test's process just before
a Lambda function is invoked (a barrier, a deletion, an overwrite), which is how a
test puts an event at an exact point of an execution without sleeping; the
handlers themselves run in their workers, untouched. ``thumbnails_under`` returns
what the thumbnail bucket holds for a source, each body fully decoded; ``claims`` what the
name-claims table holds (stem -> the source that owns its names).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PIL import Image

from thumbflow.local.cloud import LocalCloud
from thumbflow.local.lambdas import Invocation
from thumbflow.local.wire import Request

SIZES = ("128x128", "256x256", "512x512", "1024x1024")
_THUMBNAIL_TAIL = re.compile(r"[0-9]+x[0-9]+\.(jpg|png|webp)")  # the naming rule's <W>x<H>.<ext>


@dataclass
class Window:
    """Everything the local cloud did after this window was opened."""

    cloud: LocalCloud
    first_request: int
    first_invocation: int

    def requests(self, caller: str | None = None) -> list[Request]:
        return [r for r in self.cloud.wire.snapshot()[self.first_request:]
                if caller in (None, r.caller)]

    def counts(self, caller: str | None = None) -> Counter[tuple[str, str]]:
        return Counter((r.service, r.operation) for r in self.requests(caller))

    def invocations(self, function: str | None = None) -> list[Invocation]:
        return [i for i in self.cloud.lambdas.invocations[self.first_invocation:]
                if function in (None, i.function)]


def window(cloud: LocalCloud) -> Window:
    return Window(cloud, len(cloud.wire.snapshot()), len(cloud.lambdas.invocations))


def gate(cloud: LocalCloud, function: str, before: Callable[[dict[str, Any]], None]) -> Any:
    """``with gate(cloud, fn, before):`` ``before(event)`` runs here ahead of every invocation
    of ``fn`` (its worker gets the invocation once ``before`` returns)."""
    return cloud.before_invoke(function, before)


def decode_fully(body: bytes) -> Image.Image:
    """Open and decode every pixel: a partial or truncated file raises here."""
    im = Image.open(io.BytesIO(body))
    im.load()
    return im


def claims(cloud: LocalCloud, prefix: str = "") -> dict[str, str]:
    """stem -> owning source key of every name claim (whose stem starts with ``prefix``), read
    from the claims table as the functions read it (strongly consistent)."""
    found: dict[str, str] = {}
    pages = cloud.client("dynamodb").get_paginator("scan").paginate(
        TableName=cloud.deployed.claims_table, ConsistentRead=True)
    for page in pages:
        for item in page.get("Items", []):
            if item["stem"]["S"].startswith(prefix):
                found[item["stem"]["S"]] = item["source"]["S"]
    return found


def put_claims(cloud: LocalCloud, owners: dict[str, str]) -> None:
    """Write name claims (stem -> source key) into the claims table, as a copied deployment holds them."""
    dynamodb = cloud.client("dynamodb")
    for stem, source in owners.items():
        dynamodb.put_item(TableName=cloud.deployed.claims_table,
                          Item={"stem": {"S": stem}, "source": {"S": source}})


@dataclass(frozen=True)
class Deployment:
    """What a deployment keeps between releases: the sources, the thumbnails (bytes, metadata,
    content type) and the stems' name claims. ``of`` takes it from one local cloud, ``restore``
    puts it into another (as ``before_notifications``: no upload event starts a workflow)."""

    sources: dict[str, bytes]
    thumbnails: dict[str, tuple[bytes, dict[str, str], str]]
    owners: dict[str, str]

    @classmethod
    def of(cls, cloud: LocalCloud) -> Deployment:
        s3 = cloud.client("s3")
        sources = {k: s3.get_object(Bucket=cloud.deployed.source_bucket, Key=k)["Body"].read()
                   for k in cloud.objects(cloud.deployed.source_bucket)}
        thumbnails = {}
        for key in cloud.objects(cloud.deployed.thumbnail_bucket):
            got = s3.get_object(Bucket=cloud.deployed.thumbnail_bucket, Key=key)
            thumbnails[key] = (got["Body"].read(), got["Metadata"], got.get("ContentType", ""))
        return cls(sources, thumbnails, claims(cloud))

    def restore(self, cloud: LocalCloud) -> None:
        s3 = cloud.client("s3")
        for key, body in self.sources.items():
            s3.put_object(Bucket=cloud.deployed.source_bucket, Key=key, Body=body)
        for key, (body, meta, ctype) in self.thumbnails.items():
            s3.put_object(Bucket=cloud.deployed.thumbnail_bucket, Key=key, Body=body, Metadata=meta,
                          ContentType=ctype or "application/octet-stream", Tagging="thumbnail=yes")
        put_claims(cloud, self.owners)


def thumbnails_under(cloud: LocalCloud, stem: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    """key -> (body, tags) of every thumbnail of the source whose key without extension is ``stem``."""
    s3 = cloud.client("s3")
    bucket = cloud.deployed.thumbnail_bucket
    found: dict[str, tuple[bytes, dict[str, str]]] = {}
    for key in cloud.objects(bucket):
        if not key.startswith(stem + "_") or not _THUMBNAIL_TAIL.fullmatch(key[len(stem) + 1:]):
            continue  # another stem's thumbnail, or not a thumbnail (a render lease)
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        tags = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
        decode_fully(body)
        found[key] = (body, {t["Key"]: t["Value"] for t in tags})
    return found


def expected_keys(stem: str, ext: str = "jpg") -> set[str]:
    return {f"{stem}_{size}.{ext}" for size in SIZES}


def by_size(stored: dict[str, tuple[bytes, dict[str, str]]]) -> dict[str, bytes]:
    """size label -> body, for comparing two sources' thumbnails byte for byte."""
    return {tags["thumbnail-size"]: body for body, tags in stored.values()}
