"""decode: drafted loads, sorted load errors, and every mode brought to a working mode."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from PIL import Image, ImageChops, ImageCms, ImageDraw
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import decode, pillow

from tests import images
from tests.unit.thumbnailer.imaging.checks import close, mean, photo, spec


def opened(data: bytes, fmt: str) -> Image.Image:
    im = pillow.open_header(data, fmt, complete=True)
    assert im is not None
    return im


def test_jpeg_is_decoded_at_the_draft_scale_the_sizes_allow() -> None:
    data = images.save(photo(2400, 1600), "JPEG", quality=90)
    sizes = [spec(64), spec(256), spec(100, 100, "cover")]
    out = decode.decode(opened(data, "jpeg"), "jpeg", sizes, 1)
    assert (out.image.size, out.factor, out.stored, out.orientation) == ((600, 400), 0.25, (2400, 1600), 1)


def test_other_formats_are_decoded_whole() -> None:
    data = images.save(photo(800, 600), "PNG")
    out = decode.decode(opened(data, "png"), "png", [spec(64)], 1)
    assert (out.image.size, out.factor) == ((800, 600), 1.0)


def test_a_heic_comes_out_upright_from_libheif_and_its_exif_tag_is_spent() -> None:
    """libheif turns the pixels by irot; the EXIF 6 the phone kept must not turn them again."""
    data = images.heic(photo(40, 30), exif=images.exif_bytes(orientation=6))
    heic = decode.decode(opened(data, "heif"), "heif", [spec(20)], 6)
    assert (heic.orientation, heic.stored, heic.image.size, heic.mode) == (1, (30, 40), (30, 40), "RGB")


def test_a_tiff_comes_out_upright_and_a_jpeg_keeps_its_orientation_for_later() -> None:
    tag = images.exif_bytes(orientation=6)
    tiff = decode.decode(opened(images.save(photo(40, 30), "TIFF", exif=tag), "tiff"), "tiff", [spec(20)], 6)
    assert (tiff.orientation, tiff.stored, tiff.image.size) == (1, (30, 40), (30, 40))
    jpeg = decode.decode(opened(images.save(photo(40, 30), "JPEG", exif=tag), "jpeg"), "jpeg", [spec(20)], 6)
    assert (jpeg.orientation, jpeg.stored, jpeg.image.size) == (6, (40, 30), (40, 30))


@pytest.mark.parametrize(
    ("fmt", "keep", "reason"),
    [(fmt, 0.6, "truncated") for fmt in ("png", "jpeg", "gif", "heif")],
)
def test_load_errors_are_named(fmt: str, keep: float, reason: str) -> None:
    data = images.heic(photo(300, 200)) if fmt == "heif" else images.save(photo(300, 200), fmt.upper())
    im = opened(data[: int(len(data) * keep)], fmt)
    with pytest.raises(ImageRejected) as exc:
        decode.decode(im, fmt, [spec(100)], 1)
    assert exc.value.reason == reason and exc.value.detail.startswith(fmt)


def test_garbled_pixels_are_corrupt() -> None:
    with pytest.raises(ImageRejected) as exc:
        decode.decode(opened(images.png_garbled_pixels(), "png"), "png", [spec(100)], 1)
    assert exc.value.reason == "corrupt"


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (EOFError(), "truncated"),
        (OSError("image file is truncated (3 bytes not processed)"), "truncated"),
        (OSError("Premature end of JPEG file"), "truncated"),
        (ValueError("not enough data"), "truncated"),
        (OSError("broken data stream when reading image file"), "corrupt"),
        (SyntaxError("bad huffman code"), "corrupt"),
        (ValueError("Invalid input: Unexpected end of file: Extent in iloc box points past\n"), "truncated"),
        (ValueError("Decoder plugin generated an error: Unspecified: no decompressed image.\n"), "corrupt"),
    ],
)
def test_decode_error_sorting(exc: Exception, reason: str) -> None:
    rejected = decode.decode_error(exc, "png")
    assert rejected.reason == reason
    assert rejected.detail.startswith("png: ") and not rejected.detail.endswith("\n")


def test_an_unknown_mode_is_refused_by_name() -> None:
    decode.check_mode(Image.new("RGB", (1, 1)), "png")
    with pytest.raises(ImageRejected) as exc:
        decode.check_mode(SimpleNamespace(mode="BGR;24"), "bmp")  # type: ignore[arg-type]
    assert (exc.value.reason, exc.value.detail) == ("unsupported-format", "bmp with pixel mode BGR;24")


# --------------------------------------------------------------------------------------
# working modes


def loaded(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def test_16_bit_grey_is_scaled_not_clipped() -> None:
    im = loaded(images.png16_grey())  # a 0..65535 ramp
    assert im.mode == "I;16"
    out = decode.working_mode(im).image
    assert out.mode == "L"
    row = [out.getpixel((x, 0)) for x in range(0, 512, 64)] + [out.getpixel((511, 0))]
    assert row == [round(x * 65535 / 511) // 257 for x in range(0, 512, 64)] + [255]


@pytest.mark.parametrize("mode", ["I", "F"])
def test_wide_grey_modes_are_scaled(mode: str) -> None:
    src = images.sixteen_bit(200, 50).convert(mode)
    out = decode.working_mode(loaded(images.save(src, "TIFF"))).image
    assert out.mode == "L" and 100 < mean(out)[0] < 155
    assert mean(out, (0, 0, 8, 25))[0] < 30 and mean(out, (192, 0, 200, 25))[0] > 225


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((0.0, 0.5, 1.0), (0, 127, 255)),  # float 0..1
        ((0.0, 128.0, 255.0), (0, 128, 255)),  # already 8-bit
        ((-100.0, 0.0, 100.0), (0, 127, 255)),  # anything else: stretched to the range
    ],
)
def test_float_samples_map_onto_0_255(values: tuple[float, ...], expected: tuple[int, ...]) -> None:
    im = Image.new("F", (3, 1))
    im.putdata(values)
    out = decode.working_mode(im).image
    assert out.mode == "L"
    assert tuple(out.getpixel((x, 0)) for x in range(3)) == expected


def with_transparent_colour(im: Image.Image) -> bytes:
    """A PNG whose tRNS chunk names the colour of its top-left pixel."""
    return images.save(im, "PNG", transparency=im.getpixel((0, 0)))


@pytest.mark.parametrize(
    ("build", "mode"),
    [
        (lambda: images.palette_transparent("PNG"), "RGBA"),  # tRNS becomes alpha
        (lambda: images.palette_transparent("GIF"), "RGBA"),
        (lambda: images.save(photo(60, 40).quantize(16), "PNG"), "RGB"),
        (lambda: images.save(photo(60, 40).convert("1"), "PNG"), "L"),
        (lambda: with_transparent_colour(photo(60, 40).convert("L")), "LA"),
        (lambda: with_transparent_colour(photo(60, 40)), "RGBA"),
        (lambda: images.save(photo(60, 40).convert("L"), "PNG", transparency=300), "L"),  # no such value
        (lambda: images.save(photo(60, 40).convert("L"), "JPEG"), "L"),
        (images.cmyk_jpeg, "CMYK"),  # converted on each small output, not here
        (images.ycck_jpeg, "CMYK"),
        (lambda: images.save(photo(60, 40), "JPEG"), "RGB"),
        (images.png_grey_alpha, "LA"),
        (images.rgba_webp_lossless, "RGBA"),
        (images.bmp32_alpha, "RGBA"),
    ],
)
def test_decoded_files_reach_a_working_mode(build: object, mode: str) -> None:
    assert decode.working_mode(loaded(build())).mode == mode  # type: ignore[operator]


def test_opaque_alpha_is_dropped_and_real_alpha_kept() -> None:
    rgba = photo(60, 40).convert("RGBA")
    assert decode.working_mode(rgba).mode == "RGB"
    rgba.putpixel((3, 3), (1, 2, 3, 254))
    assert decode.working_mode(rgba).mode == "RGBA"
    assert decode.working_mode(photo(60, 40).convert("LA")).mode == "L"


def in_mode(mode: str) -> Image.Image:
    """A 60x40 photo in ``mode``; the modes with alpha have a transparent left half."""
    holed = images.with_hole(photo(60, 40))
    if mode == "PA":
        pa = holed.convert("RGB").quantize(64).convert("PA")
        pa.putalpha(holed.getchannel("A"))
        return pa
    return {"RGBa": holed, "La": holed.convert("LA")}.get(mode, holed.convert("RGB")).convert(mode)


@pytest.mark.parametrize(
    ("mode", "want"),
    [("PA", "RGBA"), ("RGBa", "RGBA"), ("La", "LA"), ("RGBX", "RGB"), ("YCbCr", "RGB"), ("HSV", "RGB")],
)
def test_in_memory_modes(mode: str, want: str) -> None:
    im = in_mode(mode)
    assert im.mode == mode
    out = decode.working_mode(im)
    assert out.mode == want
    same = photo(60, 40).convert("L" if mode == "La" else "RGB").convert("RGB")
    assert close(mean(out.image.convert("RGB"), (40, 10, 55, 30)), mean(same, (40, 10, 55, 30)), 3)


def test_lab_is_converted_to_srgb_by_littlecms() -> None:
    src = photo(60, 40)
    ImageDraw.Draw(src).rectangle((0, 0, 29, 39), fill=(200, 60, 40))
    lab = ImageCms.profileToProfile(
        src, ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), outputMode="LAB"
    )
    assert lab is not None and lab.mode == "LAB"
    out = decode.working_mode(lab).image
    assert out.mode == "RGB"
    assert close(mean(out, (2, 2, 27, 37)), (200, 60, 40), 4)
    assert ImageChops.difference(out, src).getextrema()[0][1] < 40
