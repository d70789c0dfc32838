"""What the engine's unit tests share: a textured photo, a few measures, a decode spy."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from PIL import Image, ImageFile, ImageStat
from thumbnailer.spec import SizeSpec

from tests import images

CAP = 50_000_000
GRAIN = 0.1  # per-pixel noise everywhere, so encoders and resamplers do real work

AVIF = "AVIF"


def photo(width: int = 320, height: int = 240, seed: int = 1) -> Image.Image:
    return images.photo(width, height, seed=seed, grain=GRAIN)


def spec(w: int, h: int | None = None, fit: str = "inside", fmt: str = "auto", q: int = 80) -> SizeSpec:
    return SizeSpec(w, w if h is None else h, fit, fmt, q)


def opened(body: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(body))
    im.load()
    return im


def mean(im: Image.Image, box: tuple[int, int, int, int] | None = None) -> list[float]:
    return ImageStat.Stat(im.crop(box) if box else im).mean


def close(a: list[float], b: list[float] | tuple[float, ...], tol: float) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


class DecodeSpy:
    """Counts header parses (Pillow image files opened) and decoder instances, and records the
    size each load decodes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opens = 0
        self.decoders = 0
        self.loaded: list[tuple[int, int]] = []
        real_open, real_decoder, real_load = (
            ImageFile.ImageFile.__init__,
            Image._getdecoder,
            ImageFile.ImageFile.load,
        )

        def spy_open(im: ImageFile.ImageFile, *args: object, **kwargs: object) -> None:
            self.opens += 1
            real_open(im, *args, **kwargs)  # type: ignore[arg-type]

        def spy_decoder(*args: object, **kwargs: object) -> object:
            self.decoders += 1
            return real_decoder(*args, **kwargs)  # type: ignore[arg-type]

        def spy_load(im: ImageFile.ImageFile) -> object:
            if im.tile:
                self.loaded.append(im.size)
            return real_load(im)

        monkeypatch.setattr(ImageFile.ImageFile, "__init__", spy_open)
        monkeypatch.setattr(Image, "_getdecoder", spy_decoder)
        monkeypatch.setattr(ImageFile.ImageFile, "load", spy_load)


# Colour oracles from published numbers, not from littlecms or the engine.
# Linear RGB -> linear sRGB (both D65), as published for each gamut (rounded to 4 places).
P3_TO_SRGB = ((1.2249, -0.2247, 0.0), (-0.0420, 1.0419, 0.0), (-0.0197, -0.0786, 1.0979))
BT2020_TO_SRGB = ((1.6605, -0.5876, -0.0728), (-0.1246, 1.1329, -0.0083), (-0.0182, -0.1006, 1.1187))


def srgb_decode(v: float) -> float:
    v /= 255
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def srgb_encode(v: float) -> float:
    v = min(1.0, max(0.0, v))
    return 255 * (12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055)


Matrix = tuple[tuple[float, ...], ...]


def expected(
    matrix: Matrix, rgb: tuple[int, int, int], decode: Callable[[float], float] = srgb_decode
) -> list[float]:
    lin = [decode(c) for c in rgb]
    return [srgb_encode(sum(m * c for m, c in zip(row, lin, strict=True))) for row in matrix]
