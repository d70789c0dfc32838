"""A deterministic, photo-like test corpus, generated at run time (nothing large is committed).

"Photo-like" means what costs a codec real work: smooth gradients, hard-edged shapes, a
blotchy mid-frequency texture and per-pixel grain. At q90 a 12 MP image comes out at
~3 MB, in the range of a phone photo, so decode and encode costs are realistic.
Pillow only (numpy is not needed); every random choice comes from ``random.Random(seed)``.
"""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

GRAIN = 0.08  # weight of the per-pixel noise: ~3 MB per 12 MP at q90


@dataclass(frozen=True)
class Case:
    """One source image of the corpus."""

    name: str
    size: tuple[int, int]  # stored pixels
    kind: str  # jpeg | progressive | exif6 | png-rgba
    seed: int
    timed: bool = True  # False: peak memory only (too slow to repeat)

    @property
    def megapixels(self) -> float:
        return self.size[0] * self.size[1] / 1e6

    @property
    def filename(self) -> str:
        return f"{self.name}.{'png' if self.kind == 'png-rgba' else 'jpg'}"


CASES: tuple[Case, ...] = (
    Case("jpeg-2mp", (1632, 1224), "jpeg", 2),
    Case("jpeg-12mp", (4000, 3000), "jpeg", 12),
    Case("jpeg-24mp", (6000, 4000), "jpeg", 24),
    Case("jpeg-12mp-progressive", (4000, 3000), "progressive", 13),
    Case("jpeg-12mp-exif6", (4000, 3000), "exif6", 14),
    Case("png-12mp-rgba", (4000, 3000), "png-rgba", 15),
    Case("jpeg-100mp", (11520, 8640), "jpeg", 100, timed=False),  # 99.5 MP, under MaxSourcePixels
)


def photo(size: tuple[int, int], seed: int) -> Image.Image:
    """An RGB image with gradients, shapes, texture and grain; the same for the same seed."""
    w, h = size
    rnd = random.Random(seed)
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
    for _ in range(60):
        x0, y0 = rnd.randrange(-lw // 4, lw), rnd.randrange(-lh // 4, lh)
        s = rnd.randrange(max(2, lw // 40), max(3, lw // 3))
        colour = tuple(rnd.randrange(256) for _ in range(3))
        pick = rnd.random()
        if pick < 0.4:
            draw.ellipse((x0, y0, x0 + s, y0 + int(s * rnd.uniform(0.4, 1.6))), fill=colour)
        elif pick < 0.8:
            corners = rnd.randrange(3, 7)
            points = [(x0 + rnd.randrange(-s, s), y0 + rnd.randrange(-s, s)) for _ in range(corners)]
            draw.polygon(points, fill=colour)
        else:
            end = (x0 + rnd.randrange(-s, s), y0 + rnd.randrange(-s, s))
            draw.line((x0, y0, *end), fill=colour, width=rnd.randrange(1, 6))
    for _ in range(1500):  # small detail ("foliage")
        x0, y0 = rnd.randrange(lw), rnd.randrange(lh)
        s = rnd.randrange(1, max(2, lw // 150))
        draw.ellipse((x0, y0, x0 + s, y0 + s), fill=tuple(rnd.randrange(256) for _ in range(3)))
    texture = Image.frombytes("RGB", (lw, lh), rnd.randbytes(lw * lh * 3))
    low = Image.blend(low.filter(ImageFilter.BoxBlur(1)), texture, 0.12)
    big = low.resize((w, h), Image.Resampling.BILINEAR)
    # Grain: a random tile whose sides are not multiples of 8, so no two JPEG blocks repeat.
    tw, th = min(w, 1021), min(h, 997)
    tile = Image.frombytes("RGB", (tw, th), rnd.randbytes(tw * th * 3))
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
    """Encode one case into ``folder``: JPEG q90 4:2:0 (baseline, progressive or EXIF 6) or RGBA PNG."""
    path = folder / case.filename
    im = photo(case.size, case.seed)
    if case.kind == "png-rgba":
        im.putalpha(alpha_mask(case.size, case.seed))
        im.save(path, "PNG", compress_level=3)
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


def build(folder: Path, cases: tuple[Case, ...] = CASES, workers: int = 2) -> dict[str, Path]:
    """Write every case (in ``workers`` processes); name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(workers) as pool:
        paths = list(pool.map(write, cases, [folder] * len(cases)))
    return {case.name: path for case, path in zip(cases, paths, strict=True)}


def local_set(folder: Path, count: int, workers: int = 2) -> list[Path]:
    """``count`` distinct 12 MP JPEGs (q90 4:2:0) for the local-mode run."""
    cases = tuple(Case(f"local-{i:03d}", (4000, 3000), "jpeg", 1000 + i) for i in range(count))
    return list(build(folder, cases, workers).values())
