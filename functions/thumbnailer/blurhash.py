"""The BlurHash string (https://blurha.sh, its Algorithm.md): base-83 digits, the sRGB transfer
its terms are stored in, and decoding one back to pixels.

No PIL here: the engine's encoder (``imaging.placeholder``) and the contact sheet, which draws a
placeholder without Pillow (``thumbflow.report``), share these definitions.
"""

from __future__ import annotations

import math

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
LINEAR = [v / 255 / 12.92 if v / 255 <= 0.04045 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in range(256)]
"""sRGB 0..255 -> linear light 0..1."""


def to_srgb(value: float) -> int:
    """Linear light (clamped to 0..1) -> sRGB 0..255."""
    v = min(1.0, max(0.0, value))
    encoded = v * 12.92 if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
    return int(encoded * 255 + 0.5)


def base83(value: int, length: int) -> str:
    return "".join(DIGITS[value // 83**k % 83] for k in reversed(range(length)))


def number(text: str) -> int:
    """The value of base-83 ``text``."""
    value = 0
    for char in text:
        value = value * 83 + DIGITS.index(char)
    return value


def pixels(blurhash: str, width: int, height: int) -> list[bytes]:
    """Rows of RGB bytes that ``blurhash`` describes at ``width`` x ``height``; ValueError if malformed."""
    if len(blurhash) < 6 or any(c not in DIGITS for c in blurhash):
        raise ValueError("not a BlurHash")
    nx, ny = number(blurhash[0]) % 9 + 1, number(blurhash[0]) // 9 + 1
    if len(blurhash) != 4 + 2 * nx * ny:
        raise ValueError("BlurHash length does not match its components")
    scale = (number(blurhash[1]) + 1) / 166
    dc = number(blurhash[2:6])
    terms = [[LINEAR[dc >> 16], LINEAR[dc >> 8 & 255], LINEAR[dc & 255]]]
    for at in range(6, len(blurhash), 2):
        v = number(blurhash[at : at + 2])
        quants = (v // 361, v // 19 % 19, v % 19)
        terms.append([math.copysign(((q - 9) / 9) ** 2, q - 9) * scale for q in quants])
    across = [[math.cos(math.pi * i * x / width) for i in range(nx)] for x in range(width)]
    down = [[math.cos(math.pi * j * y / height) for j in range(ny)] for y in range(height)]
    cells = [(j * nx + i, i, j) for j in range(ny) for i in range(nx)]
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            for c in range(3):
                row.append(to_srgb(sum(terms[t][c] * across[x][i] * down[y][j] for t, i, j in cells)))
        rows.append(bytes(row))
    return rows
