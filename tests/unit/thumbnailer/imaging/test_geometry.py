"""geometry: fitting, drafting and derivation as plain arithmetic (no images at all)."""

from __future__ import annotations

import pytest
from thumbnailer.errors import ConfigError
from thumbnailer.imaging import geometry
from thumbnailer.imaging.geometry import Plan, draft_factor, plan, steps
from thumbnailer.spec import SizeSpec


def box(w: int, h: int, fit: str = "inside", fmt: str = "auto") -> SizeSpec:
    return SizeSpec(w, h, fit, fmt)


def plans(stored: tuple[int, int], *specs: SizeSpec, swap: bool = False) -> list[Plan]:
    return [plan(i, s, stored, swap) for i, s in enumerate(specs)]


@pytest.mark.parametrize(
    ("source", "size", "fit", "expected"),
    [
        ((640, 480), (200, 200), "inside", (200, 150)),
        ((640, 480), (100, 1000), "inside", (100, 75)),
        ((640, 480), (1000, 1000), "inside", (640, 480)),  # never upscale
        ((640, 480), (640, 480), "inside", (640, 480)),
        ((640, 480), (200, 200), "cover", (200, 200)),
        ((640, 480), (300, 100), "cover", (300, 100)),
        ((640, 480), (100, 300), "cover", (100, 300)),
        ((640, 480), (1000, 1000), "cover", (480, 480)),  # box aspect at source scale
        ((640, 480), (2000, 500), "cover", (640, 160)),
        ((640, 480), (400, 600), "cover", (320, 480)),
        ((10_000, 10), (128, 128), "inside", (128, 1)),
        ((10, 10_000), (128, 128), "inside", (1, 128)),
        ((10_000, 10), (128, 128), "cover", (10, 10)),
        ((10_000, 10), (1, 1), "cover", (1, 1)),
        ((1, 1), (128, 128), "cover", (1, 1)),
    ],
)
def test_output_sizes(
    source: tuple[int, int], size: tuple[int, int], fit: str, expected: tuple[int, int]
) -> None:
    assert plan(0, box(*size, fit), source, False).size == expected


def test_inside_reads_the_whole_image_and_cover_a_centred_box() -> None:
    assert plan(0, box(200, 200), (640, 480), False).region == (0, 0, 640, 480)
    assert plan(0, box(200, 200, "cover"), (640, 480), False).region == (80, 0, 560, 480)
    assert plan(0, box(300, 100, "cover"), (640, 480), False).region == pytest.approx(
        (0, 400 / 3, 640, 1040 / 3)
    )
    # Smaller than the box: whole source pixels, still centred.
    assert plan(0, box(1000, 1000, "cover"), (640, 480), False).region == (80, 0, 560, 480)
    assert plan(0, box(2000, 500, "cover"), (641, 480), False).region == (0, 160, 641, 320)


def test_cover_region_has_the_box_aspect_and_lies_inside_the_image() -> None:
    for stored in ((640, 480), (480, 640), (1000, 10), (7, 3000)):
        for w, h in ((128, 128), (300, 100), (100, 300), (4096, 1)):
            p = plan(0, box(w, h, "cover"), stored, False)
            x0, y0, x1, y1 = p.region
            assert 0 <= x0 < x1 <= stored[0] and 0 <= y0 < y1 <= stored[1], (stored, w, h)
            assert abs((x0 + x1) - stored[0]) <= 1 and abs((y0 + y1) - stored[1]) <= 1  # centred
            if p.size == (w, h):
                assert abs((x1 - x0) * h - (y1 - y0) * w) < 1e-6 * w * h * max(stored)


def test_rotated_sources_fit_the_displayed_image_in_stored_axes() -> None:
    """EXIF 5..8: a 640x480 stored image is shown 480x640; sizes and regions come back stored."""
    upright = plan(0, box(300, 100, "cover"), (480, 640), False)
    rotated = plan(0, box(300, 100, "cover"), (640, 480), True)
    assert rotated.size == upright.size[::-1]
    x0, y0, x1, y1 = upright.region
    assert rotated.region == (y0, x0, y1, x1)
    assert plan(0, box(200, 200), (640, 480), True).size == (200, 150)  # shown 150x200


