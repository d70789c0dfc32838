"""bands: whole-image conversions and resizes a band at a time give exactly Pillow's bytes.

The oracle is Pillow itself on the whole image: ``Image.resize`` (which premultiplies all
of an RGBA image first), ``convert`` and ``point``. Bands are made tiny so every case
crosses many band edges.
"""

from __future__ import annotations

import random

import pytest
from PIL import Image
from thumbnailer.imaging import bands

LANCZOS, BICUBIC = Image.Resampling.LANCZOS, Image.Resampling.BICUBIC
# Every filter Pillow resamples with (the bench tries the cheap ones on the engine's steps).
FILTERS = [Image.Resampling.BOX, Image.Resampling.BILINEAR, Image.Resampling.HAMMING, BICUBIC, LANCZOS]


@pytest.fixture(autouse=True)
def tiny_bands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bands, "BAND_PIXELS", 3000)


def noise(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    return Image.frombytes(mode, size, random.Random(seed).randbytes(size[0] * size[1] * len(mode)))


def random_resize(rng: random.Random, size: tuple[int, int]) -> tuple[tuple[int, int], tuple[float, ...]]:
    """An output size no larger than the source, and a box that is whole or a random region."""
    w, h = size
    out = (rng.randint(1, w), rng.randint(1, h))
    x0 = rng.uniform(0, w - 1) if rng.random() < 0.5 else 0
    y0 = rng.uniform(0, h - 1) if rng.random() < 0.5 else 0
    x1 = rng.uniform(x0 + 0.5, w) if rng.random() < 0.5 else w
    y1 = rng.uniform(y0 + 0.5, h) if rng.random() < 0.5 else h
    return out, (x0, y0, x1, y1)


@pytest.mark.parametrize("seed", range(8))
def test_premultiplied_resize_is_pillows_resize(seed: int) -> None:
    rng = random.Random(seed)
    for trial in range(40):
        mode = rng.choice(["RGBA", "LA"])
        im = noise(mode, (rng.randint(1, 400), rng.randint(1, 400)), seed * 100 + trial)
        size, box = random_resize(rng, im.size)
        gap = rng.choice([None, 2.0, 3.0])
        resample = rng.choice(FILTERS)
        want = im.resize(size, resample, box, gap)
        got = bands.premultiplied_resize(im, size, resample, box, gap)
        assert (got.mode, got.size, got.tobytes()) == (want.mode, want.size, want.tobytes()), (
            im.size,
            size,
            box,
        )


@pytest.mark.parametrize("seed", range(4))
def test_an_opaque_alpha_resized_as_stored_equals_resizing_its_colour_channels(seed: int) -> None:
    rng = random.Random(seed)
    for trial in range(40):
        mode = rng.choice(["RGBA", "LA", "RGBX"])
        im = noise(mode, (rng.randint(1, 300), rng.randint(1, 300)), seed * 100 + trial)
        if mode != "RGBX":
            im.putalpha(255)
        size, box = random_resize(rng, im.size)
        colour = "L" if mode == "LA" else "RGB"
        want = im.convert(colour).resize(size, LANCZOS, box, 3.0)
        got = bands.plain_resize(im, size, LANCZOS, box, 3.0).convert(colour)
        assert got.tobytes() == want.tobytes(), (mode, im.size, size, box)


def test_the_pass_order_rule_is_pillows() -> None:
    """Pillow runs the vertical pass first exactly when ``vertical_first`` says so."""
    rng = random.Random(11)
    checked = 0
    for _ in range(300):
        w, h = rng.randint(4, 120), rng.randint(4, 120)
        size = (rng.randint(1, w), rng.randint(1, h))
        im = noise("L", (w, h), rng.randrange(1000))
        whole = im.resize(size, LANCZOS).tobytes()
        across = im.resize((size[0], h), LANCZOS).resize(size, LANCZOS).tobytes()
        down = im.resize((w, size[1]), LANCZOS).resize(size, LANCZOS).tobytes()
        if across == down:
            continue  # this case cannot tell the orders apart
        checked += 1
        assert whole == (down if bands.vertical_first((w, h), size) else across), ((w, h), size)
    assert checked > 100


@pytest.mark.parametrize(
    ("mode", "target", "fn"),
    [
        ("I;16", "L", lambda b: b.convert("I").point(lambda v: v * (1 / 257)).convert("L")),
        ("P", "RGBA", lambda b: b.convert("RGBA")),
        ("RGBA", "RGBa", lambda b: b.convert("RGBa")),
        ("F", "L", lambda b: b.point(lambda v: v * 0.5 + 3).convert("L")),
    ],
)
def test_banded_conversion_is_the_whole_conversion(mode: str, target: str, fn: object) -> None:
    src = noise("RGBA", (123, 77), 5)
    src = {
        "I;16": lambda: src.convert("L").convert("I").point(lambda v: v * 257).convert("I;16"),
        "P": lambda: src.convert("RGB").quantize(64),
        "RGBA": lambda: src,
        "F": lambda: src.convert("L").convert("F"),
    }[mode]()
    if mode == "P":
        src.info["transparency"] = 3
    out = bands.convert(src, target, fn)  # type: ignore[arg-type]
    assert out.tobytes() == fn(src).tobytes()  # type: ignore[operator]


def test_alpha_used_looks_at_every_band() -> None:
    im = Image.new("RGBA", (50, 400), (1, 2, 3, 255))
    assert not bands.alpha_used(im)
    im.putpixel((49, 399), (1, 2, 3, 254))  # the last pixel of the last band
    assert bands.alpha_used(im)


def test_bands_hold_whole_blocks_and_at_least_a_row() -> None:
    assert bands.rows(3000) == 1
    assert bands.rows(10) == 300
    assert bands.rows(100, multiple=7) % 7 == 0
    assert bands.rows(10**6, multiple=4) == 4
