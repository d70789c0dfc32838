"""placeholder: the BlurHash encoder against the reference encoder's strings, and what render carries."""

from __future__ import annotations

import pytest
from PIL import Image
from thumbnailer.imaging import placeholder, render
from thumbnailer.spec import SizeSpec

from tests import images, placeholders
from tests.unit.thumbnailer.imaging.checks import CAP

# What the BlurHash project's reference encoder (C/encode.c, `blurhash_encoder X Y file.png`)
# prints for these images; the project's own example hash is its first line for pic1.png:
# LaJHjmVu8_~po#smR+a~xaoLWCRj, which the same encoder reproduces.
REFERENCE = {
    "quadrants": {
        (4, 3): "L,J88=Y~aPpSi[]goJNyaxoIjta#",
        (3, 4): "T,J88=Y~aPi[]goJaxoIjtt8Nfa#",
        (1, 1): "00J88=",
        (5, 2): "D,J88=Y~aPpSfQi[]goJNyfQ",
    },
    "photo": {
        (4, 3): "LQD^M{E6bJ?DIis=NIoGNKRkoLoe",
        (3, 4): "TQD^M{E6bJIis=NINKRkoLR=xVoJ",
        (1, 1): "00D^M{",
        (5, 2): "DQD^M{E6bJ?DRqIis=NIoGNI",
    },
    "portrait": {
        (4, 3): "LSEDVUIukW--Iis=RjadV{RloJob",
        (3, 4): "TSEDVUIukWIis=RjV{RloJNzt2n~",
        (5, 2): "DSEDVUIukW--R.Iis=RjadRo",
    },
    "subject": {
        (4, 3): "LEHV#rXpr;t70Na#fPayOtrpX9bI",
        (3, 4): "TEHV#rXpr;0Na#fPOtrpX9o$f6fk",
        (8, 8): ":EHV#rXpr;t7S%$eT1xE0Na#fPayfRayfRayOtrpX9bIr;T1rqX9o$f6fkfkf6flf6fki^X9jYjZX9nhX9jFtSj["
        "ayfQj[ayj[a}WCayj[jtayj@a#jsxvWXj@j[WXoKWXoJ",
    },
}


def reference_image(name: str) -> Image.Image:
    return {
        "quadrants": lambda: images.quadrants(40, 30),
        "photo": lambda: images.photo(64, 48, seed=2, grain=0.1),
        "portrait": lambda: images.photo(30, 40, seed=4),
        "subject": lambda: images.off_centre_subject(64, 36)[0],
    }[name]().convert("RGB")


def nearest_quadrant(pixel: object) -> tuple[int, int, int]:
    """Which of the four quadrant colours ``pixel`` is closest to."""
    assert isinstance(pixel, tuple)
    return min(images.QUADRANTS, key=lambda c: sum((a - b) ** 2 for a, b in zip(c, pixel, strict=True)))


CASES = [(name, *c) for name, hashes in REFERENCE.items() for c in hashes]


@pytest.mark.parametrize(("name", "nx", "ny"), CASES)
def test_the_encoder_gives_the_reference_encoders_strings(name: str, nx: int, ny: int) -> None:
    assert placeholder.blurhash(reference_image(name), nx, ny) == REFERENCE[name][(nx, ny)]


def test_component_counts_outside_1_to_9_are_refused() -> None:
    with pytest.raises(ValueError, match=r"1\.\.9"):
        placeholder.blurhash(Image.new("RGB", (4, 4)), 10, 1)


def test_the_placeholder_decodes_to_a_blurred_copy_of_the_image() -> None:
    im = images.quadrants(32, 24)
    hint = placeholder.of(im)
    assert placeholders.components(hint.blurhash) == (4, 3)
    drawn = placeholders.decode(hint.blurhash, 32, 24)
    # Each quadrant's colour survives the blur: the decoded centre of each is nearest its own colour.
    for (x, y), colour in zip(((8, 6), (24, 6), (8, 18), (24, 18)), images.QUADRANTS, strict=True):
        assert nearest_quadrant(drawn.getpixel((x, y))) == colour


def test_the_colour_is_the_mean_in_linear_light_and_the_blurhash_average() -> None:
    flat = Image.new("RGB", (5, 3), (12, 200, 99))
    for im in (images.quadrants(32, 24), images.photo(32, 24, seed=7), flat):
        hint = placeholder.of(im)
        assert placeholders.hex_rgb(hint.color) == placeholders.average(hint.blurhash)
        mean = placeholders.linear_mean(im)
        assert all(abs(a - b) <= 1 for a, b in zip(placeholders.hex_rgb(hint.color), mean, strict=True))


def test_portrait_placeholders_have_more_components_down_than_across() -> None:
    assert placeholders.components(placeholder.of(images.photo(24, 32)).blurhash) == (3, 4)
    assert placeholders.components(placeholder.of(images.photo(32, 32)).blurhash) == (4, 3)


def test_transparency_is_shown_over_white() -> None:
    clear = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    assert placeholder.of(clear).color == "#ffffff"
    assert placeholder.of(clear.convert("LA")).color == "#ffffff"
    assert placeholder.of(Image.new("L", (8, 8), 0)).color == "#000000"


# --------------------------------------------------------------------------------------
# render


def test_every_rendition_carries_the_placeholder_of_the_whole_frame() -> None:
    im, _ = images.off_centre_subject(960, 540)
    data = images.save(im, "JPEG", quality=92)
    out = render(data, [SizeSpec(128, 128, "cover"), SizeSpec(512, 512), SizeSpec(256, 256)], max_pixels=CAP)
    hints = {r.placeholder for r in out}
    assert len(hints) == 1
    (hint,) = hints
    assert hint is not None and placeholders.components(hint.blurhash) == (4, 3)
    # The whole frame, not the square crop: its colour is the whole image's mean.
    mean = placeholders.linear_mean(im)
    assert all(abs(a - b) <= 3 for a, b in zip(placeholders.hex_rgb(hint.color), mean, strict=True))
    # The subject is at the right: the decoded placeholder is warmer (redder) there than at the left.
    drawn = placeholders.decode(hint.blurhash, 32, 18)
    right, left = drawn.getpixel((27, 9)), drawn.getpixel((4, 9))
    assert right[0] - right[2] > left[0] - left[2] + 15  # type: ignore[index]


@pytest.mark.parametrize("orientation", [1, 6, 8])
def test_the_placeholder_is_of_the_upright_image(orientation: int) -> None:
    upright = images.quadrants(60, 40)
    data = images.save(images.stored_for(upright, orientation), "JPEG", quality=95,
                       exif=images.exif_bytes(orientation=orientation))
    (out,) = render(data, [SizeSpec(64, 64, "cover")], max_pixels=CAP)
    assert out.placeholder is not None
    assert placeholders.components(out.placeholder.blurhash) == (4, 3)  # displayed 60x40: landscape
    drawn = placeholders.decode(out.placeholder.blurhash, 30, 20)
    assert nearest_quadrant(drawn.getpixel((5, 4))) == images.RED  # top-left as displayed


def test_tiny_and_transparent_sources_get_placeholders_too() -> None:
    one_pixel = images.save(Image.new("RGB", (1, 1), (10, 20, 30)), "PNG")
    (dot,) = render(one_pixel, [SizeSpec(16, 16)], max_pixels=CAP)
    assert dot.placeholder is not None and dot.placeholder.color == "#0a141e"
    (alpha,) = render(images.png_alpha(), [SizeSpec(64, 64)], max_pixels=CAP)
    assert alpha.format == "webp" and alpha.placeholder is not None
    assert placeholders.components(alpha.placeholder.blurhash) == (4, 3)