def test_displayed_size() -> None:
    assert [geometry.displayed((640, 480), n) for n in range(1, 9)] == [(640, 480)] * 4 + [(480, 640)] * 4
    assert [geometry.swaps_axes(n) for n in (1, 4, 5, 8)] == [False, False, True, True]


@pytest.mark.parametrize(("fit", "fmt", "word"), [("fill", "auto", "fit"), ("inside", "gif", "format")])
def test_unknown_fit_or_format_is_a_config_error(fit: str, fmt: str, word: str) -> None:
    with pytest.raises(ConfigError, match=word):
        plan(0, SizeSpec(10, 10, fit, fmt), (100, 100), False)


def allowed_draft(ps: list[Plan], stored: tuple[int, int]) -> int:
    """Independent statement of the rule: the largest 1/k decode still >= 1.4x every output."""
    for k in (8, 4, 2):
        if all(
            (p.region[2] - p.region[0]) / k >= 1.4 * p.size[0]
            and (p.region[3] - p.region[1]) / k >= 1.4 * p.size[1]
            for p in ps
        ):
            return k
    return 1


@pytest.mark.parametrize(
    ("stored", "specs", "swap", "expected"),
    [
        ((2400, 1600), [box(64, 64), box(128, 128), box(256, 256), box(100, 100, "cover")], False, 4),
        ((4000, 3000), [box(1024, 1024)], False, 2),  # 1/4 would be 1000 px: below the output
        ((4000, 3000), [box(128, 128, "cover")], False, 8),
        ((2400, 800), [box(300, 300, "cover")], True, 1),  # 300 px across the 800-px side
        ((2400, 800), [box(100, 100, "cover")], True, 4),
        ((640, 480), [box(1000, 1000)], False, 1),  # never below the output
        ((6000, 4000), [box(128, 128, "cover"), box(1024, 1024)], False, 4),  # the largest decides
        ((4000, 3000), [box(1500, 1500)], False, 1),  # 1/2 would leave 1.33x: below the gap
    ],
)
def test_draft_factor(stored: tuple[int, int], specs: list[SizeSpec], swap: bool, expected: int) -> None:
    ps = plans(stored, *specs, swap=swap)
    assert draft_factor(ps) == expected == allowed_draft(ps, stored)


def test_draft_request() -> None:
    assert geometry.draft_request((4000, 3000), 4) == (1000, 750)
    assert geometry.draft_request((7, 7), 8) == (1, 1)


def test_steps_chain_each_size_from_the_one_above() -> None:
    ps = plans((2400, 1800), box(64, 64), box(512, 512), box(128, 128), box(256, 256))
    made = steps(ps, (1200, 900), 0.5)  # a 1/2 draft decode
    assert [(s.plan.size, s.source) for s in made] == [
        ((512, 384), None),
        ((256, 192), 1),
        ((128, 96), 3),
        ((64, 48), 2),
    ]
    assert made[0].box == (0.0, 0.0, 1200.0, 900.0)  # the decoded pixels, not the stored ones
    assert made[1].box == (0.0, 0.0, 512.0, 384.0)
    assert [s.resample for s in made] == ["lanczos", "bicubic", "bicubic", "bicubic"]


def test_steps_order_is_largest_first_then_spec_order() -> None:
    ps = plans((1000, 1000), box(100, 100), box(300, 300), box(100, 100, "cover"))
    assert [s.plan.index for s in steps(ps, (1000, 1000), 1.0)] == [1, 0, 2]


