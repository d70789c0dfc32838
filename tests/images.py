"""Test images made in memory with Pillow: deterministic, small, one builder per kind.

The one home of image builders for the unit and functional suites (``tests/corpus.py``
lists cases built from these), so each input is made one way only. Pixels that a test
checks are ``quadrants`` (four flat, far-apart colours: orientation, mirroring, frame and
colour show at a glance) or ``photo`` (never flat, so encoders and resamplers do real work).
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib

from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageOps, PngImagePlugin

# Top-left, top-right, bottom-left, bottom-right: far apart in every channel pair.
RED = (220, 30, 30)
GREEN = (30, 200, 30)
BLUE = (30, 30, 220)
YELLOW = (230, 230, 40)
QUADRANTS = (RED, GREEN, BLUE, YELLOW)

# Strings the builders below plant in metadata; none of them may appear in any thumbnail.
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

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
TEXT = b"this is not an image, just text that someone named photo.jpg\n"

# --------------------------------------------------------------------------------------
# pixels


def save(im: Image.Image, fmt: str, **options: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def noise(size: tuple[int, int], seed: int, amplitude: int = 24) -> Image.Image:
    """Seeded grey noise centred on 128 (Pillow's effect_noise is not seedable)."""
    table = bytes(128 - amplitude // 2 + b % (amplitude + 1) for b in range(256))
    raw = random.Random(seed).randbytes(size[0] * size[1]).translate(table)
    return Image.frombytes("L", size, raw)


def photo(
    width: int = 640, height: int = 480, mode: str = "RGB", seed: int = 1, grain: float = 0.0
) -> Image.Image:
    """Gradient sky, a sun, hills and noise: never flat, so encoders do real work.

    ``grain`` blends in that much per-pixel noise, for tests whose numbers need texture
    everywhere (compression ratios, resampler differences).
    """
    rng = random.Random(seed)
    im = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(im)
    for y in range(height):
        t = y / max(height - 1, 1)
        draw.line([(0, y), (width, y)], fill=(int(40 + 150 * t), int(90 + 100 * t), int(200 - 80 * t)))
    r = max(2, min(width, height) // 8)
    draw.ellipse(
        [width * 0.7 - r, height * 0.25 - r, width * 0.7 + r, height * 0.25 + r], fill=(250, 220, 90)
    )
    draw.polygon([(0, height), (width * 0.3, height * 0.55), (width * 0.6, height)], fill=(40, 120, 50))
    for _ in range(200):
        x, y = rng.randrange(width), rng.randrange(height)
        draw.point((x, y), fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    if grain:
        im = Image.blend(im, Image.merge("RGB", [noise(im.size, seed + i) for i in range(3)]), grain)
    return im.convert(mode) if mode != "RGB" else im


def quadrants(width: int, height: int, colours: tuple[tuple[int, int, int], ...] = QUADRANTS) -> Image.Image:
    im = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(im)
    hw, hh = width // 2, height // 2
    draw.rectangle((0, 0, hw - 1, hh - 1), fill=colours[0])
    draw.rectangle((hw, 0, width - 1, hh - 1), fill=colours[1])
    draw.rectangle((0, hh, hw - 1, height - 1), fill=colours[2])
    draw.rectangle((hw, hh, width - 1, height - 1), fill=colours[3])
    return im


def with_hole(im: Image.Image) -> Image.Image:
    """RGBA copy whose left half is fully transparent."""
    alpha = Image.new("L", im.size, 255)
    ImageDraw.Draw(alpha).rectangle((0, 0, im.width // 2 - 1, im.height), fill=0)
    rgba = im.convert("RGBA")
    rgba.putalpha(alpha)
    return rgba


def sixteen_bit(width: int, height: int) -> Image.Image:
    """16-bit grey: a horizontal ramp over the full 0..65535 range plus a little noise."""
    rnd = random.Random(3)
    values = [
        min(65535, max(0, x * 65535 // (width - 1) + rnd.randint(-300, 300)))
        for _ in range(height)
        for x in range(width)
    ]
    return Image.frombytes("I;16", (width, height), struct.pack(f"<{len(values)}H", *values))


def palette_with_hole(im: Image.Image) -> Image.Image:
    """``im`` quantised to P, its left half palette entry 63: the only transparent one."""
    p = im.quantize(63)
    palette = p.getpalette() or []
    p.putpalette([*palette[: 63 * 3], 255, 0, 255])  # hidden magenta
    ImageDraw.Draw(p).rectangle((0, 0, p.width // 2 - 1, p.height), fill=63)
    p.info["transparency"] = 63
    return p


def stored_for(upright: Image.Image, orientation: int) -> Image.Image:
    """The stored pixels that, tagged with ``orientation``, Pillow's exif_transpose shows as ``upright``."""
    tag = exif_bytes(orientation=orientation)
    for op in (None, *Image.Transpose):
        stored = upright if op is None else upright.transpose(op)
        tagged = stored.copy()
        tagged.info["exif"] = tag
        if ImageOps.exif_transpose(tagged).tobytes() == upright.tobytes():
            return stored
    raise AssertionError(f"no transpose shows orientation {orientation} upright")


# --------------------------------------------------------------------------------------
# metadata


def exif_bytes(orientation: int | None = None, description: str | None = None) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if description is not None:
        exif[ExifTags.Base.ImageDescription] = description
    return exif.tobytes()


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


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def matrix_icc(description: str, colorants: list[tuple[float, float, float]], gamma: float) -> bytes:
    """An ICC v2 matrix/TRC RGB display profile built byte by byte (ImageCms cannot make one)."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ " + bytes(4) + _s15(x) + _s15(y) + _s15(z)

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
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
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

# --------------------------------------------------------------------------------------
# JPEG


def jpeg(width: int = 640, height: int = 480, orientation: int | None = None, **save: object) -> bytes:
    im = photo(width, height)
    buf = io.BytesIO()
    if orientation is not None:
        save["exif"] = exif_bytes(orientation=orientation)
    im.save(buf, "JPEG", quality=85, **save)
    return buf.getvalue()


def jpeg_segments(data: bytes, segments: list[tuple[int, bytes]]) -> bytes:
    """Insert APPn/COM segments right after SOI (and JFIF APP0, if any)."""
    at = 2
    if data[2:4] == b"\xff\xe0":
        at = 4 + struct.unpack(">H", data[4:6])[0]
    extra = b"".join(
        b"\xff" + bytes([marker]) + struct.pack(">H", len(body) + 2) + body for marker, body in segments
    )
    return data[:at] + extra + data[at:]


def with_frame_size(data: bytes, width: int, height: int) -> bytes:
    """A baseline JPEG whose SOF0 frame header is rewritten to claim another size."""
    at = data.index(b"\xff\xc0")
    return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]


def jpeg_claiming(width: int, height: int) -> bytes:
    return with_frame_size(save(quadrants(64, 48), "JPEG"), width, height)


def oriented_jpeg(orientation: int, width: int = 480, height: int = 320) -> bytes:
    """Quadrants that show upright only when the EXIF orientation tag is honoured."""
    stored = stored_for(quadrants(width, height), orientation)
    return save(stored, "JPEG", quality=92, exif=exif_bytes(orientation=orientation))


def cmyk_jpeg() -> bytes:
    return save(quadrants(400, 300).convert("CMYK"), "JPEG", quality=92)


def ycck_jpeg() -> bytes:
    """A 4-channel Adobe JPEG with transform 2 (YCCK), what Photoshop writes for CMYK.

    Pillow only writes plain (inverted) CMYK, so the YCCK planes are computed here and the
    Adobe APP14 transform flag is set by hand. libjpeg turns YCC back into (inverted) CMY.
    """
    c, m, y, k = quadrants(400, 300).convert("CMYK").split()
    yy, cb, cr = Image.merge("RGB", (c, m, y)).convert("YCbCr").split()  # C, M, Y taken as R, G, B

    def inv(ch: Image.Image) -> Image.Image:
        return ch.point(lambda v: 255 - v)

    # Pillow inverts all four channels on save and on load (Adobe convention): pre-invert the
    # YCC planes so they land in the file as they are; K is inverted twice, so it is kept.
    data = bytearray(save(Image.merge("CMYK", (inv(yy), inv(cb), inv(cr), k)), "JPEG", quality=95))
    adobe = data.index(b"Adobe")
    assert data[adobe + 11] == 0
    data[adobe + 11] = 2
    return bytes(data)


def jpeg_with_big_exif(
    im: Image.Image, orientation: int = 1, description_bytes: int = 20_000, quality: int = 85
) -> bytes:
    """A long EXIF description pushes the frame header that far past the first bytes."""
    exif = exif_bytes(orientation=orientation, description="x" * description_bytes)
    return save(im, "JPEG", quality=quality, exif=exif)


def huge_exif_jpeg() -> bytes:
    """~64 KB of EXIF plus three 60 KB APP segments: the frame header sits past 240 KB,
    far beyond Validate's first 64 KiB read, and the orientation tag (6) is honoured."""
    stored = quadrants(480, 320).transpose(Image.Transpose.ROTATE_90)
    data = jpeg_with_big_exif(stored, orientation=6, description_bytes=60_000, quality=90)
    return jpeg_segments(data, [(0xEF, b"corpus-filler" + bytes(60_000)) for _ in range(3)])


def jpeg_with_secrets() -> bytes:
    data = save(
        quadrants(600, 400),
        "JPEG",
        quality=90,
        exif=secret_exif(),
        xmp=XMP,
        comment=b"corpus-secret-comment",
        icc_profile=srgb_icc(),
    )
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x19\x1c\x02\x78\x00\x12corpus-secret-iptc\x00"
    return jpeg_segments(data, [(0xED, iptc)])


def jpeg_zip_polyglot() -> bytes:
    """A JPEG that is also a ZIP (the archive appended after EOI, like GIFAR/JAR tricks)."""
    archive = zip_archive("payload.txt", "corpus-secret-zip-payload")
    return save(quadrants(400, 300), "JPEG", quality=90) + archive


def jpeg_without_frame() -> bytes:
    """SOI, a quantisation table, then scan data: no SOFn frame header at all."""
    good = save(quadrants(64, 48), "JPEG")
    sof = good.index(b"\xff\xc0")
    length = struct.unpack(">H", good[sof + 2 : sof + 4])[0]
    return good[:sof] + good[sof + 2 + length :]


def padded_jpeg(total: int) -> bytes:
    """A valid 200x150 quadrants JPEG padded with APP15 segments to exactly ``total`` bytes."""
    base = save(quadrants(200, 150), "JPEG", quality=85)
    need = total - len(base)
    segments = []
    while need > 0:
        body = min(need - 4, 65533)
        if need - (body + 4) in (1, 2, 3):  # leave room for a whole last segment
            body -= 8
        segments.append((0xEF, bytes(max(body, 0))))
        need -= body + 4
    data = jpeg_segments(base, segments)
    assert len(data) == total, len(data)
    return data


def restart_marker_jpeg() -> bytes:
    data = save(quadrants(400, 300), "JPEG", quality=90, restart_marker_blocks=2)
    assert b"\xff\xdd" in data and b"\xff\xd0" in data
    return data


# --------------------------------------------------------------------------------------
# PNG


def png_alpha(width: int = 400, height: int = 300) -> bytes:
    """A shape on a transparent background: real transparency, so 'auto' must keep alpha."""
    im = photo(width, height).convert("RGBA")
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse([width // 8, height // 8, width * 7 // 8, height * 7 // 8], fill=255)
    im.putalpha(mask)
    return save(im, "PNG")


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_raw(width: int, height: int, depth: int, colour_type: int, rows: list[bytes]) -> bytes:
    """A PNG written by hand (filter 0 on every row), for layouts Pillow cannot save."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    idat = zlib.compress(b"".join(b"\x00" + row for row in rows))
    chunks = png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def png_claiming(width: int, height: int, crc_ok: bool = True) -> bytes:
    """A tiny, valid-looking PNG whose header claims width x height (a decompression bomb)."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    if not crc_ok:
        ihdr = ihdr[:-4] + bytes(4)
    idat = png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + ihdr + idat + png_chunk(b"IEND", b"")


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


def png_garbled_pixels() -> bytes:
    data = bytearray(save(photo(300, 200), "PNG"))
    at = data.index(b"IDAT") + 40
    data[at : at + 400] = random.Random(5).randbytes(400)
    return bytes(data)


def png_with_text_and_exif() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "corpus-secret-png-text")
    info.add_itxt("Description", "corpus-secret-png-text", lang="en")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CorpusSecretCam"
    return save(quadrants(300, 200), "PNG", pnginfo=info, exif=exif.tobytes())


def real_bomb_png() -> bytes:
    """A real decompression bomb: 12000x12000 1-bit PNG, ~18 KB on disk, 144 MP decoded."""
    return save(Image.new("1", (12_000, 12_000), 0), "PNG", optimize=True)


def html_png_polyglot() -> bytes:
    """An HTML page that carries a PNG inside: the first bytes decide, so it is HTML."""
    png = save(quadrants(64, 48), "PNG")
    return b"<html><body><script>/*corpus-secret-script*/</script><!--" + png + b"--></body></html>"


# --------------------------------------------------------------------------------------
# GIF, WebP, TIFF, BMP, animations, containers


def palette_transparent(fmt: str = "PNG") -> bytes:
    """P image: left half red, right half the transparent index."""
    im = Image.new("P", (300, 200), 1)
    im.putpalette([220, 30, 30, 0, 0, 0] + [0] * 762)
    ImageDraw.Draw(im).rectangle((0, 0, 149, 199), fill=0)
    return save(im, fmt, transparency=1)


def animated(fmt: str, frames: int = 3, size: tuple[int, int] = (320, 240)) -> bytes:
    """Quadrants, then flat frames: a reader that shows another frame shows no quadrants."""
    rest = [Image.new("RGB", size, (10 + 60 * (i % 4), 10, 10)) for i in range(frames - 1)]
    return save(quadrants(*size), fmt, save_all=True, append_images=rest, duration=40, loop=0)


def many_frame_gif(frames: int = 3000) -> bytes:
    """A 3000-frame GIF: rendering must read the first frame, never walk all of them.

    Pillow writes two frames; the second frame's blocks are then repeated (building 3000
    frames through Pillow would take seconds).
    """
    second = Image.new("RGB", (160, 120), (200, 0, 200))
    data = save(quadrants(160, 120), "GIF", save_all=True, append_images=[second], duration=20, loop=0)
    gce = data.index(b"\x21\xf9\x04", data.index(b"\x21\xf9\x04") + 1)  # the 2nd frame
    block = data[gce:-1]  # up to, not including, the trailer (0x3B)
    assert data[-1:] == b";"
    return data[:gce] + block * (frames - 1) + b";"


def gif_js_polyglot() -> bytes:
    """A GIF that is also JavaScript: its width bytes read '/*', a comment closes it.

    Width 0x2A2F = 10799 px opens a JS comment right after 'GIF89a'; a GIF comment block
    holds '*/=1;alert("corpus-secret-script")//'. It is a valid 10799x10 GIF.
    """
    data = save(quadrants(10799, 10).quantize(4), "GIF", comment=b'*/=1;alert("corpus-secret-script");//')
    assert data[6:8] == b"/*"
    return data


def gif_screen_bomb() -> bytes:
    """A GIF whose logical screen claims 65535x65535 around one 8x8 frame."""
    data = bytearray(save(quadrants(8, 8), "GIF"))
    data[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


def webp_claiming(width: int, height: int) -> bytes:
    """A VP8X WebP whose canvas claims width x height around a tiny real image."""
    vp8 = save(quadrants(16, 16), "WEBP", quality=80)[12:]
    size = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", 10) + bytes(4) + size + vp8
    return b"RIFF" + struct.pack("<I", len(body)) + body


def rgba_webp_lossless() -> bytes:
    im = Image.new("RGBA", (300, 200), (0, 0, 0, 0))
    ImageDraw.Draw(im).rectangle((0, 0, 149, 199), fill=(220, 30, 30, 255))
    return save(im, "WEBP", lossless=True)


def multipage_tiff() -> bytes:
    pages = [Image.new("RGB", (400, 300), (0, 0, 0)), Image.new("RGB", (200, 200), BLUE)]
    return save(quadrants(400, 300), "TIFF", save_all=True, append_images=pages, compression="tiff_deflate")


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
    return b"II*\x00" + struct.pack("<I", 8 + 64) + bytes(64) + ifd


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


def heic_like() -> bytes:
    """A HEIC's file type box and nothing after it: no meta box, no image."""
    return struct.pack(">I", 24) + b"ftypheic" + struct.pack(">I", 0) + b"mif1heic" + bytes(64)


def jxl_like() -> bytes:
    """A JPEG XL container's signature box: a format recognised by its magic bytes, not rendered."""
    signature = b"\x00\x00\x00\x0cJXL \r\n\x87\n"
    return signature + struct.pack(">I", 20) + b"ftypjxl \x00\x00\x00\x00jxl " + bytes(64)


def zip_archive(name: str = "a.txt", text: str = "hello") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, text)
    return buf.getvalue()


# --------------------------------------------------------------------------------------
# HEIC/HEIF, built with pillow-heif's encoder (x265): small sizes, it takes ~1 s per MP


def heic(im: Image.Image, quality: int = 90, **options: object) -> bytes:
    """``im`` as a HEIC (HEVC in HEIF), through pillow-heif's own encoder."""
    import pillow_heif

    buf = io.BytesIO()
    pillow_heif.from_pillow(im).save(buf, quality=quality, **options)
    return buf.getvalue()


def oriented_heic(orientation: int, width: int = 480, height: int = 320) -> bytes:
    """Stored pixels plus EXIF ``orientation``, as a phone writes them: pillow-heif's encoder turns
    the tag into irot/imir boxes and keeps it in the EXIF too. Upright once, or it is wrong."""
    stored = stored_for(quadrants(width, height), orientation)
    return heic(stored, exif=exif_bytes(orientation=orientation))


def heic_exif_orientation_only(orientation: int = 6, width: int = 480, height: int = 320) -> bytes:
    """Upright pixels, no irot/imir, but an EXIF orientation tag: the tag must be ignored."""
    data = heic(quadrants(width, height), exif=exif_bytes(orientation=1))
    tag = b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x01"  # Orientation, SHORT, 1 value: 1 (the EXIF is "MM")
    assert data.count(tag) == 1 and b"irot" not in data
    return data.replace(tag, tag[:-2] + bytes([0, orientation]))


def heic_sequence(primary: int = 0) -> bytes:
    """Three top-level images (a burst): quadrants at ``primary``, the one shown; flat frames around."""
    import pillow_heif

    frames = [Image.new("RGB", (200, 100), (10, 200, 10)), Image.new("RGB", (64, 64), BLUE)]
    frames.insert(primary, quadrants(320, 240))
    heif = pillow_heif.from_pillow(frames[0])
    for frame in frames[1:]:
        heif.add_from_pillow(frame)
    buf = io.BytesIO()
    heif.save(buf, quality=90, primary_index=primary)
    return buf.getvalue()


def heic_10bit(width: int = 300, height: int = 200) -> bytes:
    """Quadrants as a 10-bit HEIC (16-bit samples in, 10 bits stored)."""
    import pillow_heif

    raw = quadrants(width, height).tobytes()
    wide = struct.pack(f"<{len(raw)}H", *(v * 257 for v in raw))
    buf = io.BytesIO()
    pillow_heif.from_bytes(mode="RGB;16", size=(width, height), data=wide).save(buf, quality=90)
    return buf.getvalue()


def heic_alpha() -> bytes:
    """Quadrants under a fully transparent band along the top, alpha as an auxiliary image."""
    im = quadrants(300, 200).convert("RGBA")
    alpha = Image.new("L", im.size, 255)
    ImageDraw.Draw(alpha).rectangle((0, 0, 299, 39), fill=0)
    im.putalpha(alpha)
    return heic(im)


def heic_patched(data: bytes, box: bytes, at: int, value: bytes, nth: int = 0) -> bytes:
    """``data`` with ``value`` written ``at`` bytes into the body of its ``nth`` ``box`` (as found)."""
    start = -1
    for _ in range(nth + 1):
        start = data.index(box, start + 1)
    body = start + 4
    return data[: body + at] + value + data[body + at + len(value) :]


def heic_claiming(width: int, height: int) -> bytes:
    """A tiny HEIC whose primary image's ispe claims ``width`` x ``height``."""
    return heic_patched(heic(quadrants(64, 48)), b"ispe", 4, struct.pack(">II", width, height))


def heic_with_boxes(box: bytes, count: int) -> bytes:
    """A tiny HEIC with ``count`` empty ``box`` boxes after the properties in its container (ipco).

    Only the header matters (the file is refused before it is decoded): sizes of the boxes
    around are fixed up, the item locations are not.
    """
    data = heic(quadrants(64, 48))
    extra = (struct.pack(">I", 8) + box) * count
    ipco = data.index(b"ipco") - 4
    end = ipco + int.from_bytes(data[ipco : ipco + 4], "big")
    out = bytearray(data[:end] + extra + data[end:])
    for name in (b"meta", b"iprp", b"ipco"):
        at = bytes(out).index(name) - 4
        out[at : at + 4] = struct.pack(">I", int.from_bytes(out[at : at + 4], "big") + len(extra))
    return bytes(out)


def heic_with_items(count: int) -> bytes:
    """A tiny HEIC whose iinf lists ``count`` more (EXIF-typed) items than it has."""
    data = heic(quadrants(64, 48))
    extra = b"".join(
        struct.pack(">I", 21) + b"infe" + bytes([2, 0, 0, 0]) + struct.pack(">HH", 100 + n, 0) + b"Exif\x00"
        for n in range(count)
    )
    iinf = data.index(b"iinf") - 4
    body = iinf + 8
    entries = int.from_bytes(data[body + 4 : body + 6], "big")
    out = bytearray(data[:body] + data[body : body + 4] + struct.pack(">H", entries + count))
    out += data[body + 6 : iinf + int.from_bytes(data[iinf : iinf + 4], "big")] + extra
    out += data[iinf + int.from_bytes(data[iinf : iinf + 4], "big") :]
    for name in (b"meta", b"iinf"):
        at = bytes(out).index(name) - 4
        out[at : at + 4] = struct.pack(">I", int.from_bytes(out[at : at + 4], "big") + len(extra))
    return bytes(out)


# --------------------------------------------------------------------------------------
# corruption


def mutations(data: bytes, seed: int, count: int) -> list[bytes]:
    """Seeded byte flips, overwritten runs and cuts: the shapes real corruption takes."""
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        b = bytearray(data)
        kind = rnd.randrange(3)
        if kind == 0:
            for _ in range(rnd.randint(1, 8)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
        elif kind == 1:
            at, n = rnd.randrange(len(b)), rnd.randint(1, 64)
            b[at : at + n] = rnd.randbytes(n)
        else:
            del b[rnd.randrange(1, len(b)) :]
        out.append(bytes(b))
    return out


# --------------------------------------------------------------------------------------
# subjects (smart crops)

SKY = ((118, 146, 184), (178, 192, 208))  # a muted vertical gradient: smooth, chroma well below 60
SKIN = (206, 158, 128)


def off_centre_subject(
    width: int = 960, height: int = 540, at: tuple[float, float] = (0.84, 0.5), seed: int = 5
) -> tuple[Image.Image, Image.Image]:
    """A face-like subject off-centre on a smooth sky, and its mask (255 on the subject).

    The subject is what an attention crop should keep: a skin-toned oval with grain, dark
    eyes, brows and a mouth (detail at several scales); the sky around it is smooth and muted.
    """
    from PIL import ImageChops

    top, bottom = SKY
    ramp = Image.linear_gradient("L").resize((width, height))
    bands = [ramp.point(lambda v, a=a, b=b: a + (b - a) * v // 255) for a, b in zip(top, bottom, strict=True)]
    sky = Image.merge("RGB", bands)
    short = min(width, height)
    fw, fh = int(short * 0.30), int(short * 0.40)
    x0, y0 = int(width * at[0] - fw / 2), int(height * at[1] - fh / 2)
    face = ImageChops.add(Image.new("RGB", (fw, fh), SKIN), noise((fw, fh), seed, 48).convert("RGB"), 1, -128)
    draw = ImageDraw.Draw(face)
    dark = (70, 45, 35)
    for cx in (0.32, 0.68):
        draw.ellipse((fw * (cx - 0.09), fh * 0.34, fw * (cx + 0.09), fh * 0.44), fill=(245, 240, 235))
        draw.ellipse((fw * (cx - 0.04), fh * 0.35, fw * (cx + 0.04), fh * 0.43), fill=dark)
        brow = (fw * (cx - 0.12), fh * 0.28, fw * (cx + 0.12), fh * 0.26)
        draw.line(brow, fill=dark, width=max(1, fw // 40))
    draw.line((fw * 0.5, fh * 0.45, fw * 0.46, fh * 0.62), fill=(150, 100, 80), width=max(1, fw // 60))
    draw.arc((fw * 0.3, fh * 0.6, fw * 0.7, fh * 0.8), 20, 160, fill=dark, width=max(1, fw // 40))
    oval = Image.new("L", (fw, fh), 0)
    ImageDraw.Draw(oval).ellipse((0, 0, fw - 1, fh - 1), fill=255)
    sky.paste(face, (x0, y0), oval)
    mask = Image.new("L", (width, height), 0)
    mask.paste(oval, (x0, y0))
    return sky, mask
