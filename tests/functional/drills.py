"""Helpers for the hardening tests: watch what a run did, step into it, check what it left.

``Window`` counts the AWS requests and Lambda invocations made from a point on
(tests in a module run one after another, so a window is one test's work).
``gate`` runs a function of the test's choosing just before a Lambda handler
(a barrier, a deletion, an overwrite), which is how a test puts an event at an
exact point of an execution without sleeping. ``thumbnails_under`` returns
what the thumbnail bucket holds for a source, each body fully decoded.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image

from thumbflow.localcloud import LocalCloud
from thumbflow.runtime import Invocation
from thumbflow.traffic import CLIENT, Request, calling_as

SIZES = ("128x128", "256x256", "512x512", "1024x1024")


@dataclass
class Window:
    """Everything the local cloud did after this window was opened."""

    cloud: LocalCloud
    first_request: int
    first_invocation: int

    def requests(self, caller: str | None = None) -> list[Request]:
        return [r for r in self.cloud.traffic.snapshot()[self.first_request:]
                if caller in (None, r.caller)]

    def counts(self, caller: str | None = None) -> Counter[tuple[str, str]]:
        return Counter((r.service, r.operation) for r in self.requests(caller))

    def invocations(self, function: str | None = None) -> list[Invocation]:
        return [i for i in self.cloud.runtime.invocations[self.first_invocation:]
                if function in (None, i.function)]


def window(cloud: LocalCloud) -> Window:
    return Window(cloud, len(cloud.traffic.snapshot()), len(cloud.runtime.invocations))


@contextmanager
def gate(cloud: LocalCloud, function: str,
         before: Callable[[dict[str, Any]], None]) -> Iterator[None]:
    """Call ``before(event)`` ahead of every invocation of ``function``'s real handler."""
    fn = cloud.deployed.functions[function]
    real = fn.load()

    def gated(event: dict[str, Any], context: Any) -> Any:
        before(event)
        return real(event, context)

    fn._callable = gated
    try:
        yield
    finally:
        fn._callable = real


@contextmanager
def as_client() -> Iterator[None]:
    """Requests a test makes from inside a handler's thread are the client's, not the handler's."""
    with calling_as(CLIENT):
        yield


def decode_fully(body: bytes) -> Image.Image:
    """Open and decode every pixel: a partial or truncated file raises here."""
    im = Image.open(io.BytesIO(body))
    im.load()
    return im


def thumbnails_under(cloud: LocalCloud, stem: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    """key -> (body, tags) of every thumbnail of the source whose key without extension is ``stem``."""
    s3 = cloud.client("s3")
    bucket = cloud.deployed.thumbnail_bucket
    found: dict[str, tuple[bytes, dict[str, str]]] = {}
    for key in cloud.objects(bucket):
        if not key.startswith(stem + "_") or key[len(stem) + 1:].count("_"):
            continue
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
