"""Regenerate the demo images in samples/ byte for byte.

The samples are synthetic so they carry no one's photo, EXIF or licence, yet they are
photo-like (gradients, shapes, grain) so thumbnails look like thumbnails. Everything is
drawn from fixed seeds with fixed encoder settings: running this again on the same
Pillow build rewrites identical bytes, so a diff in samples/ means the drawing changed.

    python scripts/make_samples.py
"""

from __future__ import annotations

import random
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw, ImageFilter

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def grain(size: tuple[int, int], seed: int, amplitude: int) -> Image.Image:
    """Seeded grey noise around 128; Pillow's effect_noise cannot be seeded."""
    rnd = random.Random(seed)
    span = 2 * amplitude + 1
    raw = bytes(128 - amplitude + b % span for b in rnd.randbytes(size[0] * size[1]))
    return Image.frombytes("L", size, raw)


def landscape(width: int, height: int, seed: int) -> Image.Image:
    """Sky gradient, sun with a halo, three ranges of hills, a lake and a little film grain."""
    rnd = random.Random(seed)
    ramp = Image.linear_gradient("L").resize((width, height))
    sky = Image.merge(
        "RGB",
        (
            ramp.point(lambda v: 40 + v * 5 // 8),
            ramp.point(lambda v: 95 + v // 2),
            ramp.point(lambda v: 205 + v // 8),
        ),
    )
    halo = Image.new("L", (width, height), 0)
    sun_x, sun_y, sun_r = width * 0.72, height * 0.22, min(width, height) * 0.07
    ImageDraw.Draw(halo).ellipse(
        (sun_x - 3 * sun_r, sun_y - 3 * sun_r, sun_x + 3 * sun_r, sun_y + 3 * sun_r), fill=150
    )
    halo = halo.filter(ImageFilter.GaussianBlur(sun_r))
    sky.paste((255, 236, 170), mask=halo)
    draw = ImageDraw.Draw(sky)
    draw.ellipse((sun_x - sun_r, sun_y - sun_r, sun_x + sun_r, sun_y + sun_r), fill=(255, 244, 200))

    colours = [(96, 122, 150), (62, 112, 70), (38, 86, 44)]
    for layer, colour in enumerate(colours):
        base = height * (0.5 + 0.12 * layer)
        step = width / 24
        ridge = []
        level = base
        for i in range(25):
            level += rnd.uniform(-1, 1) * height * 0.03
            level = min(max(level, base - height * 0.12), base + height * 0.06)
            ridge.append((i * step, level))
        draw.polygon([(0, height), *ridge, (width, height)], fill=colour)
    lake_top = height * 0.84
    draw.rectangle((0, lake_top, width, height), fill=(70, 110, 150))
    for _ in range(40):
        y = lake_top + rnd.uniform(0, height - lake_top)
        x = rnd.uniform(0, width)
        draw.line((x, y, x + rnd.uniform(20, 120), y), fill=(150, 180, 205), width=2)

    sky = sky.filter(ImageFilter.GaussianBlur(1.2))
    noise = Image.merge("RGB", [grain((width, height), seed * 10 + band, 10) for band in range(3)])
    return Image.blend(sky, noise, 0.06)


def logo(size: int) -> Image.Image:
    """A round badge (gradient fill, mountains, sun) on a transparent background, antialiased."""
    big = size * 2
    ramp = Image.linear_gradient("L").resize((big, big))
    fill = Image.merge(
        "RGB",
        (
            ramp.point(lambda v: 30 + v // 3),
            ramp.point(lambda v: 120 + v // 4),
            ramp.point(lambda v: 200 - v // 4),
        ),
    )
    art = fill.copy()
    draw = ImageDraw.Draw(art)
    draw.ellipse((big * 0.58, big * 0.22, big * 0.74, big * 0.38), fill=(255, 210, 90))
    draw.polygon(
        [(big * 0.12, big * 0.78), (big * 0.4, big * 0.36), (big * 0.62, big * 0.78)],
        fill=(245, 245, 245),
    )
    draw.polygon(
        [(big * 0.42, big * 0.78), (big * 0.64, big * 0.5), (big * 0.9, big * 0.78)],
        fill=(215, 225, 235),
    )

    badge = Image.new("L", (big, big), 0)
    ImageDraw.Draw(badge).ellipse((big * 0.06, big * 0.06, big * 0.94, big * 0.94), fill=255)
    shadow = Image.new("L", (big, big), 0)
    ImageDraw.Draw(shadow).ellipse((big * 0.09, big * 0.1, big * 0.97, big * 0.98), fill=110)
    shadow = shadow.filter(ImageFilter.GaussianBlur(big * 0.02))

    out = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    out.paste(Image.new("RGBA", (big, big), (20, 30, 40, 255)), mask=shadow)
    out.paste(art.convert("RGBA"), mask=badge)
    return out.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    SAMPLES.mkdir(exist_ok=True)
    jpeg = {"quality": 85, "optimize": True, "subsampling": 2}

    landscape(1600, 1067, seed=11).save(SAMPLES / "landscape.jpg", "JPEG", **jpeg)
    logo(800).save(SAMPLES / "logo-alpha.png", "PNG", compress_level=9)

    # Drawn upright as 900x1200, stored rotated as 1200x900 with Orientation=6, as phones do.
    upright = landscape(900, 1200, seed=23)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    stored.save(SAMPLES / "portrait-exif-rotated.jpg", "JPEG", exif=exif.tobytes(), **jpeg)

    for path in sorted(SAMPLES.iterdir()):
        print(f"{path.relative_to(SAMPLES.parent)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
