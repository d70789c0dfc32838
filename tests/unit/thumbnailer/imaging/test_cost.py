"""cost: what a render will need, from the header alone, and refusals that name the estimate and the limit.

The model's constants come from ``python -m bench.worstcase --calibrate`` (peak RSS of a
fresh process per image); these tests pin its behaviour: every term grows with what it
should, the JPEG DCT scale and the coefficient buffer count, and a refusal says how much
was needed and what the function has.
"""

from __future__ import annotations

import pytest
from thumbnailer import imaging
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import cost, headers
from thumbnailer.imaging.cost import Limits
from thumbnailer.imaging.layout import Layout

from tests import images
from tests.unit.thumbnailer.imaging.checks import CAP, photo, spec

DEFAULT = [spec(128, 128, "cover"), spec(256), spec(512), spec(1024)]
RESIZE = Limits(1024, 120, "ResizeFunction")
MP100 = (12_500, 8_000)


def estimate(
    fmt: str, mode: str, size: tuple[int, int] = MP100, nbytes: int = 20 << 20, **layout: object
) -> cost.Estimate:
    return cost.estimate(Layout(fmt, size, 100, 1, **layout), mode, nbytes, DEFAULT)  # type: ignore[arg-type]


def test_memory_is_the_largest_phase_over_the_baseline() -> None:
    small = estimate("png", "RGB", (64, 48), 10_000)
    assert cost.BASELINE_MB < small.memory_mb < cost.BASELINE_MB + cost.SLACK_MB + 1
    rgb = estimate("png", "RGB")
    grey = estimate("png", "L")
    sixteen = estimate("png", "I;16")
    assert grey.memory_mb < sixteen.memory_mb < rgb.memory_mb  # 1, then 2 + 1, then 4 bytes a pixel
    assert "resizing" in rgb.largest and "converting" in sixteen.largest


def test_more_pixels_and_bytes_cost_more() -> None:
    assert estimate("png", "RGB", (6000, 4000)).memory_mb < estimate("png", "RGB").memory_mb
    assert (
        estimate("png", "RGB", nbytes=1 << 20).memory_mb < estimate("png", "RGB", nbytes=50 << 20).memory_mb
    )
    assert estimate("png", "RGB", (6000, 4000)).cpu_s < estimate("png", "RGB").cpu_s


def test_a_jpeg_is_planned_at_its_dct_scale_and_with_its_coefficient_buffer() -> None:
    baseline = estimate("jpeg", "RGB")
    progressive = estimate("jpeg", "RGB", coefficients=6.0)
    assert baseline.memory_mb < cost.BASELINE_MB + cost.SLACK_MB + 60  # decoded at 1/4: 6 MP
    assert progressive.memory_mb - baseline.memory_mb > 500  # 6 bytes a pixel for 100 MP
    alone = cost.estimate(Layout("jpeg", MP100, 100, 1), "RGB", 20 << 20)  # no sizes: no scale
    assert alone.memory_mb > baseline.memory_mb


@pytest.mark.parametrize(
    ("fmt", "mode", "extra", "refused"),
    [
        ("png", "RGBA", {}, False),
        ("tiff", "I", {}, False),
        ("webp", "RGB", {}, False),
        ("webp", "RGBA", {"lossless": True}, False),
        # libjpeg's whole-image buffer, 800 MB, and the file (31 MiB as bench.worstcase builds it)
        ("jpeg", "CMYK", {"coefficients": 8.0, "nbytes": 31 << 20}, True),
        ("webp", "RGB", {"frames": 2}, True),  # an animation goes through Pillow: 12 bytes a pixel
        ("tiff", "LAB", {}, False),
        ("heif", "RGB", {"chroma": "420"}, False),  # measured 743 MB: Pillow's image, libheif's RGB
        ("heif", "RGBA", {"chroma": "420"}, False),
        ("heif", "RGB", {"chroma": "420", "depth": 10}, True),  # 20 MB of 10-bit HEVC: 949 MB
    ],
)
def test_which_100_mp_images_fit_the_resize_function(
    fmt: str, mode: str, extra: dict[str, object], refused: bool
) -> None:
    nbytes = int(extra.pop("nbytes", 20 << 20))  # type: ignore[call-overload]
    est = estimate(fmt, mode, nbytes=nbytes, **extra)
    if not refused:
        cost.check(est, RESIZE)
        return
    with pytest.raises(ImageRejected) as exc:
        cost.check(est, RESIZE)
    assert exc.value.reason == "too-costly"
    assert f"needs ~{est.memory_mb:,.0f} MB to render" in exc.value.detail
    assert "ResizeFunction has 1024 MB" in exc.value.detail
    cost.check(est, Limits(2048, 120, "BigRenderFunction"))  # a larger function would take it


