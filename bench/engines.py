"""The contenders, each making the same sizes from the same source bytes.

* ``engine``  thumbflow as the workflow runs it: one ``imaging.render`` for the whole group.
* ``sharp``   sharp's best pipeline (Node.js, bench/node/worker.mjs): decode once with
              shrink-on-load for the largest size, each smaller size from the previous output.
* ``pyvips``  libvips' best pipeline: ``thumbnail_buffer`` (shrink-on-load, auto-rotate) to the
              largest size, each smaller size ``thumbnail_image`` of the previous output.
* ``floor``   what thumbflow cannot avoid: decode at the scale it chooses (JPEG DCT, libwebp's
              rescaler: recorded from a real ``render``) and encode its outputs (prepared
              beforehand), with no resize.
* ``before``  thumbflow again, from the copy of the engine ``--baseline-path`` names (optional): a
              change to the engine measured against the engine before it, in the same rounds.
* ``simple``  the textbook Lambda: per size reopen the bytes, ``Image.thumbnail`` (cover:
              ``ImageOps.fit``), upright it and save. Context only; not judged.

Encoder settings are as close as the libraries allow: JPEG at the spec's quality, 4:2:0,
baseline, Huffman tables optimised (sharp's default; pyvips asked for it; thumbflow decides per
size); WebP at the spec's quality, effort 4, lossless alpha; no metadata; EXIF orientation
applied. ``auto`` is WebP when the decoded image has alpha (the corpus' alpha is real), else
JPEG. libvips' operation cache is off, so a repeated run cannot reuse an earlier one's pixels.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFINITION = REPO / "statemachine" / "thumbnails.asl.json"
MAX_PIXELS = 100_000_000  # template.yaml MaxSourcePixels default
PEERS = ("sharp", "pyvips")  # each one's best pipeline; the faster one per case is "best"
JUDGED = ("engine", *PEERS, "floor")  # measured in every round
NODE_ENGINES = ("sharp",)


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
    """Configure's sizes, every crop centred: the peers' pipelines crop at the centre and the
    quality reference is the centred crop, so thumbflow is compared doing the same work. What
    ``gravity: smart`` adds (the default thumb's) is measured apart, by ``bench.smartcrop``."""
    from dataclasses import replace

    from thumbnailer.spec import parse_sizes

    return [replace(s, gravity="centre") for s in parse_sizes(configure()[0])]


def _auto(fmt: str, has_alpha: bool) -> str:
    return ("webp" if has_alpha else "jpeg") if fmt == "auto" else fmt


def largest_first(sizes: Sequence[Any]) -> list[int]:
    """Spec indexes by output area, largest first: the order a chained pipeline makes them."""
    return sorted(range(len(sizes)), key=lambda i: -sizes[i].width * sizes[i].height)


def engine(data: bytes, sizes: Sequence[Any]) -> list[Output]:
    from thumbnailer import imaging

    made = imaging.render(data, sizes, max_pixels=MAX_PIXELS)
    return [Output(r.width, r.height, r.format, r.body) for r in made]


def simple(data: bytes, sizes: Sequence[Any]) -> list[Output]:
    from PIL import Image, ImageOps

    out = []
    for spec in sizes:
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
        fmt = _auto(spec.format, im.mode in ("RGBA", "LA", "PA", "P"))
        if fmt == "jpeg" and im.mode != "RGB":
            im = im.convert("RGB")
        buf = io.BytesIO()
        im.save(buf, "JPEG" if fmt == "jpeg" else fmt.upper(), quality=spec.quality)
        out.append(Output(im.width, im.height, fmt, buf.getvalue()))
    return out


def vips_encode(im: Any, fmt: str, quality: int) -> bytes:
    """pyvips' encoders with the settings above."""
    if fmt == "jpeg":
        return bytes(im.write_to_buffer(".jpg", Q=quality, optimize_coding=True, keep="none"))
    return bytes(im.write_to_buffer(f".{fmt}", Q=quality, effort=4, keep="none"))


def vips(data: bytes, sizes: Sequence[Any]) -> list[Output]:
    import pyvips

    pyvips.cache_set_max(0)
    out: list[Output | None] = [None] * len(sizes)
    prev = None
    for i in largest_first(sizes):
        spec = sizes[i]
        options: dict[str, Any] = {"height": spec.height}
        options["crop" if spec.fit == "cover" else "size"] = "centre" if spec.fit == "cover" else "down"
        if prev is None:
            im = pyvips.Image.thumbnail_buffer(data, spec.width, **options)
        else:
            im = prev.thumbnail_image(spec.width, **options)
        im = im.copy_memory()  # made once here; the next size reads these pixels, not the source
        fmt = _auto(spec.format, im.hasalpha())
        out[i] = Output(im.width, im.height, fmt, vips_encode(im, fmt, spec.quality))
        prev = im
    return [o for o in out if o is not None]


class _Floor:
    """Decode as thumbflow does, encode thumbflow's outputs; prepared on the first (warm-up) call."""

    def __init__(self) -> None:
        self.key: tuple[int, int] | None = None
        self.draft: tuple[str, tuple[int, int]] | None = None
        self.webp: tuple[tuple[Any, ...], dict[str, Any]] | None = None  # libwebp's call, if direct
        self.outputs: list[tuple[Any, str, int]] = []

    def prepare(self, data: bytes, sizes: Sequence[Any]) -> None:
        from PIL import Image, JpegImagePlugin
        from thumbnailer.imaging import webp

        seen: list[tuple[str, tuple[int, int]]] = []
        calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        original, direct = JpegImagePlugin.JpegImageFile.draft, webp.decode

        def spy(im: Any, mode: str | None, size: tuple[int, int] | None) -> Any:
            seen.append((mode, size))
            return original(im, mode, size)

        def spy_webp(*args: Any, **kwargs: Any) -> Any:
            calls.append((args[1:], kwargs))  # everything but the bytes
            return direct(*args, **kwargs)

        JpegImagePlugin.JpegImageFile.draft = spy  # type: ignore[method-assign]
        webp.decode = spy_webp
        try:
            made = engine(data, sizes)
        finally:
            JpegImagePlugin.JpegImageFile.draft = original  # type: ignore[method-assign]
            webp.decode = direct
        self.draft = seen[-1] if seen else None
        self.webp = calls[-1] if calls else None
        self.outputs = []
        for spec, r in zip(sizes, made, strict=True):
            im = Image.open(io.BytesIO(r.body))
            im.load()
            self.outputs.append((im, r.format, spec.quality))
        self.key = (id(data), len(data))

    def __call__(self, data: bytes, sizes: Sequence[Any]) -> list[Output]:
        from PIL import Image
        from thumbnailer.imaging import encode

        if self.key != (id(data), len(data)):
            self.prepare(data, sizes)
        if self.webp is not None:  # a still WebP: libwebp at the scale thumbflow asked for
            from thumbnailer.imaging import webp

            webp.decode(data, *self.webp[0], **self.webp[1])
        else:
            im = Image.open(io.BytesIO(data))
            if self.draft is not None:
                im.draft(*self.draft)
            im.load()
        return [Output(o.width, o.height, fmt, encode.encode(o, fmt, q)) for o, fmt, q in self.outputs]


floor = _Floor()

ENGINES: dict[str, Callable[[bytes, Sequence[Any]], list[Output]]] = {
    "engine": engine,
    "before": engine,  # the same call, on the copy of the engine --baseline-path names
    "pyvips": vips,
    "floor": floor,
    "simple": simple,
}
