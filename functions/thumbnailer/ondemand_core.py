"""On-demand resizer: one thumbnail URL path in, one HTTP answer out.

Kept apart from the Lambda handler so it can be read and tested as plain
functions. Checks run cheapest-first and nothing is rendered or stored until
every one of them passed: malformed path (400), size not allowed (403), no
source (404), source not an image (422). Rendering goes through
``thumbnails.make``, so names, tags, metadata and pixels are the workflow's.
"""

from __future__ import annotations

import base64
import functools
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from . import storage, thumbnails
from .errors import ConfigError, ImageRejected, SourceChanged, TransientError
from .naming import ThumbnailName, parse_thumbnail_key, thumbnail_key
from .settings import Settings
from .spec import DEFAULT_QUALITY, MAX_SIDE, SizeSpec, parse_sizes

# Extensions a source may have, tried after the requested one, lower then upper case.
SOURCE_EXTENSIONS = ("jpg", "jpeg", "png", "webp", "gif", "tif", "tiff")
# Thumbnail extension -> output format; these are the extensions thumbnails.make writes.
FORMAT_BY_EXTENSION = {"jpg": "jpeg", "png": "png", "webp": "webp"}
DEFAULT_FIT = "inside"
MAX_KEY_BYTES = 1024  # S3's own key limit
# A buffered Lambda response is at most 6 MB of JSON; base64 grows the body by a third.
MAX_INLINE_BYTES = (6 * 1024 * 1024 - 16 * 1024) * 3 // 4
PRESIGN_SECONDS = 300
NO_STORE = "no-store"


class BadRequest(Exception):
    """The path cannot name a thumbnail (400)."""


@dataclass(frozen=True)
class Response:
    """An HTTP answer, independent of how it is delivered (Function URL, local server)."""

    status: int
    headers: dict[str, str]
    body: bytes = b""
    outcome: str = ""  # rendered | stored | redirected | rejected | ... (logs and metrics)

    def to_function_url(self, *, head: bool = False) -> dict[str, Any]:
        """Function URL payload v2 response: binary bodies travel base64-encoded."""
        body = b"" if head else self.body
        text = self.headers.get("Content-Type", "").startswith(("application/json", "text/"))
        return {
            "statusCode": self.status,
            "headers": self.headers,
            "body": body.decode() if text else base64.b64encode(body).decode(),
            "isBase64Encoded": not text,
        }


def _error(status: int, error: str, message: str, **extra: Any) -> Response:
    body = json.dumps({"error": error, "message": message, **extra}).encode()
    return Response(
        status,
        {"Content-Type": "application/json", "Cache-Control": NO_STORE},
        body,
        outcome=error,
    )


# ----------------------------------------------------------------------------- allowlist


@dataclass(frozen=True)
class Allowlist:
    """Sizes that may be rendered on demand: Configure's sizes plus the OnDemandSizes parameter."""

    configured: tuple[SizeSpec, ...] = ()
    extra: frozenset[tuple[int, int]] = field(default_factory=frozenset)

    def labels(self) -> list[str]:
        """Every allowed ``WxH``, sorted by area, for 403 bodies and the local gallery."""
        boxes = {(s.width, s.height) for s in self.configured} | set(self.extra)
        return [f"{w}x{h}" for w, h in sorted(boxes, key=lambda b: (b[0] * b[1], b))]

    def spec_for(self, width: int, height: int, fmt: str) -> SizeSpec | None:
        """The spec to render WxH in ``fmt``: a Configure entry's fit/quality when one matches."""
        for spec in self.configured:
            if (spec.width, spec.height) == (width, height):
                return SizeSpec(width, height, spec.fit, fmt, spec.quality, spec.name)
        if (width, height) in self.extra:
            return SizeSpec(width, height, DEFAULT_FIT, fmt, DEFAULT_QUALITY)
        return None

    def digests(self, spec: SizeSpec) -> set[str]:
        """Spec digests a stored thumbnail of this box may carry and still be current.

        The workflow stores Configure sizes under their own spec (often format "auto"),
        so its output counts as a hit for the same box instead of being rendered again.
        """
        same_box = [s for s in self.configured if (s.width, s.height) == (spec.width, spec.height)]
        return {thumbnails.spec_digest(s) for s in [spec, *same_box]}


