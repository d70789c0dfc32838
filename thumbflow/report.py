"""What `thumbflow run` shows a person: a table on the terminal, a contact sheet in HTML.

The sheet is one file: each source's placeholder is drawn inline, its colour as a swatch and
its BlurHash decoded here (the algorithm's few lines of cosines) into a tiny PNG data URL, the
background of a box the browser scales it up to smoothly, as a front-end would show it before
the thumbnail loads.
"""

from __future__ import annotations

import base64
import html
import re
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from thumbnailer import blurhash as blurhashes

from .runner import SourceResult, safe_local_path
from .terminal import printable


def _short(text: str | None, width: int) -> str:
    text = printable(text or "")
    return text if len(text) <= width else text[: width - 1] + "…"


def table(results: Sequence[SourceResult]) -> str:
    """One line per source: status, how many thumbnails, the error and its cause."""
    rows = [("SOURCE", "STATUS", "THUMBS", "SIZES", "ERROR / CAUSE")]
    for r in results:
        sizes = " ".join(f"{t['width']}x{t['height']}" for t in r.thumbnails)
        problem = f"{r.error}: {r.cause}" if r.error else (r.outcome or "")
        rows.append((_short(r.key, 40), r.status, str(len(r.thumbnails)), _short(sizes, 36),
                     _short(problem, 70)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
             for row in rows]
    ok = sum(1 for r in results if r.status == "SUCCEEDED")
    lines.append(f"{ok} of {len(results)} sources succeeded, "
                 f"{sum(len(r.thumbnails) for r in results)} thumbnails")
    return "\n".join(lines)


_CSS = """
body{font:14px system-ui,sans-serif;margin:24px;background:#fafafa;color:#222}
h1{font-size:20px} .src{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px;margin:12px 0}
.SUCCEEDED .status{color:#17803d} .FAILED .status{color:#b42318}
.thumbs{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-end;margin-top:8px}
figure{margin:0;text-align:center} figcaption{font-size:12px;color:#555}
img{background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) 0 0/16px 16px;max-width:100%;
max-height:260px;width:auto;height:auto}
.err{font-family:ui-monospace,monospace;white-space:pre-wrap;color:#b42318}
.hint{display:flex;gap:8px;align-items:center;margin-top:6px;font-size:12px;color:#555}
.swatch{display:inline-block;width:24px;height:24px;border:1px solid #ccc;border-radius:4px}
.blur{display:inline-block;background-size:100% 100%;image-rendering:auto;border-radius:4px}
.hint code{font-family:ui-monospace,monospace}
"""

_COLOUR = re.compile(r"#[0-9a-f]{6}")
_DRAWN = 16  # pixels along the decoded placeholder's longer side (4x3 terms need no more)


def png_data_url(rows: list[bytes]) -> str:
    """An 8-bit RGB PNG of ``rows`` as a data: URL."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", len(rows[0]) // 3, len(rows), 8, 2, 0, 0, 0)
    data = zlib.compress(b"".join(b"\x00" + row for row in rows))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _placeholder(r: SourceResult) -> str:
    """The source's placeholder as the sheet shows it: a swatch, the BlurHash drawn, its text."""
    hint = r.placeholder or {}
    colour, blurhash = str(hint.get("color", "")), str(hint.get("blurhash", ""))
    if not _COLOUR.fullmatch(colour):
        return ""
    shown = max(r.thumbnails, key=lambda t: t["width"] * t["height"], default=None)
    aspect = shown["height"] / shown["width"] if shown else 0.75
    if aspect <= 1:
        w, h = _DRAWN, max(1, round(_DRAWN * aspect))
    else:
        w, h = max(1, round(_DRAWN / aspect)), _DRAWN
    try:
        url = png_data_url(blurhashes.pixels(blurhash, w, h))
        drawn = (f"<span class='blur' title='BlurHash, drawn' style='background-image:url({url});"
                 f"width:{w * 8}px;height:{h * 8}px'></span>")
    except ValueError:
        drawn = ""
    return (f"<div class='hint'><span class='swatch' style='background:{colour}' title='{colour}'></span>"
            f"{drawn}<code>{html.escape(colour)} {html.escape(blurhash)}</code></div>")


def contact_sheet(results: Sequence[SourceResult], out_dir: Path) -> Path:
    """Write out_dir/index.html: every source with its thumbnails, status and errors."""
    parts = [f"<!doctype html><meta charset='utf-8'><title>thumbflow contact sheet</title>"
             f"<style>{_CSS}</style><h1>thumbflow: {len(results)} sources</h1>"]
    for r in results:
        parts.append(f"<section class='src {html.escape(r.status)}'>")
        parts.append(f"<b>{html.escape(r.key)}</b> <span class='status'>{html.escape(r.status)}"
                     f"</span> <small>{html.escape(r.source)}</small>")
        if r.error:
            parts.append(f"<div class='err'>{html.escape(r.error)}: {html.escape(r.cause or '')}"
                         f"</div>")
        if r.alerts:
            parts.append(f"<div><small>{len(r.alerts)} alert(s) sent</small></div>")
        if r.events:
            told = ", ".join(html.escape(str(e.get("detail-type"))) for e in r.events)
            parts.append(f"<div class='events'><small>events: {told}</small></div>")
        parts.append(_placeholder(r))
        parts.append("<div class='thumbs'>")
        for t in r.thumbnails:
            rel = safe_local_path(out_dir, t["key"]).relative_to(out_dir.resolve()).as_posix()
            parts.append(
                f"<figure><img src='{html.escape(quote(rel))}' width='{t['width']}' "
                f"height='{t['height']}' alt='{html.escape(t['key'])}'>"
                f"<figcaption>{t['width']}x{t['height']} {html.escape(str(t['format']))} "
                f"{t['bytes']} B</figcaption></figure>")
        parts.append("</div></section>")
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "index.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
