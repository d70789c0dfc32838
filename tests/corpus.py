"""The input corpus: every broken, hostile and odd upload the workflow is tested against.

Each ``Case`` builds its bytes in memory when asked (nothing large is committed or built at
collection time), through the builders of ``tests/images.py``, and says what must happen: a
named rejection with a reason slug, or thumbnails of a known displayed size, output format
and look. ``tests/functional/test_corpus.py`` runs every case through the whole workflow in
local mode.

Pixel checks use ``quadrants``: an image split into four flat, far-apart colours, so a
thumbnail shows at a glance whether it is upright, un-mirrored, the right frame and in the
right colours, even after a centre crop.
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageCms

from tests import images, worstcases
from tests.images import (
    ADOBE_LIKE_ICC,
    QUADRANTS,
    RED,
    SWAPPED_ICC,
    animated,
    bmp32_alpha,
    cmyk_jpeg,
    gif_js_polyglot,
    gif_screen_bomb,
    heic_like,
    html_png_polyglot,
    huge_exif_jpeg,
    jpeg_claiming,
    jpeg_with_secrets,
    jpeg_without_frame,
    jpeg_zip_polyglot,
    many_frame_gif,
    multipage_tiff,
    oriented_jpeg,
    palette_transparent,
    png16_grey,
    png16_rgb,
    png_garbled_pixels,
    png_grey_alpha,
    png_with_text_and_exif,
    quadrants,
    real_bomb_png,
    restart_marker_jpeg,
    rgba_webp_lossless,
    save,
    tiff_claiming,
    webp_claiming,
    ycck_jpeg,
    zip_archive,
)
from tests.images import SECRETS as SECRETS  # what test_corpus looks for in every thumbnail

MIB = 1024 * 1024
# The corpus cloud runs with this MaxSourceBytes, so "too big" costs 1 MiB, not 50.
MAX_SOURCE_BYTES = MIB

ADOBE_PATCH = (60, 170, 60)  # a mid green: visibly more saturated once converted to sRGB


@dataclass(frozen=True)
class Case:
    """One upload and the outcome it must have."""

    name: str
    key: str
    build: Callable[[], bytes]
    reject: str | None = None  # the reason slug of an ImageRejected, or None for thumbnails
    detail: str = ""  # text the cause must contain, besides the slug (rejections)
    size: tuple[int, int] = (0, 0)  # displayed (upright) width, height of the source
    fmt: str = "jpeg"  # what the configured 'auto' format must turn into
    # Colours expected in the thumbnail's quadrants (upright), or None to skip that check.
    looks: tuple[tuple[int, int, int], ...] | None = None
    alpha: bool = False  # the thumbnails must keep transparent pixels
    check: Callable[[Image.Image], None] | None = None  # extra per-thumbnail pixel check
    note: str = ""  # what the extra checks prove, for docs/reliability.md
    many_frames: bool = False  # the render must cost far less than walking every frame
    # "corpus": the cloud with a 1 MiB MaxSourceBytes; "default": the template's own limits
    # (50 MiB, 100 MP), for the inputs that only cost something at full size; "avif": the
    # corpus cloud with every Configure size set to ``format: avif`` (``fmt`` is then "avif").
    cloud: str = "corpus"
    fits_resize: bool = False  # the Resize invocation must stay under ResizeFunction's MemorySize


def adobe_patch_in_srgb() -> tuple[int, int, int]:
    """What ADOBE_PATCH looks like in sRGB, computed by littlecms independently of the engine."""
    wide = ImageCms.ImageCmsProfile(io.BytesIO(ADOBE_LIKE_ICC))
    converted = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), ADOBE_PATCH), wide, ImageCms.createProfile("sRGB")
    )
    assert converted is not None
    return converted.getpixel((0, 0))  # type: ignore[return-value]


# --------------------------------------------------------------------------------------
# per-thumbnail checks beyond dimensions, format, quadrants and metadata


def mostly_grey_ramp(im: Image.Image) -> None:
    """16-bit ramp: dark on the left, light on the right, mid-grey in the middle, no clipping."""
    g = im.convert("L")
    w, h = g.size
    left, mid, right = (g.getpixel((x, h // 2)) for x in (0, w // 2, w - 1))
    assert left < 40 and right > 215 and 90 < mid < 165, (left, mid, right)  # type: ignore[operator]


def grey_with_alpha(im: Image.Image) -> None:
    assert im.mode == "RGBA", im.mode
    r, g, b, a = im.getpixel((im.width // 2, im.height // 2))  # type: ignore[misc]
    assert a == 255 and abs(r - g) < 8 and abs(g - b) < 8, (r, g, b, a)
    assert im.getpixel((0, 0))[3] == 0  # type: ignore[index]


def red_left_transparent_right(im: Image.Image) -> None:
    assert im.mode == "RGBA", im.mode
    lx, rx, y = im.width // 4, im.width * 3 // 4, im.height // 2
    r, g, b, a = im.getpixel((lx, y))  # type: ignore[misc]
    assert a == 255 and r > 180 and g < 70 and b < 70, (r, g, b, a)
    assert im.getpixel((rx, y))[3] == 0  # type: ignore[index]


def red_left_blue_right(im: Image.Image) -> None:
    rgb = im.convert("RGB")
    y = rgb.height // 2
    left, right = rgb.getpixel((rgb.width // 4, y)), rgb.getpixel((rgb.width * 3 // 4, y))
    assert left[0] > 180 and left[2] < 70 and right[2] > 180 and right[0] < 70, (left, right)  # type: ignore[index]


def transparent_top_band(im: Image.Image) -> None:
    assert im.mode == "RGBA", im.mode
    assert im.getpixel((im.width // 2, 0))[3] == 0  # type: ignore[index]
    assert im.getpixel((im.width // 2, im.height // 2))[3] == 255  # type: ignore[index]


def adobe_patch_converted(im: Image.Image) -> None:
    want = adobe_patch_in_srgb()
    got = im.convert("RGB").getpixel((im.width // 2, im.height // 2))
    assert all(abs(a - b) <= 6 for a, b in zip(got, want, strict=True)), (got, want)  # type: ignore[arg-type]
    assert sum(abs(a - b) for a, b in zip(got, ADOBE_PATCH, strict=True)) > 30, got  # type: ignore[arg-type]


def grey_pixels(im: Image.Image) -> None:
    assert im.mode == "L", im.mode


P3_PATCH = (60, 170, 60)
# P3_PATCH in sRGB through the published P3-D65 -> sRGB linear matrix, not through littlecms
P3_PATCH_IN_SRGB = (0, 173, 35)


def p3_patch_converted(im: Image.Image) -> None:
    got = im.convert("RGB").getpixel((im.width // 2, im.height // 2))
    assert all(abs(a - b) <= 6 for a, b in zip(got, P3_PATCH_IN_SRGB, strict=True)), got  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# the corpus


def _swapped_quadrants() -> tuple[tuple[int, int, int], ...]:
    """Stored quadrants as displayed through SWAPPED_ICC: first two channels exchanged."""
    return tuple((c[1], c[0], c[2]) for c in QUADRANTS)


def _orientation_cases() -> list[Case]:
    return [
        Case(
            f"exif-orientation-{n}",
            f"corpus/orientation-{n}.jpg",
            lambda n=n: oriented_jpeg(n),
            size=(480, 320),
            looks=QUADRANTS,
            note="upright, corners in place",
        )
        for n in range(1, 9)
    ]


def _photo_jpeg(width: int, height: int, **options: object) -> Callable[[], bytes]:
    return lambda: save(quadrants(width, height), "JPEG", quality=90, **options)


def _refusals_that_were_false() -> list[Case]:
    """Real files the engine used to refuse (corrupt, header-too-large), and a repr in a cause."""
    return [
        Case(
            "tiff-directory-first-strip-tables-past-64k",
            "corpus/scanner.tif",
            lambda: worstcases.tiff_first((40, 20_000)),
            size=(40, 20_000),
            note="strip tables read where they are, not refused",
        ),
        Case(
            "tiff-directory-at-the-end",
            "corpus/libtiff.tif",
            lambda: save(quadrants(900, 600), "TIFF", compression="tiff_lzw"),
            size=(900, 600),
            looks=QUADRANTS,
            note="the directory read with one ranged GET at the end",
        ),
        Case(
            "png-icc-profile-over-1-mib",
            "corpus/printer-icc.png",
            lambda: save(quadrants(300, 200), "PNG", icc_profile=SWAPPED_ICC + bytes(3 << 20)),
            size=(300, 200),
            looks=_swapped_quadrants(),
            note="3 MB profile read and applied",
        ),
        Case(
            "tiff-pillow-cannot-identify",
            "corpus/unidentified.tif",
            lambda: worstcases.tiff_without_strips((20, 20)),
            reject="corrupt",
            detail="tiff header rejected",
        ),
    ]


@cache
def _heic_grid() -> bytes:
    return images.heic(quadrants(600, 400), tile_size=256)


@cache
def _heic_photo() -> bytes:
    return images.heic(images.photo(320, 240))


def _heif_cases() -> list[Case]:
    """What phones upload: HEIC turned by irot/imir (and an EXIF tag that must not turn it again),
    collections, 10 bits, alpha, grids, colour; bombs, cut and broken files refused by name."""
    return [
        Case(
            "heic-portrait-exif-6",
            "phone/IMG_0001.HEIC",
            lambda: images.oriented_heic(6, 320, 480),
            size=(320, 480),
            looks=QUADRANTS,
            note="irot applied once, the EXIF 6 beside it ignored",
        ),
        *(
            Case(
                f"heic-orientation-{n}",
                f"phone/orientation-{n}.heic",
                lambda n=n: images.oriented_heic(n),
                size=(480, 320),
                looks=QUADRANTS,
                note="irot/imir applied once",
            )
            for n in (2, 3, 5, 8)
        ),
        Case(
            "heic-exif-orientation-without-irot",
            "phone/exif-only.heic",
            images.heic_exif_orientation_only,
            size=(480, 320),
            looks=QUADRANTS,
            note="an EXIF tag in a HEIF is informative only",
        ),
        Case(
            "heic-collection-primary-second",
            "phone/burst.heic",
            lambda: images.heic_sequence(1),
            size=(320, 240),
            looks=QUADRANTS,
            note="the primary image, one frame out",
        ),
        Case("heic-10-bit", "phone/deep.heic", images.heic_10bit, size=(300, 200), looks=QUADRANTS),
        Case(
            "heic-alpha",
            "phone/alpha.heif",
            images.heic_alpha,
            size=(300, 200),
            fmt="webp",
            alpha=True,
            check=transparent_top_band,
            note="alpha plane kept",
        ),
        Case(
            "heic-grid", "phone/grid.heic", _heic_grid, size=(600, 400), looks=QUADRANTS, note="tiles joined"
        ),
        Case(
            "heic-icc-profile",
            "phone/icc.heic",
            lambda: images.heic(quadrants(300, 200), icc_profile=SWAPPED_ICC),
            size=(300, 200),
            looks=_swapped_quadrants(),
            note="colours converted to sRGB",
        ),
        Case(
            "heic-nclx-display-p3",
            "phone/p3.heic",
            lambda: images.heic(
                Image.new("RGB", (300, 200), P3_PATCH),
                color_primaries=12,
                transfer_characteristics=13,
                matrix_coefficients=6,
                full_range_flag=1,
            ),
            size=(300, 200),
            check=p3_patch_converted,
            note="P3 primaries converted to sRGB",
        ),
        Case(
            "heic-exif-gps-xmp",
            "phone/secrets.heic",
            lambda: images.heic(quadrants(300, 200), exif=images.secret_exif(), xmp=images.XMP),
            size=(300, 200),
            looks=QUADRANTS,
            note="EXIF, GPS, XMP stripped",
        ),
        Case(
            "heic-claims-60000x60000",
            "phone/claims.heic",
            lambda: images.heic_claiming(60_000, 60_000),
            reject="too-many-pixels",
            detail="60000x60000",
        ),
        Case(
            "heic-grid-tile-bomb",
            "phone/tile-bomb.heic",
            lambda: images.heic_patched(_heic_grid(), b"ispe", 4, struct.pack(">II", 30_000, 30_000), nth=1),
            reject="too-many-pixels",
            detail="30000x30000",
        ),
        Case(
            "heic-box-bomb",
            "phone/boxes.heic",
            lambda: images.heic_with_boxes(b"free", 50_000),
            reject="too-many-boxes",
        ),
        Case(
            "heic-item-bomb",
            "phone/items.heic",
            lambda: images.heic_with_items(20_000),
            reject="too-many-items",
        ),
        Case(
            "truncated-heic",
            "phone/cut.heic",
            lambda: (d := _heic_photo())[: len(d) * 2 // 3],
            reject="truncated",
            detail="heif",
        ),
        Case(
            "heic-without-meta",
            "phone/empty.heic",
            heic_like,
            reject="truncated",
            detail="heif header ends early",
        ),
        Case(
            "heic-corrupt-stream",
            "phone/zeroed.heic",
            lambda: (d := _heic_photo())[: d.index(b"mdat") + 8] + bytes(len(d) - d.index(b"mdat") - 8),
            reject="corrupt",
            detail="heif",
        ),
        Case(
            "heif-avc-unsupported",
            "phone/avc.heif",
            lambda: images.heic(quadrants(64, 48)).replace(b"hvc1", b"avc1", 1),
            reject="unsupported-format",
            detail="'avc1'",
        ),
        Case(
            "avif-irot-6",
            "corpus/turned.avif",
            lambda: save(
                images.stored_for(quadrants(480, 320), 6),
                "AVIF",
                quality=90,
                exif=images.exif_bytes(orientation=6),
            ),
            size=(480, 320),
            looks=QUADRANTS,
            note="irot applied once",
        ),
    ]


def _avif_output_cases() -> list[Case]:
    """Every Configure size as ``format: avif``: phone photos and transparency, upright, no metadata."""
    return [
        Case(
            "avif-out-heic-portrait",
            "avif-out/IMG_0001.HEIC",
            lambda: images.oriented_heic(6, 320, 480),
            size=(320, 480),
            fmt="avif",
            looks=QUADRANTS,
            cloud="avif",
            note="HEIC in, AVIF out, irot applied once",
        ),
        Case(
            "avif-out-heic-alpha",
            "avif-out/alpha.heif",
            images.heic_alpha,
            size=(300, 200),
            fmt="avif",
            alpha=True,
            check=transparent_top_band,
            cloud="avif",
            note="alpha plane kept",
        ),
        Case(
            "avif-out-heic-secrets",
            "avif-out/secrets.heic",
            lambda: images.heic(quadrants(300, 200), exif=images.secret_exif(), xmp=images.XMP),
            size=(300, 200),
            fmt="avif",
            looks=QUADRANTS,
            cloud="avif",
            note="EXIF, GPS, XMP stripped",
        ),
        Case(
            "avif-out-jpeg-exif-6",
            "avif-out/turned.jpg",
            lambda: oriented_jpeg(6),
            size=(480, 320),
            fmt="avif",
            looks=QUADRANTS,
            cloud="avif",
            note="upright",
        ),
        Case(
            "avif-out-png-alpha",
            "avif-out/logo.png",
            lambda: images.png_alpha(400, 300),
            size=(400, 300),
            fmt="avif",
            alpha=True,
            cloud="avif",
            note="transparency kept",
        ),
    ]


def _refusals_that_were_misnamed() -> list[Case]:
    """A TGA was called a cursor, binary noise text, a headerless bitmap nothing in particular."""
    return [
        Case(
            "tga",
            "corpus/texture.tga",
            lambda: save(quadrants(64, 48), "TGA"),
            reject="unsupported-format",
            detail="tga",
        ),
        Case(
            "tga-rle",
            "corpus/texture-rle.tga",
            lambda: save(quadrants(64, 48), "TGA", compression="tga_rle"),
            reject="unsupported-format",
            detail="tga",
        ),
        Case(
            "headerless-dib",
            "corpus/clipboard.bmp",
            lambda: save(quadrants(64, 48), "BMP")[14:],  # the BITMAPINFOHEADER first
            reject="unsupported-format",
            detail="dib",
        ),
        Case(
            "binary-noise-without-nul",
            "corpus/fuzz.jpg",
            lambda: bytes(random.Random(11).randrange(128, 256) for _ in range(4096)),
            reject="not-an-image",
            detail="no known image signature",
        ),
    ]


def _bombs() -> list[Case]:
    """The header bombs at full size (just under 50 MiB), each refused by name, or rendered cheaply."""
    expected = {c.name: c for c in worstcases.BOMBS}
    cases = [
        Case(name, f"bombs/{name}.bin", case.build, reject=case.reject, cloud="default")
        for name, case in expected.items()
        if case.reject is not None
    ]
    rle = expected["bomb-bmp-rle8-40kb-claiming-99mp"]
    cases.append(
        Case(
            rle.name,
            "bombs/rle-claims-99mp.bmp",
            rle.build,
            size=(9_950, 9_950),
            cloud="default",
            fits_resize=True,
            note="decoded a run at a time",
        )
    )
    cases.append(
        Case(
            "animated-webp-canvas-100mp",
            "bombs/animation.webp",
            lambda: worstcases.webp_animation_claiming(*worstcases.WEBP_MAX),
            reject="too-costly",
            detail="ResizeFunction has 1024 MB",
            cloud="default",
        )
    )
    return cases


def _giants() -> list[Case]:
    """The largest valid images the reviewer measured over 1024 MB: each renders under it now."""
    named = {c.name: c for c in worstcases.GIANTS}
    return [
        Case(
            "giant-webp-16383x6103",
            "giants/panorama.webp",
            named["webp-lossy-100mp"].build,
            size=worstcases.WEBP_MAX,
            cloud="default",
            fits_resize=True,
            note="decoded by libwebp into its image",
        ),
        Case(
            "giant-tiff-int32-100mp",
            "giants/int32.tif",
            named["tiff-int32-100mp"].build,
            size=worstcases.WIDE,
            cloud="default",
            fits_resize=True,
            check=grey_pixels,
            note="converted a band at a time",
        ),
        Case(
            "giant-tiff-grey-alpha-100mp",
            "giants/grey-alpha.tif",
            named["tiff-la-100mp"].build,
            size=worstcases.WIDE,
            fmt="webp",
            alpha=True,
            cloud="default",
            fits_resize=True,
            note="premultiplied a band at a time",
        ),
        Case(
            "giant-png-16-bit-grey-100mp",
            "giants/grey16.png",
            named["png-grey16-100mp"].build,
            size=worstcases.WIDE,
            cloud="default",
            fits_resize=True,
            check=grey_pixels,
        ),
    ]


CASES: list[Case] = [
    # ---- rejected: empty, cut short, not an image at all -------------------------------
    Case("zero-byte", "corpus/zero.jpg", lambda: b"", reject="empty"),
    Case(
        "truncated-jpeg",
        "corpus/truncated.jpg",
        lambda: (d := images.jpeg(640, 480))[: len(d) // 2],
        reject="truncated",
        detail="jpeg",
    ),
    Case(
        "truncated-jpeg-in-header",
        "corpus/truncated-header.jpg",
        lambda: save(quadrants(64, 48), "JPEG")[:120],
        reject="truncated",
        detail="jpeg",
    ),
    Case(
        "truncated-png",
        "corpus/truncated-png.png",
        lambda: (d := save(images.photo(400, 300), "PNG"))[: len(d) * 2 // 3],
        reject="truncated",
        detail="png",
    ),
    Case("text-named-jpg", "corpus/notes.jpg", lambda: images.TEXT, reject="text"),
    Case(
        "utf16-text-named-png",
        "corpus/notes16.png",
        lambda: "\ufeffplain UTF-16 text, named like a picture\n".encode("utf-16-le"),
        reject="text",
    ),
    Case(
        "html-named-png",
        "corpus/page.png",
        lambda: b"<!DOCTYPE html>\n<html><head><title>x</title></head><body>hi</body></html>\n",
        reject="html",
    ),
    Case(
        "pdf-named-jpg",
        "corpus/invoice.jpg",
        lambda: b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< >>\n%%EOF\n",
        reject="pdf",
    ),
    Case("svg-named-png", "corpus/vector.png", lambda: images.SVG, reject="svg"),
    Case(
        "svg-with-script-named-jpg",
        "corpus/xss.jpg",
        lambda: (
            b'<?xml version="1.0"?>\n<!-- drawn by hand -->\n<svg xmlns="http://www.w3.org/'
            b'2000/svg"><script>alert(1)</script></svg>'
        ),
        reject="svg",
    ),
    Case("zip-named-jpg", "corpus/archive.jpg", zip_archive, reject="not-an-image", detail="zip archive"),
    Case(
        "random-binary",
        "corpus/noise.png",
        lambda: random.Random(7).randbytes(4096),
        reject="not-an-image",
        detail="no known image signature",
    ),
    Case(
        "psd-unsupported",
        "corpus/layers.jpg",
        lambda: b"8BPS\x00\x01" + bytes(200),
        reject="unsupported-format",
        detail="psd",
    ),
    Case("polyglot-html-carrying-png", "corpus/polyglot-png.png", html_png_polyglot, reject="html"),
    # ---- rejected: lies in the header, bombs, caps -------------------------------------
    Case(
        "decompression-bomb-png",
        "corpus/bomb.png",
        real_bomb_png,
        reject="too-many-pixels",
        detail="12000x12000",
    ),
    Case(
        "header-claims-huge-png",
        "corpus/claims-png.png",
        lambda: images.png_claiming(100_000, 100_000),
        reject="too-many-pixels",
        detail="100000x100000",
    ),
    Case(
        "header-claims-huge-jpeg",
        "corpus/claims.jpg",
        lambda: jpeg_claiming(65_000, 65_000),
        reject="too-many-pixels",
        detail="65000x65000",
    ),
    Case(
        "header-claims-huge-tiff",
        "corpus/claims-tif.tif",
        lambda: tiff_claiming(4_000_000_000, 1_000_000),
        reject="too-many-pixels",
        detail="4000000000x1000000",
    ),
    Case(
        "header-claims-huge-webp",
        "corpus/claims-webp.webp",
        lambda: webp_claiming(16384, 16384),
        reject="too-many-pixels",
        detail="16384x16384",
    ),
    Case(
        "gif-logical-screen-bomb",
        "corpus/screen.gif",
        gif_screen_bomb,
        reject="too-many-pixels",
        detail="65535x65535",
    ),
    Case(
        "zero-width-png",
        "corpus/zero-width.png",
        lambda: images.png_claiming(0, 100),
        reject="zero-dimensions",
    ),
    Case(
        "jpeg-without-frame-header",
        "corpus/no-sof.jpg",
        jpeg_without_frame,
        reject="corrupt",
        detail="no frame header",
    ),
    Case("png-garbled-pixels", "corpus/garbled.png", png_garbled_pixels, reject="corrupt", detail="png"),
    Case(
        "over-max-source-bytes",
        "corpus/too-big.jpg",
        lambda: images.padded_jpeg(MAX_SOURCE_BYTES + 1),
        reject="too-many-bytes",
        detail=f"over MaxSourceBytes {MAX_SOURCE_BYTES}",
    ),
    # ---- accepted: sizes at the edges --------------------------------------------------
    Case(
        "exactly-max-source-bytes",
        "corpus/just-fits.jpg",
        lambda: images.padded_jpeg(MAX_SOURCE_BYTES),
        size=(200, 150),
        looks=QUADRANTS,
        note="the cap is inclusive",
    ),
    Case("1x1-jpeg", "corpus/dot.jpg", lambda: save(Image.new("RGB", (1, 1), RED), "JPEG"), size=(1, 1)),
    Case("1x1-png", "corpus/dot-png.png", lambda: save(Image.new("RGB", (1, 1), RED), "PNG"), size=(1, 1)),
    Case("10000x10", "corpus/wide.png", lambda: save(quadrants(10_000, 10), "PNG"), size=(10_000, 10)),
    Case("10x10000", "corpus/tall.jpg", _photo_jpeg(10, 10_000), size=(10, 10_000)),
    # ---- accepted: colour models and bit depths ----------------------------------------
    Case(
        "cmyk-jpeg-no-profile",
        "corpus/cmyk.jpg",
        cmyk_jpeg,
        size=(400, 300),
        looks=QUADRANTS,
        note="CMYK shown as RGB",
    ),
    Case(
        "ycck-jpeg", "corpus/ycck.jpg", ycck_jpeg, size=(400, 300), looks=QUADRANTS, note="YCCK shown as RGB"
    ),
    Case(
        "grayscale-jpeg",
        "corpus/grey.jpg",
        lambda: save(quadrants(400, 300).convert("L"), "JPEG", quality=90),
        size=(400, 300),
        check=grey_pixels,
        note="stays greyscale",
    ),
    Case(
        "png-16-bit-grey",
        "corpus/deep.png",
        png16_grey,
        size=(512, 64),
        check=mostly_grey_ramp,
        note="16-bit ramp scaled, not clipped",
    ),
    Case(
        "png-16-bit-rgb",
        "corpus/deep-rgb.png",
        png16_rgb,
        size=(300, 200),
        check=red_left_blue_right,
        note="48-bit colour kept",
    ),
    Case(
        "png-grey-alpha",
        "corpus/grey-alpha.png",
        png_grey_alpha,
        size=(300, 200),
        fmt="webp",
        alpha=True,
        check=grey_with_alpha,
        note="grey kept, alpha kept",
    ),
    Case(
        "png-palette-transparency",
        "corpus/palette.png",
        palette_transparent,
        size=(300, 200),
        fmt="webp",
        alpha=True,
        check=red_left_transparent_right,
        note="tRNS becomes alpha",
    ),
    Case(
        "gif-transparency",
        "corpus/transparent.gif",
        lambda: palette_transparent("GIF"),
        size=(300, 200),
        fmt="webp",
        alpha=True,
        check=red_left_transparent_right,
        note="transparent index becomes alpha",
    ),
    Case(
        "png-1-bit",
        "corpus/bilevel.png",
        lambda: save(
            quadrants(300, 200)
            .convert("L")
            .point(lambda v: 255 if v > 120 else 0)
            .convert("1", dither=Image.Dither.NONE),
            "PNG",
        ),
        size=(300, 200),
        check=grey_pixels,
        note="bilevel becomes grey",
    ),
    Case(
        "icc-channel-swapping-profile",
        "corpus/swapped-icc.jpg",
        lambda: save(quadrants(400, 300), "JPEG", quality=95, icc_profile=SWAPPED_ICC),
        size=(400, 300),
        looks=_swapped_quadrants(),
        note="colours converted to sRGB",
    ),
    Case(
        "icc-adobe-like-wide-gamut",
        "corpus/wide-gamut.png",
        lambda: save(Image.new("RGB", (300, 200), ADOBE_PATCH), "PNG", icc_profile=ADOBE_LIKE_ICC),
        size=(300, 200),
        check=adobe_patch_converted,
        note="colours converted to sRGB",
    ),
    Case(
        "icc-srgb-profile",
        "corpus/srgb-icc.jpg",
        lambda: save(
            quadrants(400, 300),
            "JPEG",
            quality=92,
            icc_profile=images.srgb_icc(),
        ),
        size=(400, 300),
        looks=QUADRANTS,
        note="profile dropped, colours unchanged",
    ),
    # ---- accepted: containers, frames, encodings ---------------------------------------
    Case(
        "progressive-jpeg",
        "corpus/progressive.jpg",
        _photo_jpeg(800, 600, progressive=True),
        size=(800, 600),
        looks=QUADRANTS,
    ),
    Case("jpeg-restart-markers", "corpus/restart.jpg", restart_marker_jpeg, size=(400, 300), looks=QUADRANTS),
    Case(
        "animated-gif",
        "corpus/animated.gif",
        lambda: animated("GIF"),
        size=(320, 240),
        looks=QUADRANTS,
        note="first frame, one frame out",
    ),
    Case(
        "animated-gif-3000-frames",
        "corpus/many-frames.gif",
        many_frame_gif,
        size=(160, 120),
        looks=QUADRANTS,
        many_frames=True,
        note="first frame, one frame out, frames never all decoded",
    ),
    Case(
        "animated-webp",
        "corpus/animated-webp.webp",
        lambda: animated("WEBP"),
        size=(320, 240),
        looks=QUADRANTS,
        note="first frame, one frame out",
    ),
    Case(
        "animated-png",
        "corpus/animated-png.png",
        lambda: animated("PNG"),
        size=(320, 240),
        looks=QUADRANTS,
        note="first frame, one frame out",
    ),
    Case(
        "multi-page-tiff",
        "corpus/pages.tif",
        multipage_tiff,
        size=(400, 300),
        looks=QUADRANTS,
        note="first page",
    ),
    Case(
        "tiff-lzw",
        "corpus/lzw.tiff",
        lambda: save(quadrants(400, 300), "TIFF", compression="tiff_lzw"),
        size=(400, 300),
        looks=QUADRANTS,
    ),
    Case(
        "bmp", "corpus/bitmap.bmp", lambda: save(quadrants(400, 300), "BMP"), size=(400, 300), looks=QUADRANTS
    ),
    Case(
        "bmp-32-bit-alpha",
        "corpus/alpha.bmp",
        bmp32_alpha,
        size=(300, 200),
        fmt="webp",
        alpha=True,
        check=transparent_top_band,
        note="alpha kept",
    ),
    Case(
        "webp-lossy-still",
        "corpus/still.webp",
        lambda: save(quadrants(400, 300), "WEBP", quality=90),
        size=(400, 300),
        looks=QUADRANTS,
    ),
    Case(
        "webp-lossless-alpha",
        "corpus/lossless.webp",
        rgba_webp_lossless,
        size=(300, 200),
        fmt="webp",
        alpha=True,
        check=red_left_transparent_right,
        note="alpha kept",
    ),
    # ---- accepted: metadata, orientation, lies about the format ------------------------
    Case(
        "jpeg-gps-xmp-comment-iptc",
        "corpus/secrets.jpg",
        jpeg_with_secrets,
        size=(600, 400),
        looks=QUADRANTS,
        note="GPS, XMP, comment, IPTC, ICC all stripped",
    ),
    Case(
        "png-text-and-exif",
        "corpus/secrets-png.png",
        png_with_text_and_exif,
        size=(300, 200),
        looks=QUADRANTS,
        note="tEXt, iTXt, eXIf stripped",
    ),
    Case(
        "huge-exif-header-past-64k",
        "corpus/huge-exif.jpg",
        huge_exif_jpeg,
        size=(480, 320),
        looks=QUADRANTS,
        note="header found past 240 KB, upright",
    ),
    Case(
        "bogus-orientation-9",
        "corpus/orientation-9.jpg",
        lambda: save(
            quadrants(480, 320),
            "JPEG",
            quality=92,
            exif=images.exif_bytes(orientation=9),
        ),
        size=(480, 320),
        looks=QUADRANTS,
        note="out-of-range tag ignored",
    ),
    Case(
        "png-named-jpg",
        "corpus/liar.jpg",
        lambda: save(quadrants(400, 300), "PNG"),
        size=(400, 300),
        looks=QUADRANTS,
        note="format by magic bytes, not name",
    ),
    Case(
        "jpeg-named-png",
        "corpus/liar2.png",
        _photo_jpeg(400, 300),
        size=(400, 300),
        looks=QUADRANTS,
        note="format by magic bytes, not name",
    ),
    Case(
        "polyglot-jpeg-zip",
        "corpus/polyglot.jpg",
        jpeg_zip_polyglot,
        size=(400, 300),
        looks=QUADRANTS,
        note="appended archive never reaches a thumbnail",
    ),
    Case(
        "polyglot-gif-javascript",
        "corpus/polyglot-gif.gif",
        gif_js_polyglot,
        size=(10799, 10),
        note="script comment never reaches a thumbnail",
    ),
    Case(
        "key-latin1-chars",
        "corpus/café crème naïve.jpg",
        _photo_jpeg(300, 200),
        size=(300, 200),
        looks=QUADRANTS,
    ),
    Case(
        "key-utf8-cjk-emoji",
        "corpus/写真 📷.png",
        lambda: save(quadrants(300, 200), "PNG"),
        size=(300, 200),
        looks=QUADRANTS,
    ),
    *_orientation_cases(),
    *_refusals_that_were_false(),
    *_heif_cases(),
    *_avif_output_cases(),
    *_refusals_that_were_misnamed(),
    *_bombs(),
    *_giants(),
]


def by_name() -> dict[str, Case]:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    return {c.name: c for c in CASES}