def parse_size_list(text: str) -> frozenset[tuple[int, int]]:
    """``"200x200, 640x480"`` -> {(200, 200), (640, 480)}; bad entries are a deployment error."""
    boxes: set[tuple[int, int]] = set()
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        w, sep, h = item.partition("x")
        if not (sep and w.isdigit() and h.isdigit()):
            raise ConfigError(f"ON_DEMAND_SIZES entry {item!r} is not WxH")
        width, height = int(w), int(h)
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            raise ConfigError(f"ON_DEMAND_SIZES entry {item!r} is outside 1..{MAX_SIDE}")
        boxes.add((width, height))
    return frozenset(boxes)


def sizes_from_definition(definition: Mapping[str, Any]) -> list[SizeSpec]:
    """The sizes of the workflow's Configure state: the one place sizes are configured."""
    try:
        raw = definition["States"]["Configure"]["Parameters"]["config"]["sizes"]
    except (KeyError, TypeError) as exc:
        raise ConfigError("definition has no States.Configure.Parameters.config.sizes") from exc
    return parse_sizes(raw)


@functools.lru_cache(maxsize=4)
def _sizes_from_json(text: str) -> tuple[SizeSpec, ...]:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"CONFIGURE_SIZES is not JSON: {exc}") from exc
    return tuple(parse_sizes(raw))


@functools.lru_cache(maxsize=4)
def _sizes_from_state_machine(arn: str) -> tuple[SizeSpec, ...]:
    """DescribeStateMachine once per cold start (per ARN); failures are not cached."""
    import boto3

    definition = boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
    return tuple(sizes_from_definition(json.loads(definition)))


def configure_sizes(env: Mapping[str, str] | None = None) -> tuple[SizeSpec, ...]:
    """CONFIGURE_SIZES (JSON, local mode) when set, else the deployed state machine's Configure."""
    env = os.environ if env is None else env
    if env.get("CONFIGURE_SIZES"):
        return _sizes_from_json(env["CONFIGURE_SIZES"])
    if env.get("STATE_MACHINE_ARN"):
        return _sizes_from_state_machine(env["STATE_MACHINE_ARN"])
    return ()


def load_allowlist(env: Mapping[str, str] | None = None) -> Allowlist:
    """The allowlist from the function's environment (see template.yaml, OnDemandFunction)."""
    env = os.environ if env is None else env
    return Allowlist(configure_sizes(env), parse_size_list(env.get("ON_DEMAND_SIZES", "")))


# ----------------------------------------------------------------------------- request


