"""Colour given as code points (a HEIF's ``nclx``, ITU-T H.273) turned into an ICC profile.

libheif turns YCbCr into RGB with the matrix the code points name, but leaves the RGB in
their primaries: a Display P3 photo (primaries 12) shown as sRGB looks dull. littlecms
converts from ICC profiles, so the primaries and transfer curve are written as a matrix/TRC
RGB profile (colorants adapted to D50 with Bradford, as ICC requires), which ``colour``
then converts to sRGB like any embedded profile. Code points that already mean sRGB give
no profile. HDR transfers (PQ, HLG) are not tone-mapped: their primaries are converted, their
curve is read as sRGB's. No PIL here.
"""

from __future__ import annotations

import struct

# Primaries (ITU-T H.273 ColourPrimaries): red, green, blue and white xy chromaticities.
_D65 = (0.3127, 0.3290)
PRIMARIES: dict[int, tuple[tuple[float, float], ...]] = {
    1: ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060), _D65),  # BT.709, sRGB
    5: ((0.640, 0.330), (0.290, 0.600), (0.150, 0.060), _D65),  # BT.601 625
    6: ((0.630, 0.340), (0.310, 0.595), (0.155, 0.070), _D65),  # BT.601 525
    7: ((0.630, 0.340), (0.310, 0.595), (0.155, 0.070), _D65),  # SMPTE 240M
    9: ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), _D65),  # BT.2020, BT.2100
    11: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), (0.314, 0.351)),  # DCI-P3
    12: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), _D65),  # Display P3
}
SRGB_PRIMARIES = frozenset({1, 2})  # 2: unspecified, read as sRGB
# Transfer curves as ICC parametric curves (type 3: Y = (aX + b)^g for X >= d, else cX).
_SRGB_CURVE = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)
CURVES: dict[int, tuple[float, ...]] = {
    4: (2.2, 1.0, 0.0, 0.0, 0.0),
    5: (2.8, 1.0, 0.0, 0.0, 0.0),
    8: (1.0, 1.0, 0.0, 0.0, 0.0),
}
"""Transfers other than sRGB's; the rest (BT.709/601/2020 camera curves included) read as sRGB."""

_D50 = (0.9642, 1.0, 0.8249)
_BRADFORD = ((0.8951, 0.2664, -0.1614), (-0.7502, 1.7135, 0.0367), (0.0389, -0.0685, 1.0296))


def icc_for(primaries: int, transfer: int) -> bytes | None:
    """A matrix/TRC profile for these code points, or None when they mean sRGB (or are unknown)."""
    curve = CURVES.get(transfer, _SRGB_CURVE)
    if primaries in SRGB_PRIMARIES and curve == _SRGB_CURVE:
        return None
    chromaticities = PRIMARIES.get(1 if primaries in SRGB_PRIMARIES else primaries)
    if chromaticities is None:
        return None  # unknown primaries: trust the pixels, as for an unreadable profile
    return _profile(f"HEIF nclx primaries {primaries} transfer {transfer}", _colorants(chromaticities), curve)


def _xyz(x: float, y: float) -> tuple[float, float, float]:
    return x / y, 1.0, (1 - x - y) / y


def _mul(m: tuple[tuple[float, ...], ...], v: tuple[float, ...]) -> tuple[float, float, float]:
    return tuple(sum(a * b for a, b in zip(row, v, strict=True)) for row in m)  # type: ignore[return-value]


def _inverse(m: tuple[tuple[float, ...], ...]) -> tuple[tuple[float, ...], ...]:
    (a, b, c), (d, e, f), (g, h, i) = m
    det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
    return (
        ((e * i - f * h) / det, (c * h - b * i) / det, (b * f - c * e) / det),
        ((f * g - d * i) / det, (a * i - c * g) / det, (c * d - a * f) / det),
        ((d * h - e * g) / det, (b * g - a * h) / det, (a * e - b * d) / det),
    )


def _colorants(chromaticities: tuple[tuple[float, float], ...]) -> list[tuple[float, float, float]]:
    """XYZ of full red, green and blue, scaled so they sum to the white, adapted to D50."""
    red, green, blue, white = (_xyz(*xy) for xy in chromaticities)
    columns = ((red[0], green[0], blue[0]), (red[1], green[1], blue[1]), (red[2], green[2], blue[2]))
    scale = _mul(_inverse(columns), white)
    source_cone, target_cone = _mul(_BRADFORD, white), _mul(_BRADFORD, _D50)
    gain = tuple(t / s for t, s in zip(target_cone, source_cone, strict=True))
    back = _inverse(_BRADFORD)
    out = []
    for colour, s in zip((red, green, blue), scale, strict=True):
        cone = _mul(_BRADFORD, tuple(c * s for c in colour))
        out.append(_mul(back, tuple(c * g for c, g in zip(cone, gain, strict=True))))
    return out


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _profile(
    description: str, colorants: list[tuple[float, float, float]], curve: tuple[float, ...]
) -> bytes:
    """An ICC v2 display profile: desc, wtpt (D50), rXYZ/gXYZ/bXYZ and one parametric TRC."""

    def xyz(v: tuple[float, float, float]) -> bytes:
        return b"XYZ " + bytes(4) + b"".join(_s15(c) for c in v)

    text = description.encode("ascii") + b"\x00"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)
    trc = b"para" + bytes(4) + struct.pack(">H", 3) + bytes(2) + b"".join(_s15(v) for v in curve)
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(_D50)),
        (b"rXYZ", xyz(colorants[0])),
        (b"gXYZ", xyz(colorants[1])),
        (b"bXYZ", xyz(colorants[2])),
        (b"rTRC", trc),
        (b"gTRC", trc),
        (b"bTRC", trc),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, blobs = b"", b""
    for signature, blob in tags:
        blob += bytes(-len(blob) % 4)
        table += signature + struct.pack(">II", offset + len(blobs), len(blob))
        blobs += blob
    body = struct.pack(">I", len(tags)) + table + blobs
    header = (
        struct.pack(">I", 128 + len(body))
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)  # rendering intent: perceptual
        + b"".join(_s15(c) for c in _D50)
        + bytes(48)
    )
    return header + body
