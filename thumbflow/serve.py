"""`thumbflow serve`: the thumbnail endpoint and the on-demand resizer over HTTP, on this machine.

Local stand-in for what CloudFront and the function URL do in AWS, keeping the
on-demand protocol visible: ``/t/<key>`` answers from the thumbnail bucket
on a hit and with a 302 to ``/resize/<key>`` on a miss; ``/resize/<key>`` hands
a Function URL (payload 2.0) event to the real OnDemandFunction handler through
its worker, as the function URL would. ``/`` is a gallery of every source at every allowed size.
"""

from __future__ import annotations

import base64
import html
import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from .local.cloud import LocalCloud

RESIZER = "OnDemandFunction"
SOURCE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff")


@dataclass
class Stats:
    """What the endpoint did: renders counts resizer invocations, whatever they answered."""

    renders: int = 0
    hits: int = 0
    misses: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def to_dict(self) -> dict[str, int]:
        with self._lock:
            return asdict(self)


class ThumbnailServer(ThreadingHTTPServer):
    """One local cloud behind HTTP; request threads share its (thread-safe) clients."""

    daemon_threads = True

    def __init__(self, cloud: LocalCloud, port: int = 8080, host: str = "127.0.0.1") -> None:
        super().__init__((host, port), _Handler)
        self.cloud = cloud
        self.stats = Stats()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def function_url_event(raw_path: str, method: str, headers: dict[str, str], host: str) -> dict[str, Any]:
    """The payload (format 2.0) a Lambda function URL delivers for this request."""
    path, _, query = raw_path.partition("?")
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": host,
            "http": {"method": method, "path": unquote(path), "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": headers.get("User-Agent", "")},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }


