"""Colour: an embedded ICC profile turned into a transform to sRGB, and its application.

Thumbnails carry no profile (metadata is never copied), so their pixels must already be
sRGB, which is what a browser assumes of an untagged image. A profile that is sRGB, that
does not describe the pixels' colour space, or that littlecms cannot read is ignored,
as browsers do.
"""

from __future__ import annotations

import io
from functools import cache

from PIL import Image, ImageCms

_CMS_SPACE = {"RGB": "RGB ", "RGBA": "RGB ", "L": "GRAY", "LA": "GRAY", "CMYK": "CMYK"}


@cache
def srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def to_srgb(icc: bytes | None, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform to sRGB when the embedded profile is a real, non-sRGB match for ``mode``."""
    if not icc:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = (profile.profile.profile_description or "").lower()
        if "srgb" in description and "linear" not in description:
            return None
        if profile.profile.xcolor_space != _CMS_SPACE.get(mode):
            return None  # profile does not describe these pixels; trust the pixels
        in_mode = "L" if mode == "LA" else mode
        out_mode = "RGBA" if mode == "RGBA" else "RGB"
        return ImageCms.buildTransform(profile, srgb(), in_mode, out_mode, ImageCms.Intent.PERCEPTUAL)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # an unreadable profile is ignored, like browsers do


def apply(im: Image.Image, transform: ImageCms.ImageCmsTransform) -> Image.Image:
    """``im`` through ``transform``; grey stays grey and alpha is carried over untouched."""
    if im.mode == "LA":
        grey = ImageCms.applyTransform(im.getchannel("L"), transform).convert("L")
        return Image.merge("LA", (grey, im.getchannel("A")))
    im = ImageCms.applyTransform(im, transform)
    if im.mode == "RGB" and transform.input_mode == "L":
        im = im.convert("L")
    return im
