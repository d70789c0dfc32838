"""Test oracles for placeholders: a BlurHash decoder and a mean colour, written from the
algorithm's description (the BlurHash project's Algorithm.md), not from the engine's encoder."""

from __future__ import annotations

import math

from PIL import Image

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"


def base83(text: str) -> int:
    value = 0
    for char in text:
        value = value * 83 + DIGITS.index(char)
    return value


def to_linear(v: int) -> float:
    c = v / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def to_srgb(v: float) -> int:
    v = min(1.0, max(0.0, v))
    return round((v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055) * 255)


def components(blurhash: str) -> tuple[int, int]:
    """(x, y) components a BlurHash says it has; ValueError if its length disagrees."""
    flag = base83(blurhash[0])
    nx, ny = flag % 9 + 1, flag // 9 + 1
    if len(blurhash) != 4 + 2 * nx * ny:
        raise ValueError(f"{blurhash!r}: {len(blurhash)} characters for {nx}x{ny} components")
    return nx, ny


def average(blurhash: str) -> tuple[int, int, int]:
    """The DC term: the image's average colour, stored exactly as sRGB."""
    dc = base83(blurhash[2:6])
    return dc >> 16, (dc >> 8) & 255, dc & 255


def decode(blurhash: str, width: int, height: int) -> Image.Image:
    """The blurred image a front-end would draw from ``blurhash``."""
    nx, ny = components(blurhash)
    maximum = (base83(blurhash[1]) + 1) / 166
    terms = [tuple(to_linear(c) for c in average(blurhash))]
    for k in range(1, nx * ny):
        value = base83(blurhash[4 + 2 * k : 6 + 2 * k])
        quants = (value // (19 * 19), value // 19 % 19, value % 19)
        terms.append(tuple(math.copysign(((q - 9) / 9) ** 2, q - 9) * maximum for q in quants))
    out = Image.new("RGB", (width, height))
    pixels = []
    for y in range(height):
        for x in range(width):
            rgb = [0.0, 0.0, 0.0]
            for j in range(ny):
                for i in range(nx):
                    basis = math.cos(math.pi * x * i / width) * math.cos(math.pi * y * j / height)
                    for c in range(3):
                        rgb[c] += terms[j * nx + i][c] * basis
            pixels.append(tuple(to_srgb(v) for v in rgb))
    out.putdata(pixels)
    return out


def linear_mean(im: Image.Image) -> tuple[int, int, int]:
    """The mean of an RGB image in linear light, as sRGB: what a placeholder's colour should be."""
    rgb = im.convert("RGB")
    n = rgb.width * rgb.height
    sums = [0.0, 0.0, 0.0]
    for pixel in rgb.get_flattened_data():
        for c in range(3):
            sums[c] += to_linear(pixel[c])  # type: ignore[index]
    return tuple(to_srgb(s / n) for s in sums)  # type: ignore[return-value]


def hex_rgb(colour: str) -> tuple[int, int, int]:
    assert len(colour) == 7 and colour[0] == "#", colour
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