def parse_path(raw_path: str) -> tuple[str, ThumbnailName]:
    """``/photos/cat_200x200.jpg`` (still percent-encoded) -> (key, parsed name), or BadRequest."""
    if not raw_path.startswith("/"):
        raise BadRequest("the path must start with /")
    lowered = raw_path.lower()
    if "%2f" in lowered or "%5c" in lowered or "\\" in raw_path:
        raise BadRequest("encoded slashes and backslashes are not allowed")
    try:
        key = unquote(raw_path[1:], errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the path is not valid UTF-8") from None
    try:
        encoded = key.encode()
    except UnicodeEncodeError:  # a lone surrogate: no S3 key can hold it
        raise BadRequest("the path is not valid UTF-8") from None
    if not key or len(encoded) > MAX_KEY_BYTES:
        raise BadRequest(f"the key must be 1..{MAX_KEY_BYTES} bytes")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise BadRequest("control characters are not allowed")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise BadRequest("empty, '.' and '..' path segments are not allowed")
    name = parse_thumbnail_key(key)
    if name is None:
        raise BadRequest("expected <source key without extension>_<W>x<H>.<jpg|png|webp>")
    if name.extension not in FORMAT_BY_EXTENSION or not key.endswith("." + name.extension):
        raise BadRequest(f"the extension must be one of {sorted(FORMAT_BY_EXTENSION)}, lower case")
    if not (1 <= name.width <= MAX_SIDE and 1 <= name.height <= MAX_SIDE):
        raise BadRequest(f"width and height must be within 1..{MAX_SIDE}")
    if key != f"{name.stem}_{name.width}x{name.height}.{name.extension}":
        raise BadRequest("write the size as the naming rule does: no leading zeros")
    return key, name


def source_candidates(name: ThumbnailName) -> Iterator[str]:
    """``<stem>.<ext>`` first, then every other supported extension, lower then upper case."""
    order = [name.extension, *(e for e in SOURCE_EXTENSIONS if e != name.extension)]
    for ext in order:
        yield f"{name.stem}.{ext}"
        yield f"{name.stem}.{ext.upper()}"


def find_source(settings: Settings, key: str, name: ThumbnailName) -> storage.ObjectInfo | None:
    """The source whose thumbnail name is ``key``; only candidates that map back to it count."""
    for candidate in source_candidates(name):
        if thumbnail_key(candidate, name.width, name.height, name.extension) != key:
            continue  # e.g. a stem ending in '/' would name a different thumbnail
        info = storage.head(settings.source_bucket, candidate)
        if info is not None:
            return info
    return None


def _image(body: bytes, info: storage.ObjectInfo, settings: Settings, outcome: str) -> Response:
    headers = {
        "Content-Type": info.content_type or "application/octet-stream",
        "Cache-Control": settings.cache_control,
        "ETag": f'"{info.etag}"',
        "X-Thumbnail-Source": outcome,
    }
    return Response(200, headers, body, outcome=outcome)


def _deliver(settings: Settings, key: str, size: int, outcome: str, inline_limit: int) -> Response:
    """The stored thumbnail as the body, or a 302 to it when a Lambda response cannot carry it."""
    if size > inline_limit:
        url = storage.presigned_get(settings.thumbnail_bucket, key, PRESIGN_SECONDS)
        return Response(
            302, {"Location": url, "Cache-Control": NO_STORE, "X-Thumbnail-Source": outcome},
            outcome=outcome,
        )
    got = storage.get(settings.thumbnail_bucket, key)
    if got is None:
        raise SourceChanged(f"s3://{settings.thumbnail_bucket}/{key} vanished after it was stored")
    info, body = got
    return _image(body, info, settings, outcome)


def answer(
    raw_path: str,
    method: str,
    *,
    settings: Settings,
    allow: Allowlist,
    inline_limit: int = MAX_INLINE_BYTES,
) -> Response:
    """Serve one request for a thumbnail, rendering and storing it if it is missing or stale."""
    if method not in ("GET", "HEAD"):
        return _error(405, "method-not-allowed", "only GET and HEAD")
    try:
        key, name = parse_path(raw_path)
    except BadRequest as exc:
        return _error(400, "bad-request", str(exc))
    spec = allow.spec_for(name.width, name.height, FORMAT_BY_EXTENSION[name.extension])
    if spec is None:
        labels = allow.labels()
        return _error(403, "size-not-allowed",
                      f"{name.width}x{name.height} is not an allowed size; allowed: {', '.join(labels)}",
                      allowed=labels)
    try:
        return _render_or_reuse(settings, allow, key, name, spec, inline_limit)
    except (TransientError, SourceChanged) as exc:
        response = _error(503, "try-again", str(exc))
        response.headers["Retry-After"] = "1"
        return response


def _render_or_reuse(
    settings: Settings,
    allow: Allowlist,
    key: str,
    name: ThumbnailName,
    spec: SizeSpec,
    inline_limit: int,
) -> Response:
    source = find_source(settings, key, name)
    if source is None:
        return _error(404, "source-not-found", f"no source image for {key}")
    if source.size > settings.max_source_bytes:
        return _error(422, "too-many-bytes",
                      f"{source.key} has {source.size} bytes (limit {settings.max_source_bytes})")
    stored = storage.get(settings.thumbnail_bucket, key)
    if stored is not None:
        info, body = stored
        if info.metadata.get("source-etag") == source.etag and info.metadata.get("spec") in allow.digests(
            spec
        ):
            if info.size > inline_limit:
                return _deliver(settings, key, info.size, "stored", inline_limit)
            return _image(body, info, settings, "stored")
    try:
        made = thumbnails.make(settings, source, [spec], made_by="on-demand", reuse=False)[0]
    except ImageRejected as exc:
        return _error(422, exc.reason, f"{source.key} is not an image we can render: {exc}")
    if made.key != key:  # formats are explicit here, so the name is fully determined
        raise RuntimeError(f"rendered {made.key}, expected {key}")
    return _deliver(settings, key, made.bytes, "rendered", inline_limit)


def allowed_thumbnail_keys(source_key: str, allow: Allowlist, extension: str = "jpg") -> Sequence[str]:
    """Every allowed size of one source as thumbnail keys (the local gallery shows these)."""
    boxes = [label.split("x") for label in allow.labels()]
    return [thumbnail_key(source_key, int(w), int(h), extension) for w, h in boxes]
