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


def mean_difference(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size
    pairs = zip(a.convert("RGB").tobytes(), b.convert("RGB").tobytes(), strict=True)
    return sum(abs(x - y) for x, y in pairs) / (a.width * a.height * 3)


@pytest.mark.parametrize("lossless", [False, True])
def test_a_scaled_decode_is_close_to_a_box_reduction_of_the_full_one(lossless: bool) -> None:
    data = images.save(photo(600, 400), "WEBP", quality=90, lossless=lossless)
    full = pillows(data)
    got = webp.decode(data, full.size, alpha=False, scaled=(150, 100))
    assert got is not None and got.size == (150, 100) and got.mode == "RGBX"
    assert mean_difference(got, full.reduce(4)) < 1.0


def test_a_scaled_decode_averages_every_stored_pixel_rather_than_sampling_some() -> None:
    stripes = Image.new("L", (600, 400), 0)
    for x in range(0, 600, 2):
        stripes.paste(255, (x, 0, x + 1, 400))
    data = images.save(stripes.convert("RGB"), "WEBP", lossless=True)  # exact: black, white, black...
    got = webp.decode(data, stripes.size, alpha=False, scaled=(150, 100))
    assert got is not None
    levels = got.convert("L").getextrema()
    assert levels[0] >= 120 and levels[1] <= 136  # every output pixel is half white, half black


def test_an_opaque_webp_is_decoded_at_the_scale_its_sizes_allow(monkeypatch: pytest.MonkeyPatch) -> None:
    data = images.save(photo(1600, 1200), "WEBP", quality=90)
    sizes = [spec(200), spec(64, 64, "cover")]
    asked: list[object] = []
    decode = webp.decode
    monkeypatch.setattr(webp, "decode", lambda *a, **k: asked.append(k.get("scaled")) or decode(*a, **k))
    scaled = imaging.render(data, sizes, max_pixels=CAP)
    assert asked == [(400, 300)]  # 1/4: the 200 px output is still a 2x reduction of it
    monkeypatch.setattr(webp, "available", lambda: False)
    whole = imaging.render(data, sizes, max_pixels=CAP)
    for a, b in zip(scaled, whole, strict=True):
        assert (a.width, a.height) == (b.width, b.height)
        assert mean_difference(pillows(a.body), pillows(b.body)) < 2.0


def test_a_webp_with_alpha_is_decoded_whole_so_no_colour_bleeds_from_under_transparency() -> None:
    """libwebp rescales a lossy WebP's alpha plane apart from its colour: scaled on load, the
    red hidden under the transparent half would tint the edge of the green half."""
    im = Image.new("RGBA", (800, 800), (0, 255, 0, 255))
    im.paste((255, 0, 0, 0), (402, 0, 800, 800))  # mid-way through a 4-pixel cell of a 1/4 decode
    data = images.save(im, "WEBP", quality=90, exact=True)
    made = imaging.render(data, [spec(100, fmt="png")], max_pixels=CAP)
    out = pillows(made[0].body).convert("RGBA")
    assert out.size == (100, 100)
    seen = [px for px in out.get_flattened_data() if px[3] > 16]
    # Decoded whole and resized premultiplied: red 35 at most, from the lossy codec's own chroma
    # smearing; scaled on load by libwebp it would reach 99.
    assert seen and max(r for r, _, _, _ in seen) < 64


@pytest.mark.parametrize("lossless", [False, True])
def test_alpha_is_what_libwebp_decodes_not_only_what_the_vp8x_flag_says(lossless: bool) -> None:
    """A VP8X whose alpha flag is clear but whose image has alpha (an ALPH chunk, or a VP8L
    with alpha_is_used) decodes with alpha in libwebp and Pillow: it is planned and rendered so."""
    data = bytearray(images.save(images.with_hole(photo(320, 240)), "WEBP", quality=70, lossless=lossless))
    if data[12:16] != b"VP8X":  # a plain VP8L: put it in a VP8X container with no flags
        body = bytes(data[12:])
        vp8x = b"VP8X" + (10).to_bytes(4, "little") + bytes(4) + (319).to_bytes(3, "little")
        data = bytearray(b"RIFF" + (4 + len(vp8x) + 8 + len(body) - 8 + 8).to_bytes(4, "little") + b"WEBP")
        data += vp8x + (239).to_bytes(3, "little") + body
        data[4:8] = (len(data) - 8).to_bytes(4, "little")
    data[20] &= ~0x10 & 0xFF  # the VP8X alpha flag, cleared
    assert pillows(bytes(data)).mode == "RGBA"
    facts = imaging.probe(bytes(data), total_bytes=len(data), max_pixels=CAP)
    assert facts is not None and facts.mode == "RGBA"
    made = imaging.render(bytes(data), [spec(160)], max_pixels=CAP)
    out = pillows(made[0].body)
    assert made[0].format == "webp" and out.mode == "RGBA"
    assert out.getpixel((10, 60))[3] == 0  # the transparent half stays transparent