def test_steps_need_a_source_that_covers_the_region_and_is_2x_larger() -> None:
    # A cover band does not contain the whole image: the inside size comes from the decode.
    ps = plans((1600, 1200), box(600, 100, "cover"), box(64, 64))
    assert [(s.plan.index, s.source) for s in steps(ps, (1600, 1200), 1.0)] == [(0, None), (1, None)]
    # 512 is not ~2x above 300: 300 comes from the decode too.
    ps = plans((1024, 1024), box(512, 512), box(300, 300))
    assert [s.source for s in steps(ps, (1024, 1024), 1.0)] == [None, None]
    # The whole-image 512 does contain a centred cover crop, and is 4x above it.
    ps = plans((1024, 768), box(512, 512), box(128, 128, "cover"))
    made = steps(ps, (1024, 768), 1.0)
    assert [s.source for s in made] == [None, 0]
    assert made[1].box == (64.0, 0.0, 448.0, 384.0)  # the centre 384x384 of the 512x384 output


def test_steps_crop_when_the_region_already_has_the_output_size() -> None:
    ps = plans((640, 480), box(1000, 1000, "cover"), box(640, 480))
    made = steps(ps, (640, 480), 1.0)
    assert [(s.plan.size, s.box, s.resample) for s in made] == [
        ((640, 480), (0.0, 0.0, 640.0, 480.0), "crop"),
        ((480, 480), (80.0, 0.0, 560.0, 480.0), "crop"),
    ]


@pytest.mark.parametrize(
    ("source", "output", "resample"),
    [(175, 100, "bicubic"), (176, 100, "lanczos"), (200, 100, "lanczos"), (800, 100, "lanczos")],
)
def test_steps_from_the_decoded_image_use_bicubic_when_small(source: int, output: int, resample: str) -> None:
    (made,) = steps(plans((source, source), box(output, output)), (source, source), 1.0)
    assert made.source is None and made.resample == resample


@pytest.mark.parametrize(("middle", "resample"), [(200, "bicubic"), (201, "bicubic"), (202, "lanczos")])
def test_steps_from_an_earlier_output_use_bicubic_up_to_2x(middle: int, resample: str) -> None:
    """An output is already band-limited by its own filter, so bicubic's softer cut-off costs
    nothing up to 2x there; from the detailed decode it would (geometry's constants)."""
    ps = plans((800, 800), box(middle, middle), box(100, 100))
    first, second = steps(ps, (800, 800), 1.0)
    assert (first.source, second.source) == (None, 0)
    assert second.resample == resample


# ----------------------------------------------------------------------------- where a crop sits


def smart(w: int, h: int) -> SizeSpec:
    return SizeSpec(w, h, "cover", gravity="smart")


def test_a_smart_crop_centres_on_the_focus_and_stays_inside_the_image() -> None:
    # 640x480 -> a 480x480 window that may slide along x only.
    assert plan(0, smart(128, 128), (640, 480), False, focus=(0.5, 0.5)).region == (80, 0, 560, 480)
    assert plan(0, smart(128, 128), (640, 480), False, focus=(0.6, 0.1)).region == pytest.approx(
        (0.6 * 640 - 240, 0, 0.6 * 640 + 240, 480))
    assert plan(0, smart(128, 128), (640, 480), False, focus=(0.95, 0.5)).region == (160, 0, 640, 480)
    assert plan(0, smart(128, 128), (640, 480), False, focus=(0.0, 0.5)).region == (0, 0, 480, 480)
    tall = plan(0, smart(300, 100), (640, 480), False, focus=(0.5, 0.9))  # 640x213.3, slides along y
    assert tall.region == pytest.approx((0, 480 - 640 / 3, 640, 480))
    assert tall.size == (300, 100)


def test_a_smart_crop_smaller_than_its_box_keeps_whole_pixels() -> None:
    p = plan(0, smart(1000, 1000), (640, 480), False, focus=(0.7, 0.5))  # 448 - 240: past the edge
    assert p.region == (160, 0, 640, 480) and p.size == (480, 480)
    p = plan(0, smart(1000, 1000), (640, 480), False, focus=(0.6013, 0.5))  # 384.8 - 240 -> 145
    assert p.region == (145, 0, 625, 480)
    assert all(float(v).is_integer() for v in p.region)


