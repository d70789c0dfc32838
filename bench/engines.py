"""The contenders, each making the same sizes from the same source bytes.

* ``engine``        thumbflow as the workflow runs it: one ``imaging.render`` for the whole group.
* ``engine-groups`` thumbflow with ``groupMaxPixels`` 0: one ``render`` call (one decode) per size.
* ``simple``        the textbook method: per size reopen the bytes, ``Image.thumbnail``
                    (cover: ``ImageOps.fit``), upright it and save.
* ``pyvips``        ``pyvips.Image.thumbnail_buffer`` per size (shrink-on-load) and ``write_to_buffer``.

Every engine returns one ``Output`` per size, in spec order, and reports per-size CPU time
through ``tick`` where it makes sizes one at a time.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFINITION = REPO / "statemachine" / "thumbnails.asl.json"
MAX_PIXELS = 100_000_000  # template.yaml MaxSourcePixels default

Tick = Callable[[int, float], None]  # (size index, CPU seconds)


@dataclass
class Output:
    width: int
    height: int
    format: str
    body: bytes


def configure() -> tuple[list[dict[str, Any]], int]:
    """The Configure state's sizes and groupMaxPixels, straight from the definition."""
    config = json.loads(DEFINITION.read_text(encoding="utf-8"))["States"]["Configure"]["Parameters"]["config"]
    return config["sizes"], int(config["groupMaxPixels"])


def specs() -> list[Any]:
    from thumbnailer.spec import parse_sizes

    return parse_sizes(configure()[0])


def _auto(fmt: str, has_alpha: bool) -> str:
    return ("webp" if has_alpha else "jpeg") if fmt == "auto" else fmt


def engine(data: bytes, sizes: Sequence[Any], tick: Tick | None = None) -> list[Output]:
    from thumbnailer import imaging

    made = imaging.render(data, sizes, max_pixels=MAX_PIXELS)
    return [Output(r.width, r.height, r.format, r.body) for r in made]


def engine_groups(data: bytes, sizes: Sequence[Any], tick: Tick | None = None) -> list[Output]:
    from thumbnailer import imaging

    out = []
    for i, spec in enumerate(sizes):
        t0 = time.process_time()
        (r,) = imaging.render(data, [spec], max_pixels=MAX_PIXELS)
        if tick:
            tick(i, time.process_time() - t0)
        out.append(Output(r.width, r.height, r.format, r.body))
    return out


def simple(data: bytes, sizes: Sequence[Any], tick: Tick | None = None) -> list[Output]:
    from PIL import Image, ImageOps

    out = []
    for i, spec in enumerate(sizes):
        t0 = time.process_time()
        im = Image.open(io.BytesIO(data))
        orientation = im.getexif().get(0x0112, 1)
        box = (spec.width, spec.height)
        if orientation in (5, 6, 7, 8):
            box = box[::-1]  # fit the stored image into the box as it will be displayed
        if spec.fit == "cover":
            im = ImageOps.fit(im, box, Image.Resampling.LANCZOS)
        else:
            im.thumbnail(box, Image.Resampling.LANCZOS)
        im = ImageOps.exif_transpose(im)
        has_alpha = im.mode in ("RGBA", "LA", "PA", "P")
        fmt = _auto(spec.format, has_alpha)
        if fmt == "jpeg" and im.mode != "RGB":
            im = im.convert("RGB")
        buf = io.BytesIO()
        im.save(buf, "JPEG" if fmt == "jpeg" else fmt.upper(), quality=spec.quality)
        if tick:
            tick(i, time.process_time() - t0)
        out.append(Output(im.width, im.height, fmt, buf.getvalue()))
    return out


def vips(data: bytes, sizes: Sequence[Any], tick: Tick | None = None) -> list[Output]:
    import pyvips

    out = []
    for i, spec in enumerate(sizes):
        t0 = time.process_time()
        options: dict[str, Any] = {"height": spec.height}
        if spec.fit == "cover":
            options["crop"] = "centre"
        else:
            options["size"] = "down"
        im = pyvips.Image.thumbnail_buffer(data, spec.width, **options)
        fmt = _auto(spec.format, im.hasalpha())
        body = im.write_to_buffer(".jpg" if fmt == "jpeg" else f".{fmt}", Q=spec.quality, strip=True)
        if tick:
            tick(i, time.process_time() - t0)
        out.append(Output(im.width, im.height, fmt, body))
    return out


ENGINES: dict[str, Callable[..., list[Output]]] = {
    "engine": engine,
    "engine-groups": engine_groups,
    "simple": simple,
    "pyvips": vips,
}
