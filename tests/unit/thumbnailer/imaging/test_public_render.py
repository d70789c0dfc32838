"""The engine's public face, end to end on real bytes: render."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageOps
from thumbnailer import formats
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import HEADER_BYTES, Rendition, probe, render

from tests import images
from tests.unit.thumbnailer.imaging.checks import AVIF, CAP, DecodeSpy, close, mean, opened, photo, spec

REPO = Path(__file__).resolve().parents[4]


def decoded(rendition: Rendition) -> Image.Image:
    return opened(rendition.body)


# --------------------------------------------------------------------------------------
# render: sizes, formats, order


@pytest.mark.parametrize(
    ("source", "box", "fit", "expected"),
    [
        ((640, 480), (200, 200), "inside", (200, 150)),
        ((640, 480), (1000, 1000), "inside", (640, 480)),  # never upscale
        ((640, 480), (300, 100), "cover", (300, 100)),
        ((640, 480), (1000, 1000), "cover", (480, 480)),
        ((10_000, 10), (128, 128), "inside", (128, 1)),
    ],
)
def test_render_dimensions(
    source: tuple[int, int], box: tuple[int, int], fit: str, expected: tuple[int, int]
) -> None:
    (out,) = render(images.save(photo(*source), "PNG"), [spec(box[0], box[1], fit, "png")], max_pixels=CAP)
    assert (out.width, out.height) == expected == decoded(out).size


def test_render_cover_crops_the_centre() -> None:
    im = photo(300, 100)
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, 99, 99), fill=(255, 0, 0))
    draw.rectangle((100, 0, 199, 99), fill=(0, 200, 0))
    draw.rectangle((200, 0, 299, 99), fill=(0, 0, 255))
    (out,) = render(images.save(im, "PNG"), [spec(50, 50, "cover", "png")], max_pixels=CAP)
    assert close(mean(decoded(out)), (0, 200, 0), 3)


@pytest.mark.parametrize(
    ("configured", "source", "written"),
    [
        ("jpeg", "opaque", "jpeg"),
        ("png", "opaque", "png"),
        ("webp", "opaque", "webp"),
        ("auto", "opaque", "jpeg"),
        ("auto", "transparent", "webp"),
        ("auto", "opaque-alpha", "jpeg"),
        ("jpeg", "transparent", "jpeg"),
    ],
)
def test_render_formats_come_from_the_formats_table(configured: str, source: str, written: str) -> None:
    src = {
        "opaque": photo(400, 300),
        "transparent": images.with_hole(photo(400, 300)),
        "opaque-alpha": photo(400, 300).convert("RGBA"),
    }[source]
    (out,) = render(images.save(src, "PNG"), [spec(200, 200, "inside", configured)], max_pixels=CAP)
    table = formats.OUTPUTS[written]
    assert (out.format, out.extension, out.content_type) == (table.name, table.extension, table.content_type)
    im = decoded(out)
    assert im.format.lower() == written
    assert close(mean(im.convert("RGB"), (120, 20, 180, 130)), mean(photo(400, 300), (240, 40, 360, 260)), 4)


def test_render_output_order_follows_specs() -> None:
    specs = [spec(64), spec(300, 100, "cover", "png"), spec(128, fmt="webp"), spec(256)]
    out = render(images.save(photo(800, 600), "JPEG"), specs, max_pixels=CAP)
    assert [r.spec for r in out] == specs
    assert [(r.width, r.height) for r in out] == [(64, 48), (300, 100), (128, 96), (256, 192)]
    assert [r.format for r in out] == ["jpeg", "png", "webp", "jpeg"]


def test_render_empty_spec_list() -> None:
    assert render(images.save(photo(64, 48), "JPEG"), [], max_pixels=CAP) == []


# --------------------------------------------------------------------------------------
# render: orientation, modes, colour, metadata


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("source_format", ["JPEG", "PNG", "WEBP", "TIFF", AVIF])
def test_render_shows_every_exif_orientation_as_pillow_does(orientation: int, source_format: str) -> None:
    stored = photo(240, 160)
    ImageDraw.Draw(stored).rectangle((0, 0, 59, 39), fill=(255, 0, 0))
    ImageDraw.Draw(stored).rectangle((180, 120, 239, 159), fill=(0, 0, 255))
    data = images.save(stored, source_format, exif=images.exif_bytes(orientation=orientation))
    source = Image.open(io.BytesIO(data))
    shown = ImageOps.exif_transpose(source).convert("RGB")  # the oracle: Pillow's own implementation
    assert shown.size == ((160, 240) if orientation >= 5 else (240, 160))

    facts = probe(data, total_bytes=len(data), max_pixels=CAP)
    assert facts is not None and (facts.width, facts.height, facts.orientation) == (*shown.size, orientation)
    full, half = render(data, [spec(500, 500, fmt="png"), spec(120, 120, fmt="png")], max_pixels=CAP)
    assert (full.width, full.height) == shown.size
    assert (half.width, half.height) == (shown.width // 2, shown.height // 2)
    assert mean(ImageChops.difference(decoded(full).convert("RGB"), shown).convert("L"))[0] < 1.0
    smaller = shown.resize((half.width, half.height), Image.Resampling.LANCZOS)
    assert mean(ImageChops.difference(decoded(half).convert("RGB"), smaller).convert("L"))[0] < 3.0


def test_render_16_bit_png_is_scaled_not_clipped() -> None:
    jpeg, png = render(images.png16_grey(), [spec(128, fmt="jpeg"), spec(128, fmt="png")], max_pixels=CAP)
    for out in (jpeg, png):
        im = decoded(out)
        assert im.mode == "L" and 110 < mean(im)[0] < 145  # a white clip would be ~255


def test_render_cmyk_jpeg_colours() -> None:
    src = photo(300, 200)
    ImageDraw.Draw(src).rectangle((0, 0, 149, 199), fill=(200, 60, 40))
    data = images.save(src.convert("CMYK"), "JPEG", quality=95)
    (out,) = render(data, [spec(150, fmt="jpeg")], max_pixels=CAP)
    im = decoded(out)
    assert im.mode == "RGB"
    assert close(mean(im, (5, 5, 70, 95)), (200, 60, 40), 8)
    assert close(mean(im), mean(src), 8)


@pytest.mark.parametrize("mode", ["1", "L"])
def test_render_grey_stays_grey(mode: str) -> None:
    src = photo(200, 150).convert(mode)
    jpeg, webp = render(
        images.save(src, "PNG"), [spec(100, fmt="jpeg"), spec(100, fmt="webp")], max_pixels=CAP
    )
    assert decoded(jpeg).mode == "L"
    r, g, b = decoded(webp).convert("RGB").split()
    assert ImageChops.difference(r, g).getextrema()[1] <= 2
    assert ImageChops.difference(g, b).getextrema()[1] <= 2
    assert close(mean(decoded(jpeg)), mean(src.convert("L")), 10)


@pytest.mark.parametrize("source_format", ["PNG", "GIF"])
def test_render_palette_transparency_goes_to_webp_with_alpha(source_format: str) -> None:
    data = images.save(images.palette_with_hole(photo(200, 150)), source_format)
    assert Image.open(io.BytesIO(data)).mode == "P"
    auto, png, jpeg = render(data, [spec(100), spec(100, fmt="png"), spec(100, fmt="jpeg")], max_pixels=CAP)
    assert (auto.format, auto.content_type) == ("webp", "image/webp")
    for out in (auto, png):
        im = decoded(out)
        assert im.mode == "RGBA"
        assert mean(im.getchannel("A"), (0, 0, 40, 75))[0] < 2
        assert mean(im.getchannel("A"), (60, 0, 100, 75))[0] > 253
    flat = decoded(jpeg)
    assert flat.mode == "RGB" and close(mean(flat, (0, 0, 40, 75)), (255, 255, 255), 3)
    opaque = photo(200, 150).resize((100, 75), Image.Resampling.LANCZOS)
    assert close(mean(flat, (60, 0, 100, 75)), mean(opaque, (60, 0, 100, 75)), 12)


def test_render_la_keeps_alpha_where_format_allows() -> None:
    src = photo(200, 150).convert("L")
    alpha = Image.new("L", src.size, 255)
    ImageDraw.Draw(alpha).rectangle((100, 0, 199, 149), fill=0)
    data = images.save(Image.merge("LA", (src, alpha)), "PNG")
    png, webp, jpeg = render(
        data, [spec(100, fmt="png"), spec(100, fmt="webp"), spec(100, fmt="jpeg")], max_pixels=CAP
    )
    assert decoded(png).mode == "LA" and decoded(webp).mode == "RGBA"
    assert mean(decoded(webp).getchannel("A"), (60, 0, 100, 75))[0] < 2
    assert decoded(jpeg).mode == "L" and mean(decoded(jpeg), (60, 0, 100, 75))[0] > 250
    grey = src.resize((100, 75), Image.Resampling.LANCZOS)
    assert abs(mean(decoded(jpeg), (0, 0, 40, 75))[0] - mean(grey, (0, 0, 40, 75))[0]) < 5


def test_render_srgb_profile_is_left_alone_and_dropped() -> None:
    src = photo(200, 150)
    (out,) = render(
        images.save(src, "PNG", icc_profile=images.srgb_icc()), [spec(200, fmt="png")], max_pixels=CAP
    )
    im = decoded(out)
    assert "icc_profile" not in im.info
    assert ImageChops.difference(im, src).getextrema() == ((0, 0), (0, 0), (0, 0))


@pytest.mark.parametrize("source_format", ["PNG", "JPEG"])  # iCCP chunk and APP2 segments
def test_render_converts_a_wide_gamut_profile_to_srgb(source_format: str) -> None:
    src = photo(200, 150)
    ImageDraw.Draw(src).rectangle((0, 0, 99, 149), fill=(60, 180, 60))
    options = {"quality": 95} if source_format == "JPEG" else {}
    data = images.save(src, source_format, icc_profile=images.ADOBE_LIKE_ICC, **options)
    (out,) = render(data, [spec(200, fmt="png")], max_pixels=CAP)
    im = decoded(out)
    assert "icc_profile" not in im.info
    assert not close(mean(im, (10, 10, 90, 140)), (60, 180, 60), 10)  # converted, not passed through


def test_render_strips_all_metadata() -> None:
    data = images.jpeg_with_secrets()
    assert {"exif", "xmp", "comment", "icc_profile"} <= set(Image.open(io.BytesIO(data)).info)
    for out in render(data, [spec(150, fmt=f) for f in ("jpeg", "png", "webp")], max_pixels=CAP):
        im = Image.open(io.BytesIO(out.body))
        assert not {"exif", "xmp", "comment", "icc_profile", "XML:com.adobe.xmp"} & set(im.info)
        assert len(im.getexif()) == 0
        for needle in (*images.SECRETS, b"Exif", b"http://ns.adobe.com/xap", b"iCCP", b"ICCP"):
            assert needle not in out.body, (out.format, needle)


def test_render_is_deterministic_within_and_across_processes() -> None:
    data = images.save(images.palette_with_hole(photo(200, 150)).convert("RGBA"), "PNG")
    specs = [spec(120, fmt=f, q=75) for f in ("jpeg", "png", "webp")] + [spec(90, 60, "cover")]
    first = [r.body for r in render(data, specs, max_pixels=CAP)]
    assert first == [r.body for r in render(data, specs, max_pixels=CAP)]

    script = (
        "import sys, hashlib\n"
        "from thumbnailer import imaging\n"
        "from thumbnailer.spec import SizeSpec\n"
        "specs = [SizeSpec(*s) for s in eval(sys.argv[1])]\n"
        "data = sys.stdin.buffer.read()\n"
        "outs = imaging.render(data, specs, max_pixels=10**8)\n"
        "print(' '.join(hashlib.sha256(r.body).hexdigest() for r in outs))\n"
    )
    args = repr([(s.width, s.height, s.fit, s.format, s.quality) for s in specs])
    result = subprocess.run(
        [sys.executable, "-c", script, args],
        input=data,
        capture_output=True,
        check=True,
        env={"PYTHONPATH": str(REPO / "functions")},
    )
    assert result.stdout.decode().split() == [hashlib.sha256(b).hexdigest() for b in first]


def test_render_animated_sources_use_the_first_frame() -> None:
    colours = [(220, 30, 30), (30, 220, 30), (30, 30, 220)]
    frames = [Image.blend(Image.new("RGB", (120, 80), c), photo(120, 80), 0.15) for c in colours]
    for fmt in ("GIF", "WEBP", "TIFF", "PNG"):
        data = images.save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
        (out,) = render(data, [spec(60, fmt="png")], max_pixels=CAP)
        assert close(mean(decoded(out).convert("RGB")), mean(frames[0]), 12), fmt


# --------------------------------------------------------------------------------------
# render: one decode, drafted, sizes derived


def test_render_decodes_once_for_all_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    data = images.save(photo(2400, 1600), "JPEG", quality=90)
    spy = DecodeSpy(monkeypatch)
    out = render(data, [spec(s) for s in (64, 128, 256)] + [spec(100, 100, "cover")], max_pixels=CAP)
    assert len(out) == 4
    assert (spy.opens, spy.decoders) == (1, 1)
    # Draft: the largest output is 256 wide, so a 1/4 DCT decode (600x400) keeps a >2x gap.
    assert spy.loaded == [(600, 400)]


def test_render_draft_accounts_for_rotation_and_cover(monkeypatch: pytest.MonkeyPatch) -> None:
    data = images.save(photo(2400, 800), "JPEG", exif=images.exif_bytes(orientation=6))
    spy = DecodeSpy(monkeypatch)
    # Displayed 800x2400; covering 300x300 needs 300 px across the 800-px side: 1/1 decode.
    (out,) = render(data, [spec(300, 300, "cover")], max_pixels=CAP)
    assert (out.width, out.height) == (300, 300)
    assert spy.loaded == [(2400, 800)]
    spy.loaded.clear()
    (out,) = render(data, [spec(100, 100, "cover")], max_pixels=CAP)  # 800/100 = 8 -> 1/4
    assert spy.loaded == [(600, 200)]


def test_render_derives_smaller_sizes_from_larger_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    data = images.save(photo(2400, 1800), "JPEG", quality=90)
    calls: list[tuple[tuple[int, int], tuple[int, int]]] = []
    real_resize = Image.Image.resize

    def spy_resize(self: Image.Image, size: tuple[int, int], *args: object, **kw: object) -> object:
        calls.append((self.size, tuple(size)))  # type: ignore[arg-type]
        return real_resize(self, size, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "resize", spy_resize)
    out = render(data, [spec(s) for s in (64, 512, 128, 256)], max_pixels=CAP)
    assert [(r.width, r.height) for r in out] == [(64, 48), (512, 384), (128, 96), (256, 192)]
    # 1/2 DCT decode (1200x900: >= 2x the 512 output), then each size from the one above,
    # the placeholder's 32-px rendition last, from the smallest.
    assert calls == [
        ((1200, 900), (512, 384)),
        ((512, 384), (256, 192)),
        ((256, 192), (128, 96)),
        ((128, 96), (64, 48)),
        ((64, 48), (32, 24)),
    ]


def test_render_chained_sizes_match_direct_resizes() -> None:
    data = images.save(photo(1600, 1200), "JPEG", quality=92)
    sizes = [spec(s, fmt="png") for s in (1024, 512, 256, 128)]
    chained = render(data, sizes, max_pixels=CAP)
    for i, single in enumerate(sizes):
        (direct,) = render(data, [single], max_pixels=CAP)
        assert (direct.width, direct.height) == (chained[i].width, chained[i].height)
        diff = ImageChops.difference(decoded(direct), decoded(chained[i])).convert("L")
        assert mean(diff)[0] < 2.0, single


def test_render_pixel_cap_is_checked_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    data = images.save(photo(400, 300), "PNG")
    spy = DecodeSpy(monkeypatch)
    with pytest.raises(ImageRejected) as exc:
        render(data, [spec(100)], max_pixels=400 * 300 - 1)
    assert exc.value.reason == "too-many-pixels"
    assert spy.decoders == 0


def test_render_gif_frame_larger_than_screen_is_capped() -> None:
    data = bytearray(images.save(photo(300, 200), "GIF"))
    data[6:10] = struct.pack("<HH", 10, 10)  # logical screen says 10x10, the frame is 300x200
    with pytest.raises(ImageRejected) as exc:
        render(bytes(data), [spec(50)], max_pixels=1000)
    assert exc.value.reason == "too-many-pixels"


def test_render_many_frames_reads_only_the_first(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = DecodeSpy(monkeypatch)
    (out,) = render(images.many_frame_gif(), [spec(80, fmt="png")], max_pixels=CAP)
    assert (out.width, out.height) == (80, 60) and spy.decoders == 1


# --------------------------------------------------------------------------------------
# render: bad input


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP", "TIFF", "BMP"])
@pytest.mark.parametrize("keep", [0.3, 0.97])
def test_render_truncated(fmt: str, keep: float) -> None:
    data = images.save(photo(300, 200), fmt)
    with pytest.raises(ImageRejected) as exc:
        render(data[: int(len(data) * keep)], [spec(100)], max_pixels=CAP)
    assert exc.value.reason == "truncated"


def test_render_corrupt_scan_data() -> None:
    with pytest.raises(ImageRejected) as exc:
        render(images.png_garbled_pixels(), [spec(100)], max_pixels=CAP)
    assert exc.value.reason == "corrupt"


def junk_after(prefix: bytes, seed: int) -> bytes:
    return prefix + random.Random(seed).randbytes(3000)


@pytest.mark.parametrize(
    "data",
    [
        junk_after(b"\xff\xd8\xff", 1),
        junk_after(b"\xff\xd8\xff\xdb\x00\x43", 2),
        junk_after(b"\x89PNG\r\n\x1a\n", 3),
        junk_after(b"GIF89a", 4),
        junk_after(b"RIFF\x00\x10\x00\x00WEBPVP8 ", 5),
        junk_after(b"RIFF\x00\x10\x00\x00WEBPVP8X", 6),
        junk_after(b"II*\x00", 7),
        junk_after(b"MM\x00*", 8),
        junk_after(b"BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", 9),
        images.with_frame_size(images.save(photo(64, 48), "JPEG"), 0, 48),
    ],
)
def test_bad_input_only_raises_image_rejected(data: bytes) -> None:
    bad = {"truncated", "corrupt", "too-many-pixels", "zero-dimensions"}
    with pytest.raises(ImageRejected) as exc:
        render(data, [spec(100)], max_pixels=CAP)
    assert exc.value.reason in bad
    try:  # probe may accept a plausible header, but must not fail any other way
        probe(data, total_bytes=len(data), max_pixels=CAP)
    except ImageRejected as rejected:
        assert rejected.reason in bad


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("PNG", {}),
        ("GIF", {}),
        ("WEBP", {}),
        ("TIFF", {"compression": "tiff_deflate"}),
        ("BMP", {}),
    ],
)
def test_mangled_files_only_ever_raise_image_rejected(fmt: str, options: dict[str, object]) -> None:
    data = images.save(photo(120, 90), fmt, **options)
    outcomes = set()
    for mangled in images.mutations(data, seed=len(data), count=25):
        try:
            render(mangled, [spec(64), spec(32, 32, "cover", "png")], max_pixels=CAP)
            outcomes.add("ok")
        except ImageRejected as exc:
            outcomes.add(exc.reason)
        try:
            probe(mangled[:4096], total_bytes=len(mangled), max_pixels=CAP)
        except ImageRejected as exc:
            outcomes.add(exc.reason)
    known = {"ok", "truncated", "corrupt", "too-many-pixels", "zero-dimensions", "not-an-image"}
    assert outcomes <= known | {"unsupported-format", "text"}  # a hit magic number re-sniffs
    assert "truncated" in outcomes


# --------------------------------------------------------------------------------------
# samples


def test_samples_are_small_photos_that_render() -> None:
    expected = {
        "landscape.jpg": ("jpeg", 1600, 1067, 1),
        "logo-alpha.png": ("png", 800, 800, 1),
        "portrait-exif-rotated.jpg": ("jpeg", 900, 1200, 6),
    }
    for name, (fmt, width, height, orientation) in expected.items():
        data = (REPO / "samples" / name).read_bytes()
        assert len(data) < 120 * 1024, name
        facts = probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP)
        assert facts is not None
        assert (facts.format, facts.width, facts.height, facts.orientation) == (
            fmt,
            width,
            height,
            orientation,
        )
        (out,) = render(data, [spec(256)], max_pixels=CAP)
        im = decoded(out).convert("RGB")
        assert max(hi - lo for lo, hi in im.getextrema()) > 100, name  # not flat colour
    portrait = decoded(
        render(
            (REPO / "samples" / "portrait-exif-rotated.jpg").read_bytes(),
            [spec(300, fmt="png")],
            max_pixels=CAP,
        )[0]
    )
    top, bottom = mean(portrait, (0, 0, 225, 60)), mean(portrait, (0, 240, 225, 300))
    assert top[2] > bottom[2] + 40  # blue sky shows at the displayed top