def test_a_centred_size_ignores_focus_and_interest() -> None:
    centred = plan(0, box(128, 128, "cover"), (640, 480), False)
    interest = geometry.Interest((0.0,) * 15 + (9.0,), (1.0,) * 12)
    assert plan(0, box(128, 128, "cover"), (640, 480), False, focus=(0.9, 0.9), interest=interest) == centred
    assert plan(0, box(128, 128), (640, 480), False, focus=(0.9, 0.9)).region == (0, 0, 640, 480)
    assert plan(0, smart(128, 128), (640, 480), False).region == centred.region  # nothing to go by


def test_a_smart_crop_on_a_rotated_image_moves_along_the_stored_axis() -> None:
    # Stored 480x640, shown 640x480 (swap): the displayed x axis is the stored y axis; the focus
    # is already a point of the stored image, so the window slides along stored y.
    p = plan(0, smart(128, 128), (480, 640), True, focus=(0.5, 0.95))
    assert p.region == (0, 160, 480, 640)


def test_the_interest_profile_places_the_window_over_what_is_interesting() -> None:
    columns = (1.0,) * 12 + (20.0,) * 4  # 16 columns, the last quarter interesting
    p = plan(0, smart(128, 128), (640, 480), False, interest=geometry.Interest(columns, (1.0,) * 12))
    assert p.region == (160, 0, 640, 480)  # as far right as it goes: it keeps all of the interest


@pytest.mark.parametrize(
    ("profile", "span", "expected"),
    [
        ((1.0,) * 10, 0.5, 0.25),  # nothing stands out: centred
        ((0.0,) * 10, 0.5, 0.25),  # nothing at all: centred
        ((1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.02), 0.5, 0.25),  # within the margin: centred
        ((9.0, 9.0, 0, 0, 0, 0, 0, 0, 0, 0), 0.5, 0.0),  # at the left edge
        ((0, 0, 0, 0, 0, 0, 0, 0, 9.0, 9.0), 0.5, 0.5),  # at the right edge
        ((0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5.0, 5.0, 0, 0, 0, 0, 0, 0, 0, 0), 0.25, 0.375),  # centred has it all
        ((0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5.0, 5.0, 0, 0), 0.25, 0.725),  # recentred on it
        ((0, 5.0, 0, 0, 0, 0, 0, 0, 0, 0), 0.3, 0.0),  # centred on it would start before the image
        ((1.0,) * 8, 1.0, 0.0),  # the window is the whole axis
    ],
)
def test_window_keeps_the_most_interest(profile: tuple[float, ...], span: float, expected: float) -> None:
    assert geometry.window(profile, span) == pytest.approx(expected)


def test_window_keeps_a_subject_whole_and_centred_when_it_fits() -> None:
    profile = [0.1] * 40
    profile[26:32] = [8.0] * 6  # a subject over 26..32 of 40 cells
    start = geometry.window(profile, 0.4)
    assert start * 40 <= 26 and (start + 0.4) * 40 >= 32  # all of it inside
    assert start * 40 + 8 == pytest.approx(29, abs=0.5)  # and in the window's middle


@pytest.mark.parametrize("orientation", range(1, 9))
def test_stored_point_inverts_each_orientation(orientation: int) -> None:
    """EXIF's definition of each orientation as where the stored corners are shown."""
    # Stored corners (top-left, top-right, bottom-left) and where orientation n shows them.
    shown = {
        1: ((0, 0), (1, 0), (0, 1)), 2: ((1, 0), (0, 0), (1, 1)), 3: ((1, 1), (0, 1), (1, 0)),
        4: ((0, 1), (1, 1), (0, 0)), 5: ((0, 0), (0, 1), (1, 0)), 6: ((1, 0), (1, 1), (0, 0)),
        7: ((1, 1), (1, 0), (0, 1)), 8: ((0, 1), (0, 0), (1, 1)),
    }[orientation]
    for stored, displayed in zip(((0, 0), (1, 0), (0, 1)), shown, strict=True):
        assert geometry.stored_point(displayed, orientation) == stored
    assert geometry.stored_point((0.5, 0.5), orientation) == (0.5, 0.5)
    assert geometry.stored_point((2.0, -1.0), 1) == (1.0, 0.0)  # clamped to the image
