"""The input corpus: every broken, hostile and odd upload the workflow is tested against.

Each ``Case`` builds its bytes in memory when asked (nothing large is committed or built at
collection time) and says what must happen: a named rejection with a reason slug, or
thumbnails of a known displayed size, output format and look. ``tests/functional/
test_corpus.py`` runs every case through the whole workflow in local mode.

Pixel checks use ``quadrants``: an image split into four flat, far-apart colours, so a
thumbnail shows at a glance whether it is upright, un-mirrored, the right frame and in the
right colours, even after a centre crop.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageCms, ImageDraw

from tests import images

# Top-left, top-right, bottom-left, bottom-right: far apart in every channel pair.
RED = (220, 30, 30)
GREEN = (30, 200, 30)
BLUE = (30, 30, 220)
YELLOW = (230, 230, 40)
QUADRANTS = (RED, GREEN, BLUE, YELLOW)

# Strings planted in metadata; none of them may appear in any thumbnail.
SECRETS = (
    b"corpus-secret-comment",
    b"corpus-secret-xmp",
    b"corpus-secret-gps-area",
    b"CorpusSecretCam",
    b"corpus-secret-iptc",
    b"corpus-secret-zip-payload",
    b"corpus-secret-script",
    b"corpus-secret-png-text",
)

MIB = 1024 * 1024
# The corpus cloud runs with this MaxSourceBytes, so "too big" costs 1 MiB, not 50.
MAX_SOURCE_BYTES = MIB


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


# --------------------------------------------------------------------------------------
# building blocks


def save(im: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def quadrants(
    width: int,
    height: int,
    colours: tuple[tuple[int, int, int], ...] = QUADRANTS,
) -> Image.Image:
    im = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(im)
    hw, hh = width // 2, height // 2
    draw.rectangle((0, 0, hw - 1, hh - 1), fill=colours[0])
    draw.rectangle((hw, 0, width - 1, hh - 1), fill=colours[1])
    draw.rectangle((0, hh, hw - 1, height - 1), fill=colours[2])
    draw.rectangle((hw, hh, width - 1, height - 1), fill=colours[3])
    return im


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_raw(width: int, height: int, depth: int, colour_type: int, rows: list[bytes]) -> bytes:
    """A PNG written by hand (filter 0 on every row), for layouts Pillow cannot save."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    idat = zlib.compress(b"".join(b"\x00" + row for row in rows))
    return (
        b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    )


def jpeg_segments(data: bytes, segments: list[tuple[int, bytes]]) -> bytes:
    """Insert APPn/COM segments right after SOI (and JFIF APP0, if any)."""
    at = 2
    if data[2:4] == b"\xff\xe0":
        at = 4 + struct.unpack(">H", data[4:6])[0]
    extra = b"".join(
        b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body for marker, body in segments
    )
    return data[:at] + extra + data[at:]