class _Handler(BaseHTTPRequestHandler):
    server: ThumbnailServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: stdout belongs to the command (and handler logs go to lambda.log)."""

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _text(self, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        self._send(status, text.encode(), {"Content-Type": content_type, "Cache-Control": "no-store"})

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/":
            self._text(200, gallery_html(self.server.cloud), "text/html; charset=utf-8")
        elif path == "/healthz":
            self._text(200, "ok\n")
        elif path == "/stats":
            self._text(200, json.dumps(self.server.stats.to_dict()), "application/json")
        elif path.startswith("/t/") and len(path) > 3:
            self._thumbnail(path[3:])
        elif path.startswith("/resize/") and len(path) > 8:
            self._resize(self.path[len("/resize"):])
        else:
            self._text(404, "not found\n")

    do_HEAD = do_GET

    def _thumbnail(self, raw_key: str) -> None:
        """CloudFront + S3: the stored object on a hit, a redirect to the resizer on a miss."""
        cloud = self.server.cloud
        try:
            obj = cloud.client("s3").get_object(Bucket=cloud.deployed.thumbnail_bucket, Key=unquote(raw_key))
        except Exception:  # NoSuchKey, or a key S3 refuses: both are misses for the resizer to judge
            self.server.stats.count("misses")
            self._send(302, b"", {"Location": f"/resize/{raw_key}", "Cache-Control": "no-store"})
            return
        self.server.stats.count("hits")
        body = obj["Body"].read()
        self._send(200, body, {
            "Content-Type": obj.get("ContentType") or "application/octet-stream",
            "Cache-Control": obj.get("CacheControl") or "public, max-age=86400",
            "ETag": obj.get("ETag", ""),
        })

    def _resize(self, raw_path: str) -> None:
        """The function URL: invoke the real handler and write its response."""
        cloud = self.server.cloud
        self.server.stats.count("renders")
        event = function_url_event(raw_path, self.command, dict(self.headers.items()),
                                   self.headers.get("Host", ""))
        body, error = cloud.invoke(RESIZER, event)
        if error:  # what a function URL answers for an unhandled error
            self._text(502, "Internal Server Error\n")
            return
        response = json.loads(body)
        payload = response.get("body") or ""
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
        headers = dict(response.get("headers") or {})
        if "Location" in headers:
            headers["Location"] = _local_location(cloud, headers["Location"])
        self._send(int(response.get("statusCode", 200)), data, headers)


def _local_location(cloud: LocalCloud, location: str) -> str:
    """A presigned thumbnail-bucket URL cannot be fetched outside moto: point at /t/<key> instead."""
    parts = urlsplit(location)
    bucket = cloud.deployed.thumbnail_bucket
    if parts.netloc.startswith(f"{bucket}.s3"):
        return "/t/" + parts.path.lstrip("/")
    if parts.netloc.startswith("s3.") and parts.path.startswith(f"/{bucket}/"):
        return "/t/" + parts.path[len(bucket) + 2:]
    return location


def gallery_keys(cloud: LocalCloud) -> list[tuple[str, list[tuple[str, str]]]]:
    """(source key, [(size label, thumbnail key)]) for every source at every allowed size.

    A size the workflow already stored keeps its stored extension (a hit); others ask
    for JPEG from JPEG sources and WebP (keeps transparency) from the rest.
    """
    from thumbnailer.naming import thumbnail_key

    labels = deployed_allowlist(cloud).labels()
    stored = set(cloud.objects(cloud.deployed.thumbnail_bucket))
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for source in sorted(cloud.objects(cloud.deployed.source_bucket)):
        if not source.lower().endswith(SOURCE_EXTENSIONS):
            continue
        default = "jpg" if source.lower().endswith((".jpg", ".jpeg")) else "webp"
        row: list[tuple[str, str]] = []
        for label in labels:
            w, h = (int(v) for v in label.split("x"))
            keys = [thumbnail_key(source, w, h, ext) for ext in (default, "jpg", "webp", "png")]
            row.append((label, next((k for k in keys if k in stored), keys[0])))
        out.append((source, row))
    return out


_GALLERY_SCRIPT = """
const imgs = Array.from(document.images);
let left = imgs.length;
function report() {
  document.getElementById('report').textContent = JSON.stringify(imgs.map(i => ({
    key: i.dataset.key, size: i.dataset.size, src: i.getAttribute('src'),
    naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight})));
  document.body.dataset.done = 'yes';
}
function settled(img) {
  img.dataset.naturalWidth = img.naturalWidth;
  img.dataset.naturalHeight = img.naturalHeight;
  img.dataset.loaded = img.naturalWidth > 0 ? 'yes' : 'no';
  if (--left === 0) report();
}
imgs.forEach(img => {
  if (img.complete) settled(img);
  else {
    img.addEventListener('load', () => settled(img));
    img.addEventListener('error', () => settled(img));
  }
});
if (!imgs.length) report();
"""


def gallery_html(cloud: LocalCloud) -> str:
    """Plain <img> tags without width/height, so each shows (and reports) its natural size."""
    sections = []
    for source, row in gallery_keys(cloud):
        figures = "".join(
            f'<figure><img src="/t/{html.escape(quote(key, safe="/"))}" alt="{html.escape(key)}" '
            f'data-key="{html.escape(key)}" data-size="{label}"><figcaption>{label}</figcaption></figure>'
            for label, key in row
        )
        sections.append(f"<section><h2>{html.escape(source)}</h2><div class=row>{figures}</div></section>")
    body = "".join(sections) or "<p>No sources yet: <code>thumbflow serve PATH...</code> uploads some.</p>"
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>thumbflow gallery</title><style>"
        "body{font:14px system-ui,sans-serif;margin:1rem;background:#fafafa}"
        ".row{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
        "figure{margin:0;padding:6px;background:#fff;border:1px solid #ddd}"
        "figcaption{color:#555;text-align:center}</style></head><body>"
        f"<h1>thumbflow: every source at every allowed size</h1>{body}"
        f"<pre id=report>pending</pre><script>{_GALLERY_SCRIPT}</script></body></html>"
    )


def deployed_allowlist(cloud: LocalCloud) -> Any:
    """The on-demand allowlist as the deployed resizer sees it: Configure plus OnDemandSizes."""
    from thumbnailer.allowlist import Allowlist, parse_size_list, sizes_from_definition

    extra = parse_size_list(str(cloud.parameters.get("OnDemandSizes", "")))
    return Allowlist(tuple(sizes_from_definition(cloud.deployed.definition)), extra)


@contextmanager
def serving(cloud: LocalCloud, port: int = 8080, *, background: bool = False) -> Iterator[ThumbnailServer]:
    """A bound server (port 0 picks a free one); with background=True it already serves."""
    server = ThumbnailServer(cloud, port)
    thread = None
    if background:
        thread = threading.Thread(target=server.serve_forever, name="thumbflow-serve", daemon=True)
        thread.start()
    try:
        yield server
    finally:
        if thread is not None:
            server.shutdown()
            thread.join(timeout=10)
        server.server_close()
