"""HTTP answers as a function URL returns them: binary bodies base64, text as text."""

from __future__ import annotations

import base64
import json

from thumbnailer.responses import NO_STORE, Response, error


def test_images_travel_base64_encoded() -> None:
    data = bytes(range(256))
    out = Response(200, {"Content-Type": "image/webp"}, data).to_function_url()
    assert out["isBase64Encoded"] is True
    assert base64.b64decode(out["body"]) == data
    assert out["statusCode"] == 200 and out["headers"] == {"Content-Type": "image/webp"}


def test_head_answers_have_an_empty_body_and_keep_the_headers() -> None:
    out = Response(200, {"Content-Type": "image/jpeg", "ETag": '"e"'}, b"\xff\xd8").to_function_url(head=True)
    assert out["body"] == "" and out["headers"]["ETag"] == '"e"'
    assert error(404, "x", "y").to_function_url(head=True)["body"] == ""


def test_errors_are_json_text_that_no_cache_keeps() -> None:
    resp = error(403, "size-not-allowed", "no", allowed=["1x1"], headers={"Retry-After": "1"})
    assert resp.outcome == "size-not-allowed"
    out = resp.to_function_url()
    assert out["isBase64Encoded"] is False
    assert json.loads(out["body"]) == {"error": "size-not-allowed", "message": "no", "allowed": ["1x1"]}
    assert out["headers"] == {
        "Content-Type": "application/json", "Cache-Control": NO_STORE, "Retry-After": "1"}


def test_text_bodies_are_not_encoded() -> None:
    out = Response(200, {"Content-Type": "text/plain; charset=utf-8"}, "héllo".encode()).to_function_url()
    assert (out["body"], out["isBase64Encoded"]) == ("héllo", False)
