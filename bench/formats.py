"""AVIF vs WebP vs JPEG at the default sizes: bytes, encode CPU and error, measured here and now.

``python -m bench.formats [--reps N] [--side PX]`` renders each default size (Configure's four:
128 cover, 256, 512 and 1024 inside) of two bench corpus images, an opaque photo and the same
photo with real transparency, once with the engine into lossless pixels, then times only the
encoder on those pixels, format by format, with the engine's own settings (``encode.encode``):
CPU milliseconds (process time, the fastest of ``--reps``), bytes, and the mean absolute error
against the lossless pixels (0..255 per channel, alpha included), so equal quality settings
can be seen to mean about equal fidelity. A second table sweeps libaom's speed at the default
sizes, for the ``AVIF_SPEED`` choice. One thread throughout, as the engine encodes.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageStat
from thumbnailer.imaging import encode, render
from thumbnailer.spec import SizeSpec

from bench.corpus import alpha_mask, photo

# Configure's default sizes (statemachine/thumbnails.asl.json), format left to this bench.
DEFAULT_SIZES: tuple[tuple[str, int, int, str, int], ...] = (
    ("thumb", 128, 128, "cover", 80),
    ("small", 256, 256, "inside", 80),
    ("medium", 512, 512, "inside", 80),
    ("large", 1024, 1024, "inside", 82),
)
FORMATS = ("jpeg", "webp", "avif")
SPEEDS = (4, 6, 7, 8, 9, 10)


@dataclass(frozen=True)
class Row:
    source: str
    size: str
    fmt: str
    pixels: tuple[int, int]
    bytes: int
    cpu_ms: float
    error: float


def sources(side: int) -> dict[str, bytes]:
    """The bench corpus's photo (seed 2, as ``jpeg-2mp``) and its RGBA variant (as ``png-12mp-rgba``),
    ``side`` pixels wide at 4:3, as lossless PNG so nothing but the engine shapes the thumbnails."""
    size = (side, side * 3 // 4)
    opaque = photo(size, 2)
    clear = photo(size, 15)
    clear.putalpha(alpha_mask(size, 15))
    out = {}
    for name, im in (("photo", opaque), ("photo+alpha", clear)):
        buf = io.BytesIO()
        im.save(buf, "PNG", compress_level=1)
        out[name] = buf.getvalue()
    return out


def thumbnails(data: bytes) -> list[tuple[str, int, Image.Image]]:
    """(size name, quality, lossless engine pixels) for each default size."""
    specs = [SizeSpec(w, h, fit, "png", q, name) for name, w, h, fit, q in DEFAULT_SIZES]
    made = render(data, specs, max_pixels=100_000_000)
    out = []
    for spec, rendition in zip(specs, made, strict=True):
        im = Image.open(io.BytesIO(rendition.body))
        im.load()
        out.append((spec.name, spec.quality, im))
    return out


def cpu_ms(work: Callable[[], bytes], reps: int) -> tuple[float, bytes]:
    """The fastest of ``reps`` runs, in CPU milliseconds of this process, and what it made."""
    best, body = float("inf"), b""
    for _ in range(reps):
        started = time.process_time()
        body = work()
        best = min(best, time.process_time() - started)
    return best * 1000, body


def error(reference: Image.Image, body: bytes) -> float:
    """Mean absolute difference per channel; with alpha, of premultiplied RGBA (what is seen:
    colour under a transparent pixel does not count, a JPEG's lost alpha does)."""
    got = Image.open(io.BytesIO(body))
    if reference.mode == "RGBA":
        diff = ImageChops.difference(reference.convert("RGBa"), got.convert("RGBA").convert("RGBa"))
        return sum(ImageStat.Stat(diff).mean) / 4
    diff = ImageChops.difference(reference.convert("RGB"), got.convert("RGB"))
    return sum(ImageStat.Stat(diff).mean) / 3


def measure(reps: int, side: int) -> list[Row]:
    rows = []
    for source, data in sources(side).items():
        for size, quality, im in thumbnails(data):
            for fmt in FORMATS:
                ms, body = cpu_ms(lambda im=im, fmt=fmt, q=quality: encode.encode(im.copy(), fmt, q), reps)
                rows.append(Row(source, size, fmt, im.size, len(body), ms, error(im, body)))
    return rows


def sweep(reps: int, side: int) -> list[tuple[int, str, int, float]]:
    """(speed, source, total bytes, total CPU ms) over the four default sizes."""
    out = []
    saved = encode.AVIF_SPEED
    try:
        for source, data in sources(side).items():
            made = thumbnails(data)
            for speed in SPEEDS:
                encode.AVIF_SPEED = speed
                total_bytes, total_ms = 0, 0.0
                for _, quality, im in made:
                    ms, body = cpu_ms(lambda im=im, q=quality: encode.encode(im.copy(), "avif", q), reps)
                    total_bytes, total_ms = total_bytes + len(body), total_ms + ms
                out.append((speed, source, total_bytes, total_ms))
    finally:
        encode.AVIF_SPEED = saved
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="runs per encode; the fastest counts")
    parser.add_argument("--side", type=int, default=1632, help="source width in pixels (4:3)")
    args = parser.parse_args(argv)
    rows = measure(args.reps, args.side)
    print(f"encode only, engine settings (AVIF speed {encode.AVIF_SPEED}), fastest of {args.reps}, "
          f"sources {args.side}x{args.side * 3 // 4}")
    print(f"{'source':<12} {'size':<7} {'pixels':>9}  " + "  ".join(
        f"{f + ' bytes':>10} {'ms':>6} {'err':>5}" for f in FORMATS))
    for i in range(0, len(rows), len(FORMATS)):
        group = rows[i : i + len(FORMATS)]
        first = group[0]
        cells = "  ".join(f"{r.bytes:>10,} {r.cpu_ms:>6.1f} {r.error:>5.2f}" for r in group)
        print(f"{first.source:<12} {first.size:<7} {first.pixels[0]:>4}x{first.pixels[1]:<4}  {cells}")
    for source in dict.fromkeys(r.source for r in rows):
        totals = {f: (sum(r.bytes for r in rows if r.source == source and r.fmt == f),
                      sum(r.cpu_ms for r in rows if r.source == source and r.fmt == f)) for f in FORMATS}
        print(f"{source:<12} all four: " + ", ".join(
            f"{f} {b:,} B {ms:.1f} ms" for f, (b, ms) in totals.items()))
    print(f"\nAVIF speed sweep (quality as configured, mapped), all four sizes, fastest of {args.reps}")
    print(f"{'speed':>5}  {'source':<12} {'bytes':>9} {'cpu ms':>8}")
    for speed, source, total_bytes, total_ms in sweep(args.reps, args.side):
        print(f"{speed:>5}  {source:<12} {total_bytes:>9,} {total_ms:>8.1f}")


if __name__ == "__main__":
    main()
