"""Thumbnail URL paths: what names a thumbnail, decoded once, and everything refused before S3."""

from __future__ import annotations

import pytest
from thumbnailer.naming import ThumbnailName
from thumbnailer.urls import BadRequest, parse_path, source_candidates

# (case, raw path as the function URL delivers it, still percent-encoded)
HOSTILE_PATHS: list[tuple[str, str]] = [
    ("not a thumbnail name", "/pics/land.jpg"),
    ("dot-dot segment", "/pics/../pics/land_200x200.jpg"),
    ("dot-dot from the root", "/../land_200x200.jpg"),
    ("dot segment", "/pics/./land_200x200.jpg"),
    ("encoded dot-dot", "/pics/%2e%2e/land_200x200.jpg"),
    ("encoded dot-dot, upper case", "/pics/%2E%2E/land_200x200.jpg"),
    ("half-encoded dot-dot", "/pics/.%2e/land_200x200.jpg"),
    ("encoded dot-dots to /etc", "/%2e%2e/%2e%2e/etc/passwd_200x200.jpg"),
    ("encoded slash", "/pics%2Fland_200x200.jpg"),
    ("encoded slash, lower case", "/pics%2fland_200x200.jpg"),
    ("encoded slash and dot-dot", "/pics%2f..%2fland_200x200.jpg"),
    ("encoded backslash", "/pics%5Cland_200x200.jpg"),
    ("backslash", "/pics\\land_200x200.jpg"),
    ("backslash dot-dots", "/..\\..\\land_200x200.jpg"),
    ("absolute path (empty segment)", "//etc/land_200x200.jpg"),
    ("empty segment", "/pics//land_200x200.jpg"),
    ("trailing slash", "/pics/land_200x200.jpg/"),
    ("no leading slash", "pics/land_200x200.jpg"),
    ("empty path", "/"),
    ("NUL in the name", "/pics/land%00_200x200.jpg"),
    ("NUL before a second extension", "/pics/land_200x200.jpg%00.png"),
    ("CR LF (header injection)", "/pics/land%0d%0aSet-Cookie:x_200x200.jpg"),
    ("DEL character", "/pics/land%7f_200x200.jpg"),
    ("overlong UTF-8 dots", "/pics/%c0%ae%c0%ae/land_200x200.jpg"),
    ("invalid UTF-8", "/pics/%ff_200x200.jpg"),
    ("encoded UTF-16 surrogate", "/pics/%ed%a0%80_200x200.jpg"),
    ("lone surrogate in rawPath", "/pics/\udc80_200x200.jpg"),
    ("key over 1024 bytes (ASCII)", "/" + "a" * 1013 + "_200x200.jpg"),
    ("key over 1024 bytes, under 1024 chars", "/" + "%C3%A9" * 510 + "_200x200.jpg"),
    ("zero width", "/pics/land_0x200.jpg"),
    ("side over 4096", "/pics/land_4097x200.jpg"),
    ("side of five digits", "/pics/land_99999x99999.jpg"),
    ("size with a leading zero", "/pics/land_0200x200.jpg"),
    ("upper-case extension", "/pics/land_200x200.JPG"),
    ("jpeg spelled out", "/pics/land_200x200.jpeg"),
    ("second extension", "/pics/land_200x200.jpg.png"),
    ("extension not rendered", "/pics/land_200x200.gif"),
    ("svg", "/pics/land_200x200.svg"),
]


@pytest.mark.parametrize(("case", "path"), HOSTILE_PATHS, ids=[c for c, _ in HOSTILE_PATHS])
def test_paths_that_cannot_name_a_thumbnail_are_bad_requests(case: str, path: str) -> None:
    with pytest.raises(BadRequest):
        parse_path(path)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("/pics/land_200x200.jpg", "pics/land_200x200.jpg"),
        ("/my%20holiday/cat_1x1.png", "my holiday/cat_1x1.png"),
        ("/%C3%A9t%C3%A9_64x64.webp", "été_64x64.webp"),
        # Decoded exactly once: these name literal keys, which a second decode would change.
        ("/pics/%252e%252e/land_200x200.jpg", "pics/%2e%2e/land_200x200.jpg"),
        ("/pics%252Fland_200x200.jpg", "pics%2Fland_200x200.jpg"),
        ("/decoy-bucket/pics/land_200x200.jpg", "decoy-bucket/pics/land_200x200.jpg"),
        ("/arn:aws:s3:::decoy-bucket/land_200x200.jpg", "arn:aws:s3:::decoy-bucket/land_200x200.jpg"),
        ("/a+b_4096x4096.jpg", "a+b_4096x4096.jpg"),  # a path's '+' is a plus, not a space
    ],
)
def test_a_good_path_names_its_key_decoded_once(path: str, key: str) -> None:
    got, name = parse_path(path)
    assert got == key
    assert f"{name.stem}_{name.width}x{name.height}.{name.extension}" == key


def test_the_longest_key_s3_allows_is_accepted() -> None:
    key = "a" * (1024 - len("_200x200.jpg")) + "_200x200.jpg"
    assert parse_path("/" + key)[0] == key


def test_source_candidates_try_the_thumbnails_own_extension_first_then_the_rest() -> None:
    found = list(source_candidates(ThumbnailName("pics/logo", 200, 200, "webp")))
    assert found[:4] == ["pics/logo.webp", "pics/logo.WEBP", "pics/logo.jpg", "pics/logo.JPG"]
    assert "pics/logo.PNG" in found and "pics/logo.tiff" in found
    assert len(found) == len(set(found))


def test_an_avif_url_names_an_avif_thumbnail_whose_source_may_be_a_heic() -> None:
    key, name = parse_path("/phone/IMG_0001_256x256.avif")
    assert key == "phone/IMG_0001_256x256.avif" and name.extension == "avif"
    found = list(source_candidates(name))
    assert found[:2] == ["phone/IMG_0001.avif", "phone/IMG_0001.AVIF"]
    assert "phone/IMG_0001.HEIC" in found and "phone/IMG_0001.heif" in found


@pytest.mark.parametrize("path", ["/phone/IMG_0001_256x256.AVIF", "/phone/IMG_0001_256x256.heic"])
def test_only_output_extensions_in_lower_case_name_a_thumbnail(path: str) -> None:
    with pytest.raises(BadRequest) as refused:
        parse_path(path)
    assert "avif" in str(refused.value)  # the refusal lists every output extension