def s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def matrix_icc(description: str, colorants: list[tuple[float, float, float]], gamma: float) -> bytes:
    """An ICC v2 matrix/TRC RGB display profile built byte by byte (ImageCms cannot make one)."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + s15(x) + s15(y) + s15(z)

    text = description.encode("ascii") + b"\x00"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)
    curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)
    tags = [
        (b"desc", desc),
        (b"cprt", b"text" + bytes(4) + b"public domain\x00"),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(*colorants[0])),
        (b"gXYZ", xyz(*colorants[1])),
        (b"bXYZ", xyz(*colorants[2])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, blobs = b"", b""
    for sig, blob in tags:
        blob += bytes(-len(blob) % 4)
        table += sig + struct.pack(">II", offset + len(blobs), len(blob))
        blobs += blob
    body = struct.pack(">I", len(tags)) + table + blobs
    header = (
        struct.pack(">I", 128 + len(body))
        + b"lcms"
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(48)
    )
    assert len(header) == 128
    return header + body


# sRGB's primaries adapted to D50, as in the ICC sRGB profile.
_SRGB_R = (0.4361, 0.2225, 0.0139)
_SRGB_G = (0.3851, 0.7169, 0.0971)
_SRGB_B = (0.1431, 0.0606, 0.7141)
# A profile that says "the first channel is green, the second red": a stored red pixel must
# come out sRGB green. Any thumbnail that ignores the profile shows the wrong colours.
SWAPPED_ICC = matrix_icc("Corpus channel-swapping RGB", [_SRGB_G, _SRGB_R, _SRGB_B], 2.2)
ADOBE_LIKE_ICC = matrix_icc(
    "Corpus Adobe-like wide gamut RGB",
    [(0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609), (0.1492, 0.0632, 0.7446)],
    563 / 256,
)
ADOBE_PATCH = (60, 170, 60)  # a mid green: visibly more saturated once converted to sRGB


def adobe_patch_in_srgb() -> tuple[int, int, int]:
    """What ADOBE_PATCH looks like in sRGB, computed by littlecms independently of the engine."""
    wide = ImageCms.ImageCmsProfile(io.BytesIO(ADOBE_LIKE_ICC))
    converted = ImageCms.profileToProfile(
        Image.new("RGB", (1, 1), ADOBE_PATCH), wide, ImageCms.createProfile("sRGB")
    )
    assert converted is not None
    return converted.getpixel((0, 0))  # type: ignore[return-value]


# Orientation n: what the stored pixels must go through to be displayed upright. Storing the
# inverse of it with the tag set gives an image that is upright only if the tag is honoured.
_STORE_FOR_ORIENTATION: dict[int, Image.Transpose | None] = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # displayed = stored rotated 270, so store rotated 90
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def oriented_jpeg(orientation: int, width: int = 480, height: int = 320) -> bytes:
    upright = quadrants(width, height)
    op = _STORE_FOR_ORIENTATION[orientation]
    stored = upright.transpose(op) if op is not None else upright
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    return save(stored, "JPEG", quality=92, exif=exif.tobytes())


def cmyk_jpeg() -> bytes:
    return save(quadrants(400, 300).convert("CMYK"), "JPEG", quality=92)


def ycck_jpeg() -> bytes:
    """A 4-channel Adobe JPEG with transform 2 (YCCK), what Photoshop writes for CMYK.

    Pillow only writes plain (inverted) CMYK, so the YCCK planes are computed here and the
    Adobe APP14 transform flag is set by hand. libjpeg turns YCC back into (inverted) CMY.
    """
    cmyk = quadrants(400, 300).convert("CMYK")
    c, m, y, k = cmyk.split()
    ycc = Image.merge("RGB", (c, m, y)).convert("YCbCr")  # C, M, Y taken as R, G, B
    yy, cb, cr = ycc.split()

    def inv(ch: Image.Image) -> Image.Image:
        return ch.point(lambda v: 255 - v)

    # Pillow inverts all four channels on save and on load (Adobe convention): pre-invert the
    # YCC planes so they land in the file as they are; K is inverted twice, so it is kept.
    four = Image.merge("CMYK", (inv(yy), inv(cb), inv(cr), k))
    data = bytearray(save(four, "JPEG", quality=95))
    adobe = data.index(b"Adobe")
    assert data[adobe + 11] == 0
    data[adobe + 11] = 2
    return bytes(data)


def png16_grey() -> bytes:
    """I;16 horizontal ramp 0..65535: a reader that clips to 8 bits shows white."""
    width, height = 512, 64
    row = b"".join(struct.pack(">H", round(x * 65535 / (width - 1))) for x in range(width))
    return png_raw(width, height, 16, 0, [row] * height)


def png16_rgb() -> bytes:
    """48-bit RGB PNG (Pillow cannot save one): left half red, right half blue."""
    width, height = 300, 200
    red, blue = struct.pack(">HHH", 56540, 7710, 7710), struct.pack(">HHH", 7710, 7710, 56540)
    row = red * (width // 2) + blue * (width - width // 2)
    return png_raw(width, height, 16, 2, [row] * height)


def png_grey_alpha() -> bytes:
    grey = Image.linear_gradient("L").resize((300, 200))
    alpha = Image.new("L", (300, 200), 0)
    ImageDraw.Draw(alpha).ellipse((40, 20, 260, 180), fill=255)
    return save(Image.merge("LA", (grey, alpha)), "PNG")


def palette_transparent(fmt: str = "PNG") -> bytes:
    """P image: left half red, right half the transparent index."""
    im = Image.new("P", (300, 200), 1)
    im.putpalette([220, 30, 30, 0, 0, 0] + [0] * 762)
    ImageDraw.Draw(im).rectangle((0, 0, 149, 199), fill=0)
    return save(im, fmt, transparency=1)


def animated(fmt: str, frames: int = 3, size: tuple[int, int] = (320, 240)) -> bytes:
    first = quadrants(*size)
    rest = [Image.new("RGB", size, (10 + 60 * (i % 4), 10, 10)) for i in range(frames - 1)]
    return save(first, fmt, save_all=True, append_images=rest, duration=40, loop=0)


def many_frame_gif(frames: int = 3000) -> bytes:
    """A 3000-frame GIF: rendering must read the first frame, never walk all of them.

    Pillow writes two frames; the second frame's blocks are then repeated (building 3000
    frames through Pillow would take seconds).
    """
    first = quadrants(160, 120)
    second = Image.new("RGB", (160, 120), (200, 0, 200))
    data = save(first, "GIF", save_all=True, append_images=[second], duration=20, loop=0)
    gce = data.index(b"\x21\xf9\x04", data.index(b"\x21\xf9\x04") + 1)  # the 2nd frame
    block = data[gce:-1]  # up to, not including, the trailer (0x3B)
    assert data[-1:] == b";"
    return data[:gce] + block * (frames - 1) + b";"


def multipage_tiff() -> bytes:
    pages = [Image.new("RGB", (400, 300), (0, 0, 0)), Image.new("RGB", (200, 200), BLUE)]
    return save(quadrants(400, 300), "TIFF", save_all=True, append_images=pages, compression="tiff_deflate")


def secret_exif() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CorpusSecretCam"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 39.9)
    gps[ExifTags.GPS.GPSAreaInformation] = "corpus-secret-gps-area"
    return exif.tobytes()


XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Label="corpus-secret-xmp"/></rdf:RDF>'
    b'</x:xmpmeta><?xpacket end="w"?>'
)


def jpeg_with_secrets() -> bytes:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = save(
        quadrants(600, 400),
        "JPEG",
        quality=90,
        exif=secret_exif(),
        xmp=XMP,
        comment=b"corpus-secret-comment",
        icc_profile=icc,
    )
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x19\x1c\x02\x78\x00\x12corpus-secret-iptc\x00"
    return jpeg_segments(data, [(0xED, iptc)])


def huge_exif_jpeg() -> bytes:
    """~64 KB of EXIF plus three 60 KB APP segments: the frame header sits past 240 KB,
    far beyond Validate's first 64 KiB read, and the orientation tag (6) is honoured."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.ImageDescription] = "x" * 60_000
    stored = quadrants(480, 320).transpose(Image.Transpose.ROTATE_90)
    data = save(stored, "JPEG", quality=90, exif=exif.tobytes())
    filler = [(0xEF, b"corpus-filler" + bytes(60_000)) for _ in range(3)]
    return jpeg_segments(data, filler)


