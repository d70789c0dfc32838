"""rle: BMP RLE decoded a run at a time gives Pillow's own decoder's pixels, in a fraction of its time."""

from __future__ import annotations

import io
import random
import struct
import time

import pytest
from PIL import BmpImagePlugin, Image
from thumbnailer.imaging import rle

from tests import worstcases


def rle_bmp(size: tuple[int, int], stream: bytes, rle4: bool) -> bytes:
    width, height = size
    colours = 16 if rle4 else 256
    palette = b"".join(bytes((i * 7 % 256, i, 255 - i, 0)) for i in range(colours))
    dib = struct.pack(
        "<IiiHHIIiiII",
        40,
        width,
        height,
        1,
        4 if rle4 else 8,
        2 if rle4 else 1,
        len(stream),
        2835,
        2835,
        colours,
        0,
    )
    offset = 14 + 40 + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(stream), 0, 0, offset) + dib + palette + stream


def decoded(data: bytes, decoder: type, monkeypatch: pytest.MonkeyPatch) -> tuple[str, bytes] | str:
    monkeypatch.setitem(Image.DECODERS, "bmp_rle", decoder)
    im = Image.open(io.BytesIO(data))
    try:
        im.load()
    except Exception as exc:  # the oracle may fail: the copy must fail alike
        return type(exc).__name__
    return im.mode, im.tobytes()


def random_stream(rng: random.Random, rle4: bool) -> bytes:
    """Runs, ends of line, deltas, absolute runs (aligned or not) and junk, in random order."""
    ops = bytearray()
    for _ in range(rng.randint(0, 60)):
        kind = rng.random()
        if kind < 0.5:
            ops += bytes((rng.randint(1, 60), rng.randrange(256)))
        elif kind < 0.6:
            ops += b"\x00\x00"
        elif kind < 0.65:
            ops += b"\x00\x02" + bytes((rng.randint(0, 10), rng.randint(0, 3)))
        elif kind < 0.9:
            n = rng.randint(3, 40)
            ops += bytes((0, n)) + rng.randbytes((n + 1) // 2 if rle4 else n)
            if rng.random() < 0.7 and len(ops) % 2:
                ops += b"\x00"
        else:
            ops += rng.randbytes(rng.randint(1, 5))
    if rng.random() < 0.5:
        ops += b"\x00\x01"
    return bytes(ops)


@pytest.mark.parametrize("seed", range(6))
def test_random_streams_decode_to_pillows_bytes(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        rle4 = rng.random() < 0.5
        data = rle_bmp((rng.randint(1, 40), rng.randint(1, 30)), random_stream(rng, rle4), rle4)
        assert decoded(data, rle.RunDecoder, monkeypatch) == decoded(
            data, BmpImagePlugin.BmpRleDecoder, monkeypatch
        )


def test_a_tiny_stream_claiming_many_pixels_costs_runs_not_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    data = worstcases.bmp_rle_claiming((2_500, 2_500), 10_000)  # a pixel and an end of line, row after row
    started = time.process_time()
    ours = decoded(data, rle.RunDecoder, monkeypatch)
    ours_s = time.process_time() - started
    started = time.process_time()
    pillows = decoded(data, BmpImagePlugin.BmpRleDecoder, monkeypatch)
    assert ours == pillows and isinstance(ours, tuple) and len(ours[1]) == 2_500 * 2_500
    assert ours_s * 10 < time.process_time() - started


def test_install_puts_it_in_pillows_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(Image.DECODERS, "bmp_rle", BmpImagePlugin.BmpRleDecoder)
    rle.install()
    assert Image.DECODERS["bmp_rle"] is rle.RunDecoder
