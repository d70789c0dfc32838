"""pixels: the geometry's steps run on real pixels, and each output made upright and sRGB."""

from __future__ import annotations

import pytest
from PIL import Image, ImageChops, ImageOps
from thumbnailer.imaging import colour, geometry, pixels

from tests import images
from tests.unit.thumbnailer.imaging.checks import mean, photo, spec


def test_resize_runs_each_step_from_its_source(monkeypatch: pytest.MonkeyPatch) -> None:
    base = photo(1200, 900)
    plans = [geometry.plan(i, s, (1200, 900), False) for i, s in enumerate([spec(64), spec(512), spec(256)])]
    steps = geometry.steps(plans, base.size, 1.0)
    calls: list[tuple[tuple[int, int], tuple[int, int], int]] = []
    real = Image.Image.resize

    def spy(self: Image.Image, size: tuple[int, int], resample: int, **kw: object) -> Image.Image:
        calls.append((self.size, tuple(size), resample))  # type: ignore[arg-type]
        return real(self, size, resample, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "resize", spy)
    made = pixels.resize(steps, base)
    assert {i: im.size for i, im in made.items()} == {0: (64, 48), 1: (512, 384), 2: (256, 192)}
    assert calls == [
        ((1200, 900), (512, 384), Image.Resampling.LANCZOS),
        ((512, 384), (256, 192), Image.Resampling.BICUBIC),
        ((256, 192), (64, 48), Image.Resampling.LANCZOS),
    ]


def test_a_crop_step_keeps_source_pixels_exactly() -> None:
    base = photo(640, 480)
    plans = [geometry.plan(0, spec(1000, 1000, "cover"), base.size, False)]
    (out,) = pixels.resize(geometry.steps(plans, base.size, 1.0), base).values()
    assert out.tobytes() == base.crop((80, 0, 560, 480)).tobytes()


def test_resized_sizes_look_like_the_source() -> None:
    base = photo(800, 600)
    plans = [geometry.plan(i, s, base.size, False) for i, s in enumerate([spec(400), spec(100)])]
    made = pixels.resize(geometry.steps(plans, base.size, 1.0), base)
    for im in made.values():
        reference = base.resize(im.size, Image.Resampling.LANCZOS)
        assert mean(ImageChops.difference(im, reference).convert("L"))[0] < 2.0


@pytest.mark.parametrize("orientation", range(1, 9))
def test_finish_turns_the_pixels_as_pillows_exif_transpose_does(orientation: int) -> None:
    stored = images.quadrants(60, 40)
    tagged = stored.copy()
    tagged.info["exif"] = images.exif_bytes(orientation=orientation)
    expected = ImageOps.exif_transpose(tagged)  # the oracle: Pillow's own implementation
    out = pixels.finish(stored, orientation, None)
    assert (out.size, out.tobytes()) == (expected.size, expected.tobytes())


def test_finish_brings_cmyk_to_rgb_and_applies_the_colour_transform() -> None:
    cmyk = images.quadrants(60, 40).convert("CMYK")
    out = pixels.finish(cmyk, 1, None)
    assert out.mode == "RGB" and out.tobytes() == cmyk.convert("RGB").tobytes()
    transform = colour.to_srgb(images.SWAPPED_ICC, "RGB")
    assert transform is not None
    swapped = pixels.finish(Image.new("RGB", (4, 4), images.RED), 6, transform)
    r, g, _ = swapped.getpixel((0, 0))  # type: ignore[misc]
    assert g > 180 and r < 70
