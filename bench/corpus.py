"""A deterministic, photo-like test corpus, generated at run time (nothing large is committed).

"Photo-like" means what costs a codec real work and what a scaled decode can lose: detail
at every scale. Smooth gradients and large shapes (drawn at 1/4 scale), blotchy texture at
1/64, 1/16 and 1/4 scale with finer octaves weaker (the 1/f spectrum of a photograph), then,
at full resolution, hard-edged shapes, thin lines and specks softened by a 3x3 "lens" blur,
and per-pixel grain. Detail near full resolution matters: an image that is smooth below 1/4
scale would make decoding at 1/4 look free. At q90 a 12 MP image comes out at ~2.8 MB, in
the range of a phone photo. Pillow only; every random choice comes from ``random.Random(seed)``.
No real photograph ships with an installed package, so there is none to build from.
"""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

GRAIN = 0.05  # weight of the per-pixel noise
OCTAVES = ((64, 0.22), (16, 0.16), (4, 0.12))  # (1/scale, blend weight) of the texture layers
LENS = ImageFilter.Kernel((3, 3), [1, 2, 1, 2, 4, 2, 1, 2, 1])
EXTENSIONS = {"png-rgba": "png", "webp": "webp"}


@dataclass(frozen=True)
class Case:
    """One source image of the corpus."""

    name: str
    size: tuple[int, int]  # stored pixels
    kind: str  # jpeg | progressive | exif6 | png-rgba | webp
    seed: int
    timed: bool = True  # False: peak memory only (too slow to repeat)

    @property
    def megapixels(self) -> float:
        return self.size[0] * self.size[1] / 1e6

    @property
    def filename(self) -> str:
        return f"{self.name}.{EXTENSIONS.get(self.kind, 'jpg')}"

    @property
    def family(self) -> str:
        """jpeg, png or webp: which target the case is judged by."""
        return EXTENSIONS.get(self.kind, "jpeg")


CASES: tuple[Case, ...] = (
    Case("jpeg-2mp", (1632, 1224), "jpeg", 2),
    Case("jpeg-12mp", (4000, 3000), "jpeg", 12),
    Case("jpeg-24mp", (6000, 4000), "jpeg", 24),
    Case("jpeg-12mp-progressive", (4000, 3000), "progressive", 13),
    Case("jpeg-12mp-exif6", (4000, 3000), "exif6", 14),
    Case("png-12mp-rgba", (4000, 3000), "png-rgba", 15),
    Case("webp-24mp", (6000, 4000), "webp", 25),
    Case("jpeg-100mp", (11520, 8640), "jpeg", 100, timed=False),  # 99.5 MP, under MaxSourcePixels
)


def _random_rgb(rnd: random.Random, size: tuple[int, int]) -> Image.Image:
    return Image.frombytes("RGB", size, rnd.randbytes(size[0] * size[1] * 3))