def jpeg_zip_polyglot() -> bytes:
    """A JPEG that is also a ZIP (the archive appended after EOI, like GIFAR/JAR tricks)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("payload.txt", "corpus-secret-zip-payload")
    return save(quadrants(400, 300), "JPEG", quality=90) + buf.getvalue()


def gif_js_polyglot() -> bytes:
    """A GIF that is also JavaScript: its width bytes read '/*', a comment closes it.

    Width 0x2A2F = 10799 px opens a JS comment right after 'GIF89a'; a GIF comment block
    holds '*/=1;alert("corpus-secret-script")//'. It is a valid 10799x10 GIF.
    """
    im = quadrants(10799, 10).quantize(4)
    data = save(im, "GIF", comment=b'*/=1;alert("corpus-secret-script");//')
    assert data[6:8] == b"/*"
    return data


def html_png_polyglot() -> bytes:
    """An HTML page that carries a PNG inside: the first bytes decide, so it is HTML."""
    png = save(quadrants(64, 48), "PNG")
    return b"<html><body><script>/*corpus-secret-script*/</script><!--" + png + b"--></body></html>"


def real_bomb_png() -> bytes:
    """A real decompression bomb: 12000x12000 1-bit PNG, ~18 KB on disk, 144 MP decoded."""
    return save(Image.new("1", (12_000, 12_000), 0), "PNG", optimize=True)


def gif_screen_bomb() -> bytes:
    """A GIF whose logical screen claims 65535x65535 around one 8x8 frame."""
    data = bytearray(save(quadrants(8, 8), "GIF"))
    data[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


def jpeg_claiming(width: int, height: int) -> bytes:
    data = save(quadrants(64, 48), "JPEG")
    at = data.index(b"\xff\xc0")
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


def tiff_claiming(width: int, height: int) -> bytes:
    """A 300-byte TIFF whose IFD says width x height (LONG tags)."""
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8),
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, 64),
    ]
    ifd = (
        struct.pack("<H", len(entries))
        + b"".join(struct.pack("<HHII", tag, kind, count, value) for tag, kind, count, value in entries)
        + struct.pack("<I", 0)
    )
    header = b"II*\x00" + struct.pack("<I", 8 + 64)
    return header + bytes(64) + ifd


def webp_claiming(width: int, height: int) -> bytes:
    """A VP8X WebP whose canvas claims width x height around a tiny real image."""
    small = save(quadrants(16, 16), "WEBP", quality=80)
    vp8 = small[12:]
    vp8x = (
        b"VP8X"
        + struct.pack("<I", 10)
        + bytes(4)
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )
    body = b"WEBP" + vp8x + vp8
    return b"RIFF" + struct.pack("<I", len(body)) + body


def png_zero_width() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 0, 100, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b""))
        + png_chunk(b"IEND", b"")
    )


def png_garbled_pixels() -> bytes:
    data = bytearray(save(images.photo(300, 200), "PNG"))
    at = data.index(b"IDAT") + 40
    data[at : at + 400] = random.Random(5).randbytes(400)
    return bytes(data)


def jpeg_without_frame() -> bytes:
    """SOI, a quantisation table, then scan data: no SOFn frame header at all."""
    good = save(quadrants(64, 48), "JPEG")
    sof = good.index(b"\xff\xc0")
    length = struct.unpack(">H", good[sof + 2 : sof + 4])[0]
    return good[:sof] + good[sof + 2 + length :]


def over_max_bytes(extra: int) -> bytes:
    """A valid JPEG padded with an APP15 segment to exactly MAX_SOURCE_BYTES + extra bytes."""
    base = save(quadrants(200, 150), "JPEG", quality=85)
    need = MAX_SOURCE_BYTES + extra - len(base)
    segments = []
    while need > 0:
        body = min(need - 4, 65533)
        if need - (body + 4) in (1, 2, 3):  # leave room for a whole last segment
            body -= 8
        segments.append((0xEF, bytes(max(body, 0))))
        need -= body + 4
    data = jpeg_segments(base, segments)
    assert len(data) == MAX_SOURCE_BYTES + extra, len(data)
    return data


def heic_like() -> bytes:
    return struct.pack(">I", 24) + b"ftypheic" + struct.pack(">I", 0) + b"mif1heic" + bytes(64)


def zip_archive() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "hello")
    return buf.getvalue()


def restart_marker_jpeg() -> bytes:
    data = save(quadrants(400, 300), "JPEG", quality=90, restart_marker_blocks=2)
    assert b"\xff\xdd" in data and b"\xff\xd0" in data
    return data


def png_with_text_and_exif() -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "corpus-secret-png-text")
    info.add_itxt("Description", "corpus-secret-png-text", lang="en")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CorpusSecretCam"
    return save(quadrants(300, 200), "PNG", pnginfo=info, exif=exif.tobytes())


def bmp32_alpha() -> bytes:
    """A BITMAPV5HEADER BMP with an alpha bit mask (Pillow only saves alpha-less BMPs):
    quadrants under a fully transparent band along the top."""
    im = quadrants(300, 200).convert("RGBA")
    alpha = Image.new("L", im.size, 255)
    ImageDraw.Draw(alpha).rectangle((0, 0, 299, 19), fill=0)
    im.putalpha(alpha)
    pixels = im.transpose(Image.Transpose.FLIP_TOP_BOTTOM).tobytes("raw", "BGRA")
    dib = struct.pack("<IiiHHIIiiII", 124, im.width, im.height, 1, 32, 3, len(pixels), 2835, 2835, 0, 0)
    dib += struct.pack("<IIII", 0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000)
    dib += b"BGRs" + bytes(36 + 12) + struct.pack("<IIII", 4, 0, 0, 0)
    assert len(dib) == 124
    offset = 14 + len(dib)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + dib + pixels


def rgba_webp_lossless() -> bytes:
    im = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 149, 199), fill=(220, 30, 30, 255))
    return save(im, "WEBP", lossless=True)


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
        "corpus/truncated.png",
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
    Case("heic-unsupported", "corpus/phone.heic", heic_like, reject="unsupported-format", detail="heic"),
    Case(
        "psd-unsupported",
        "corpus/layers.jpg",
        lambda: b"8BPS\x00\x01" + bytes(200),
        reject="unsupported-format",
        detail="psd",
    ),
    Case("polyglot-html-carrying-png", "corpus/polyglot.png", html_png_polyglot, reject="html"),
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
        "corpus/claims.png",
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
        "corpus/claims.tif",
        lambda: tiff_claiming(4_000_000_000, 1_000_000),
        reject="too-many-pixels",
        detail="4000000000x1000000",
    ),
    Case(
        "header-claims-huge-webp",
        "corpus/claims.webp",
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
    Case("zero-width-png", "corpus/zero-width.png", png_zero_width, reject="zero-dimensions"),
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
        lambda: over_max_bytes(1),
        reject="too-many-bytes",
        detail=f"over MaxSourceBytes {MAX_SOURCE_BYTES}",
    ),
    # ---- accepted: sizes at the edges --------------------------------------------------
    Case(
        "exactly-max-source-bytes",
        "corpus/just-fits.jpg",
        lambda: over_max_bytes(0),
        size=(200, 150),
        looks=QUADRANTS,
        note="the cap is inclusive",
    ),
    Case("1x1-jpeg", "corpus/dot.jpg", lambda: save(Image.new("RGB", (1, 1), RED), "JPEG"), size=(1, 1)),
    Case("1x1-png", "corpus/dot.png", lambda: save(Image.new("RGB", (1, 1), RED), "PNG"), size=(1, 1)),
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
            icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
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
        "corpus/animated.webp",
        lambda: animated("WEBP"),
        size=(320, 240),
        looks=QUADRANTS,
        note="first frame, one frame out",
    ),
    Case(
        "animated-png",
        "corpus/animated.png",
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
        "corpus/secrets.png",
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
            exif=(lambda e: (e.__setitem__(ExifTags.Base.Orientation, 9), e)[1])(Image.Exif()).tobytes(),
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
        "corpus/polyglot.gif",
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
]


def by_name() -> dict[str, Case]:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    return {c.name: c for c in CASES}
