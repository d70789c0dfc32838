"""blurhash: the string format both the engine's encoder and the contact sheet's drawing use."""

from __future__ import annotations

import pytest
from PIL import Image
from thumbnailer import blurhash
from thumbnailer.imaging import placeholder

from tests import placeholders


def test_base83_round_trips_and_uses_the_documented_alphabet() -> None:
    assert blurhash.base83(0, 2) == "00" and blurhash.base83(82, 1) == "~"
    for value in (0, 1, 82, 83, 6888, 83**4 - 1):
        assert blurhash.number(blurhash.base83(value, 4)) == value


def test_srgb_transfer_round_trips_every_level() -> None:
    assert [blurhash.to_srgb(v) for v in blurhash.LINEAR] == list(range(256))


def test_pixels_are_what_the_independent_decoder_draws() -> None:
    im = Image.radial_gradient("L").resize((32, 24)).convert("RGB")
    hash_ = placeholder.blurhash(im, 4, 3)
    rows = blurhash.pixels(hash_, 8, 6)
    want = placeholders.decode(hash_, 8, 6).convert("RGB").tobytes()
    got = b"".join(rows)
    assert len(rows) == 6 and len(got) == len(want)
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) <= 1  # rounding alone


@pytest.mark.parametrize(
    "bad", ["", "L", "LEHV6nWB2yk8pyo0adR*.7kCMdnj!", "LEHV6nWB2yk8pyo0adR*.7kCMdn" + "é"]
)
def test_a_malformed_blurhash_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        blurhash.pixels(bad, 4, 3)
