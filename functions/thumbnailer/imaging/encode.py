"""Encoding with fixed settings and no metadata, so equal inputs give equal bytes.

Thumbnails carry a digest and are compared across runs and processes: every encoder
option is pinned here, and nothing from the source (EXIF, XMP, ICC, comments) rides along.
"""

from __future__ import annotations

import io
import itertools

from PIL import Image

# JPEG Huffman optimisation (a second entropy-coding pass) only up to this many output
# pixels. It adds ~45% to the encode at every size; on small thumbnails that is <= 1 ms and
# saves 3-9% of their bytes, on a 1024x768 one it is ~4 ms (5% of a 2 MP render) for 2.4%.
JPEG_OPTIMIZE_MAX_PIXELS = 512 * 512

# AVIF (libaom through Pillow). Speed 8 of 0..10, measured by ``python -m bench.formats`` over
# the four default sizes of a 2 MP photo (opaque / with alpha): 144.4 / 132.7 KB in 163 / 249 ms
# of CPU, against speed 6's 139.7 / 126.7 KB in 580 / 695 ms (+3-5% bytes at 28-36% of the CPU);
# speed 9 costs 69 / 100 ms but adds 3% / 9% bytes, which takes opaque AVIF past WebP's 146.2 KB
# and would leave no reason to pick AVIF. One thread: the bytes must not depend on the machine.
AVIF_SPEED = 8
AVIF_THREADS = 1
# Configured quality -> libavif quality giving about the mean absolute error WebP has at that
# quality, measured at the four default sizes on the benchmark's photos (60..90 measured; the
# ends pinned), so ``quality: 80`` means the same fidelity whether the size says webp or avif.
AVIF_QUALITY: tuple[tuple[int, int], ...] = ((1, 1), (60, 48), (70, 51), (80, 62), (90, 77), (100, 100))


def avif_quality(quality: int) -> int:
    """The libavif quality for a configured 1..100, interpolated between measured points."""
    for (q0, a0), (q1, a1) in itertools.pairwise(AVIF_QUALITY):
        if quality <= q1:
            return round(a0 + (a1 - a0) * (max(quality, q0) - q0) / (q1 - q0))
    return AVIF_QUALITY[-1][1]


def encode(im: Image.Image, fmt: str, quality: int) -> bytes:
    """``im`` as ``fmt`` (jpeg, png, webp or avif); JPEG composites alpha on white."""
    if fmt == "jpeg" and im.mode in ("LA", "RGBA"):
        flat = Image.new(im.mode[:-1], im.size, "white")
        flat.paste(im, mask=im.getchannel("A"))  # alpha composited on white
        im = flat
    elif fmt in ("webp", "avif") and im.mode in ("L", "LA"):
        # WebP has no grey; monochrome AVIF is not read everywhere (4:0:0), colour is
        im = im.convert("RGBA" if im.mode == "LA" else "RGB")
    im.info = {}  # resize/transpose copy info: no comment, EXIF, XMP or ICC may ride along
    buf = io.BytesIO()
    if fmt == "jpeg":
        im.save(
            buf,
            "JPEG",
            quality=quality,
            optimize=im.width * im.height <= JPEG_OPTIMIZE_MAX_PIXELS,
            progressive=False,
            subsampling=0 if quality >= 90 else 2,
        )
    elif fmt == "png":
        im.save(buf, "PNG", optimize=False, compress_level=6)
    elif fmt == "avif":
        im.save(
            buf,
            "AVIF",
            quality=avif_quality(quality),
            speed=AVIF_SPEED,
            max_threads=AVIF_THREADS,
            codec="aom",
            subsampling="4:2:0",
            range="full",
        )
    else:
        im.save(buf, "WEBP", quality=quality, method=4)
    return buf.getvalue()