def _backdrop(size: tuple[int, int], rnd: random.Random) -> Image.Image:
    """Gradients and large shapes, drawn at 1/4 scale and enlarged smoothly."""
    w, h = size
    lw, lh = max(16, w // 4), max(16, h // 4)
    ramp = Image.linear_gradient("L")
    channels = []
    for _ in range(3):
        c = ramp.rotate(rnd.uniform(0, 360), Image.Resampling.BILINEAR, fillcolor=rnd.randrange(256))
        lo, hi = rnd.randrange(0, 120), rnd.randrange(136, 256)
        c = c.point(lambda v, lo=lo, hi=hi: lo + v * (hi - lo) // 255)
        channels.append(c.resize((lw, lh), Image.Resampling.BILINEAR))
    low = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(low)
    for _ in range(40):
        x0, y0 = rnd.randrange(-lw // 4, lw), rnd.randrange(-lh // 4, lh)
        s = rnd.randrange(max(2, lw // 40), max(3, lw // 3))
        colour = tuple(rnd.randrange(256) for _ in range(3))
        if rnd.random() < 0.5:
            draw.ellipse((x0, y0, x0 + s, y0 + int(s * rnd.uniform(0.4, 1.6))), fill=colour)
        else:
            corners = rnd.randrange(3, 7)
            draw.polygon([(x0 + rnd.randrange(-s, s), y0 + rnd.randrange(-s, s)) for _ in range(corners)],
                         fill=colour)
    return low.filter(ImageFilter.BoxBlur(1)).resize((w, h), Image.Resampling.BICUBIC)


def _fine_detail(im: Image.Image, rnd: random.Random) -> None:
    """Full-resolution edges: polygons, rings, thin lines (density per pixel independent of size)."""
    w, h = im.size
    area = w * h / 12e6
    draw = ImageDraw.Draw(im)
    for _ in range(int(120 * area) + 20):
        x0, y0 = rnd.randrange(w), rnd.randrange(h)
        s = rnd.randrange(max(4, w // 200), max(5, w // 12))
        colour = tuple(rnd.randrange(256) for _ in range(3))
        if rnd.random() < 0.5:
            corners = rnd.randrange(3, 6)
            draw.polygon([(x0 + rnd.randrange(-s, s), y0 + rnd.randrange(-s, s)) for _ in range(corners)],
                         fill=colour)
        else:
            draw.ellipse((x0, y0, x0 + s, y0 + s), outline=colour, width=rnd.randrange(1, 4))
    for _ in range(int(4000 * area) + 100):
        x0, y0 = rnd.randrange(w), rnd.randrange(h)
        reach = rnd.randrange(5, max(6, w // 40))
        end = (x0 + rnd.randrange(-reach, reach), y0 + rnd.randrange(-reach, reach))
        v = rnd.randrange(256)
        colour = (v, max(0, v - rnd.randrange(60)), min(255, v + rnd.randrange(60)))
        draw.line((x0, y0, *end), fill=colour, width=rnd.randrange(1, 3))


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """An RGB image with detail at every scale and grain; the same for the same seed."""
    w, h = size
    rnd = random.Random(seed)
    big = _backdrop(size, rnd)
    for div, weight in OCTAVES:
        layer = _random_rgb(rnd, (max(2, w // div), max(2, h // div)))
        big = Image.blend(big, layer.resize((w, h), Image.Resampling.BICUBIC), weight)
    _fine_detail(big, rnd)
    big = big.filter(LENS)
    # Grain: a random tile whose sides are not multiples of 8, so no two JPEG blocks repeat.
    tw, th = min(w, 1021), min(h, 997)
    tile = _random_rgb(rnd, (tw, th))
    grain = Image.new("RGB", (w, h))
    for y in range(0, h, th):
        for x in range(0, w, tw):
            grain.paste(tile, (x, y))
    return Image.blend(big, grain, GRAIN)


def alpha_mask(size: tuple[int, int], seed: int) -> Image.Image:
    """Real transparency: a transparent background, opaque shapes, soft and half-transparent edges."""
    w, h = size
    rnd = random.Random(seed * 7919)
    lw, lh = max(16, w // 8), max(16, h // 8)
    mask = Image.new("L", (lw, lh), 0)
    draw = ImageDraw.Draw(mask)
    draw.ellipse((lw * 0.1, lh * 0.1, lw * 0.8, lh * 0.9), fill=255)
    for _ in range(25):
        x0, y0 = rnd.randrange(lw), rnd.randrange(lh)
        s = rnd.randrange(max(2, lw // 30), max(3, lw // 5))
        draw.ellipse((x0, y0, x0 + s, y0 + s), fill=rnd.choice((0, 96, 160, 255)))
    return mask.filter(ImageFilter.BoxBlur(2)).resize((w, h), Image.Resampling.BILINEAR)


def write(case: Case, folder: Path) -> Path:
    """Encode one case: JPEG q90 4:2:0 (baseline, progressive or EXIF 6), RGBA PNG or lossy WebP q90."""
    path = folder / case.filename
    im = photo(case.size, case.seed)
    if case.kind == "png-rgba":
        im.putalpha(alpha_mask(case.size, case.seed))
        im.save(path, "PNG", compress_level=3)
        return path
    if case.kind == "webp":
        im.save(path, "WEBP", quality=90, method=4)
        return path
    options: dict[str, object] = {"quality": 90, "subsampling": 2}
    if case.kind == "progressive":
        options["progressive"] = True
    if case.kind == "exif6":
        exif = Image.Exif()
        exif[0x0112] = 6  # stored landscape, displayed portrait (rotate 90 degrees clockwise)
        options["exif"] = exif.tobytes()
    im.save(path, "JPEG", **options)
    return path


def build(folder: Path, cases: tuple[Case, ...] = CASES, workers: int = 2,
          reuse: bool = False) -> dict[str, Path]:
    """Write every case (in ``workers`` processes); ``reuse``: only those not in ``folder`` yet
    (a folder kept from before a change to this module holds the old images: empty it)."""
    folder.mkdir(parents=True, exist_ok=True)
    todo = tuple(c for c in cases if not (reuse and (folder / c.filename).is_file()))
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(write, todo, [folder] * len(todo)))
    return {case.name: folder / case.filename for case in cases}


def local_set(folder: Path, count: int, workers: int = 2) -> list[Path]:
    """``count`` distinct 12 MP JPEGs (q90 4:2:0) for the local-mode run."""
    cases = tuple(Case(f"local-{i:03d}", (4000, 3000), "jpeg", 1000 + i) for i in range(count))
    return list(build(folder, cases, workers).values())
