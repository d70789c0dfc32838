"""On-demand resizer: one thumbnail URL path in, one HTTP answer out.

Kept apart from the Lambda handler so it can be read and tested as plain
functions. Checks run cheapest-first and nothing is rendered or stored until
every one of them passed: malformed path (400), size not allowed (403), no
source (404), with moderation on a source the workflow has not passed (403),
source not an image (422). Rendering goes through ``thumbnails.make``, so
names, tags, metadata and pixels are the workflow's.
"""

from __future__ import annotations

from collections.abc import Callable

from . import admission, formats, ownership, singleflight, storage, thumbnails
from .allowlist import Allowlist
from .errors import ImageRejected, SourceChanged, TransientError
from .naming import ThumbnailName, thumbnail_key
from .records import RenderGroup
from .responses import NO_STORE, Response, error
from .settings import Settings
from .spec import SizeSpec
from .urls import BadRequest, parse_path, source_candidates

# A buffered Lambda response is at most 6 MB of JSON; base64 grows the body by a third.
MAX_INLINE_BYTES = (6 * 1024 * 1024 - 16 * 1024) * 3 // 4
PRESIGN_SECONDS = 300


def find_source(settings: Settings, key: str, name: ThumbnailName) -> storage.ObjectInfo | None:
    """The source whose thumbnail name is ``key``: the stem's owner when one has claimed the
    names (``ownership``), else the first candidate that exists; only keys that map back count."""
    def maps_back(candidate: str) -> bool:  # e.g. a stem ending in '/' names a different thumbnail
        return thumbnail_key(candidate, name.width, name.height, name.extension) == key

    candidates = [c for c in source_candidates(name) if maps_back(c)]
    if not candidates:
        return None
    owner = ownership.owner_of_stem(settings, name.stem)
    if owner is not None and maps_back(owner):
        info = storage.head(settings.source_bucket, owner)
        if info is not None:
            return info
    for candidate in candidates:
        info = storage.head(settings.source_bucket, candidate)
        if info is not None:
            return info
    return None


def passed_moderation(settings: Settings, source: storage.ObjectInfo, allow: Allowlist) -> bool:
    """With moderation on, a source may be rendered on demand only once the workflow has passed
    it at these bytes: its first Configure size, made by the workflow from this ETag, is stored.

    A flagged source, one Rekognition cannot read (refused ``not-moderatable``) and one whose
    execution has not finished yet have none, so a URL is never a way round moderation. Only
    the bytes and the maker are checked, not the spec: a thumbnail made before a change of
    the size (or of the engine) still says moderation passed these bytes.
    """
    if not allow.configured:
        return False
    for _, info in thumbnails.stored(settings, source.key, allow.configured[0]):
        if info is not None and info.metadata.get("source-etag") == source.etag:
            return info.metadata.get("made-by") == "workflow"
    return False


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
    allow: Allowlist | Callable[[], Allowlist],
    inline_limit: int = MAX_INLINE_BYTES,
) -> Response:
    """Serve one request for a thumbnail, rendering and storing it if it is missing or stale.

    ``allow`` may be a function: the allowlist is then read only for requests that passed the
    cheap checks, so a malformed request never waits for (or fails on) DescribeStateMachine.
    """
    if method not in ("GET", "HEAD"):
        return error(405, "method-not-allowed", "only GET and HEAD")
    try:
        key, name = parse_path(raw_path)
    except BadRequest as exc:
        return error(400, "bad-request", str(exc))
    if callable(allow):
        allow = allow()
    spec = allow.spec_for(name.width, name.height, formats.BY_EXTENSION[name.extension].name)
    if spec is None:
        labels = allow.labels()
        return error(403, "size-not-allowed",
                     f"{name.width}x{name.height} is not an allowed size; allowed: {', '.join(labels)}",
                     allowed=labels)
    try:
        return _render_or_reuse(settings, allow, key, name, spec, inline_limit, head=method == "HEAD")
    except (TransientError, SourceChanged) as exc:
        return error(503, "try-again", str(exc), headers={"Retry-After": "1"})


def _render_or_reuse(
    settings: Settings,
    allow: Allowlist,
    key: str,
    name: ThumbnailName,
    spec: SizeSpec,
    inline_limit: int,
    *,
    head: bool = False,
) -> Response:
    source = find_source(settings, key, name)
    if source is None:
        return error(404, "source-not-found", f"no source image for {key}")
    if source.size > settings.max_source_bytes:
        return error(422, "too-many-bytes",
                     f"{source.key} has {source.size} bytes (limit {settings.max_source_bytes})")
    # The workflow stores Configure sizes under their own spec (often format "auto"), so its
    # output for the same box counts as current instead of being rendered again.
    digests = {thumbnails.spec_digest(s) for s in [spec, *allow.same_box(spec)]}

    def stored() -> Response | None:
        got = storage.get(settings.thumbnail_bucket, key)
        if got is None or not thumbnails.is_current(got[0].metadata, source.etag, digests):
            return None
        info, body = got
        if info.size > inline_limit:
            return _deliver(settings, key, info.size, "stored", inline_limit)
        return _image(body, info, settings, "stored")

    found = stored()
    if found is not None:
        return found
    if head:  # a HEAD only asks: it never pays for a render
        return error(404, "not-rendered", f"{key} is not stored yet; a GET renders it")

    if allow.moderated and not passed_moderation(settings, source, allow):
        return error(403, "not-moderated",
                     f"moderation is on and {source.key} has not passed it at these bytes (still being "
                     "processed, flagged, or not JPEG/PNG): only what the workflow made can be rendered")
    try:
        # Header only, before anything decodes or any lease is written: what would not fit
        # this function is refused without a write.
        admission.judge(source, settings, [RenderGroup((spec,))])
    except ImageRejected as exc:
        return error(422, exc.reason, f"{source.key} is not an image we can render: {exc}")

    def render() -> Response:
        try:
            made = thumbnails.make(settings, source, [spec], made_by="on-demand", reuse=False)[0]
        except ImageRejected as exc:
            return error(422, exc.reason, f"{source.key} is not an image we can render: {exc}")
        if made.key != key:  # formats are explicit here, so the name is fully determined
            raise RuntimeError(f"rendered {made.key}, expected {key}")
        return _deliver(settings, key, made.bytes, "rendered", inline_limit)

    answer = singleflight.once(settings, key, render, stored)
    if answer is None:
        raise TransientError(f"{key} is being rendered by another request; try again")
    assert isinstance(answer, Response)
    return answer