def test_cpu_is_stretched_by_lambdas_cpu_share() -> None:
    est = cost.Estimate(300.0, 10.0, "x")
    assert Limits(1769, 30).stretch == 1.0 and Limits(3008, 30).stretch == 1.0
    assert Limits(256, 30).stretch == pytest.approx(6.91, abs=0.01)
    cost.check(est, Limits(1769, 30))  # 10 s of 15 s planned
    with pytest.raises(ImageRejected) as exc:
        cost.check(est, Limits(1024, 30, "OnDemandFunction"))  # 17.3 s > 15 s
    assert exc.value.reason == "too-costly"
    assert "~17 s of CPU" in exc.value.detail and "OnDemandFunction times out after 30 s" in exc.value.detail


def test_probe_puts_the_estimate_in_the_facts_and_check_cost_refuses_by_it() -> None:
    data = images.save(photo(640, 480), "PNG")
    facts = imaging.probe(data, total_bytes=len(data), max_pixels=CAP, specs=DEFAULT)
    assert facts is not None and facts.cost is not None
    assert cost.BASELINE_MB < facts.cost.memory_mb < 200
    assert imaging.check_cost(facts, DEFAULT, len(data), RESIZE) == facts.cost
    with pytest.raises(ImageRejected) as exc:
        imaging.check_cost(facts, DEFAULT, len(data), Limits(128, 120, "TinyFunction"))
    assert exc.value.reason == "too-costly" and "TinyFunction has 128 MB" in exc.value.detail


def test_the_layout_feeds_the_model_what_the_decoder_will_do() -> None:
    progressive = images.save(photo(64, 48), "JPEG", progressive=True, subsampling=0)
    assert headers.jpeg_header(progressive).coefficient_bytes == 6.0
    facts = imaging.probe(progressive, total_bytes=len(progressive), max_pixels=CAP)
    assert facts is not None and facts.layout is not None and facts.layout.coefficients == 6.0


def test_without_the_direct_webp_decoder_a_still_is_planned_like_pillows_reader() -> None:
    lay = Layout("webp", (16_383, 6_103), 30, 1)
    direct = cost.estimate(lay, "RGB", 2 << 20, DEFAULT)
    through_pillow = cost.estimate(lay, "RGB", 2 << 20, DEFAULT, direct_webp=False)
    assert through_pillow.memory_mb - direct.memory_mb > 600  # two canvases more, 800 MB
    with pytest.raises(ImageRejected):
        cost.check(through_pillow, RESIZE)


def test_an_opaque_still_webp_is_planned_at_the_size_libwebp_scales_it_to() -> None:
    """Measured (bench.worstcase): a 100 MP lossy WebP peaks 73 MB over nothing when scaled on
    load, and still costs libwebp's decode of every block; with alpha it is decoded whole."""
    opaque, alpha = estimate("webp", "RGB"), estimate("webp", "RGBA")
    assert opaque.memory_mb < cost.BASELINE_MB + cost.SLACK_MB + 60  # 1/8: 1.6 MP, and row caches
    assert alpha.memory_mb - opaque.memory_mb > 300  # 4 bytes a pixel, and the alpha plane
    whole = cost.estimate(Layout("webp", MP100, 100, 1), "RGB", 20 << 20, DEFAULT, direct_webp=False)
    assert whole.memory_mb - opaque.memory_mb > 600  # Pillow's reader cannot scale
    assert opaque.cpu_s > 100e6 * 3.5e-9  # every block decoded, whatever the output size


def test_a_heic_is_planned_as_libheif_decodes_it() -> None:
    """Calibrated on 12-100 MP HEICs (peak RSS of a fresh process): Pillow's 4 bytes a pixel
    plus libheif's 3 of interleaved RGB; one plane for grey; wider planes at 10 bits. HEVC's
    CPU follows the bitrate as much as the pixels."""
    rgb = estimate("heif", "RGB", nbytes=2 << 20, chroma="420")
    assert 780 < rgb.memory_mb < 840  # 743 MB measured, plus the runtime's 36
    grey = estimate("heif", "L", nbytes=2 << 20, chroma="400")
    deep = estimate("heif", "RGB", nbytes=2 << 20, chroma="420", depth=10)
    assert grey.memory_mb < 300 < rgb.memory_mb < deep.memory_mb
    dense = estimate("heif", "RGB", nbytes=40 << 20, chroma="420")
    assert dense.cpu_s > rgb.cpu_s + 4  # 130 ns a byte of HEVC
    assert grey.cpu_s < rgb.cpu_s < deep.cpu_s


def test_probe_plans_a_real_heic_from_its_header() -> None:
    data = images.heic(photo(640, 480))
    facts = imaging.probe(data, total_bytes=len(data), max_pixels=CAP, specs=DEFAULT)
    assert facts is not None and facts.cost is not None and facts.layout is not None
    assert facts.layout.format == "heif" and facts.layout.chroma == "420"
    assert cost.BASELINE_MB < facts.cost.memory_mb < cost.BASELINE_MB + cost.SLACK_MB + 12
