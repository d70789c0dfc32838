"""webp: libwebp's simple decoder, called directly, gives Pillow's pixels into memory we own."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from thumbnailer import imaging
from thumbnailer.imaging import webp

from tests import images
from tests.unit.thumbnailer.imaging.checks import CAP, photo, spec


def pillows(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


@pytest.mark.parametrize(
    "build",
    [
        lambda: images.save(photo(301, 199), "WEBP", quality=80),  # VP8
        lambda: images.save(photo(301, 199), "WEBP", lossless=True),  # VP8L
        lambda: images.save(images.with_hole(photo(301, 199)), "WEBP", lossless=True),  # VP8L alpha
        lambda: images.save(images.with_hole(photo(301, 199)), "WEBP", quality=70),  # VP8X + ALPH
        lambda: images.save(
            photo(64, 48), "WEBP", exif=images.exif_bytes(orientation=6), icc_profile=images.SWAPPED_ICC
        ),
    ],
)
def test_direct_decode_gives_pillows_pixels(build: object) -> None:
    assert webp.available()
    data = build()  # type: ignore[operator]
    ref = pillows(data)
    got = webp.decode(data, ref.size, alpha=ref.mode == "RGBA")
    assert got is not None and got.size == ref.size
    assert got.convert(ref.mode).tobytes() == ref.tobytes()


def test_undecodable_bytes_give_none() -> None:
    data = bytearray(images.save(photo(64, 48), "WEBP"))
    data[40:80] = bytes(40)
    assert webp.decode(bytes(data[:60]), (64, 48), alpha=False) is None


def test_render_is_the_same_with_or_without_the_direct_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    data = images.save(
        images.with_hole(photo(640, 480)),
        "WEBP",
        quality=75,
        exif=images.exif_bytes(orientation=8),
        icc_profile=images.SWAPPED_ICC,  # applied the same from our parse as from Pillow's
    )
    sizes = [spec(200), spec(64, 64, "cover")]
    direct = imaging.render(data, sizes, max_pixels=CAP)
    monkeypatch.setattr(webp, "available", lambda: False)
    through_pillow = imaging.render(data, sizes, max_pixels=CAP)
    assert [r.body for r in direct] == [r.body for r in through_pillow]
    assert (direct[0].width, direct[0].height) == (150, 200)  # orientation 8 from our own EXIF parse


def test_an_animation_still_goes_through_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(webp, "decode", lambda *a, **k: calls.append(a) or None)
    made = imaging.render(images.animated("WEBP"), [spec(100)], max_pixels=CAP)
    assert calls == [] and (made[0].width, made[0].height) == (100, 75)
