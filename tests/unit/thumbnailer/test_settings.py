"""Settings from the environment, read at call time; bad values are deployment errors."""

from __future__ import annotations

import pytest
from thumbnailer import settings
from thumbnailer.errors import ConfigError


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MAX_SOURCE_BYTES", "MAX_SOURCE_PIXELS", "THUMBNAIL_CACHE_CONTROL", "ALLOWED_SUFFIXES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOURCE_BUCKET", "src")
    monkeypatch.setenv("THUMBNAIL_BUCKET", "thumbs")


def test_defaults() -> None:
    loaded = settings.load()
    assert (loaded.source_bucket, loaded.thumbnail_bucket) == ("src", "thumbs")
    assert loaded.max_source_bytes == 50 * 1024 * 1024
    assert loaded.max_source_pixels == 100_000_000
    assert loaded.cache_control == settings.DEFAULT_CACHE_CONTROL
    assert loaded.allowed_suffixes == ()


def test_read_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_SOURCE_BYTES", "1234")
    monkeypatch.setenv("THUMBNAIL_CACHE_CONTROL", "no-cache")
    monkeypatch.setenv("ALLOWED_SUFFIXES", " .jpg, .PNG ,,")
    loaded = settings.load()
    assert (loaded.max_source_bytes, loaded.cache_control) == (1234, "no-cache")
    assert loaded.allowed_suffixes == (".jpg", ".PNG")


@pytest.mark.parametrize("name", ["SOURCE_BUCKET", "THUMBNAIL_BUCKET"])
def test_a_missing_bucket_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.delenv(name)
    with pytest.raises(ConfigError, match=name):
        settings.load()


@pytest.mark.parametrize("value", ["lots", "0", "-5", "1.5"])
def test_limits_must_be_positive_integers(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("MAX_SOURCE_PIXELS", value)
    with pytest.raises(ConfigError, match="MAX_SOURCE_PIXELS"):
        settings.load()


def test_the_render_functions_limits_default_to_resize_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RENDER_MEMORY_MB", "RENDER_TIMEOUT_S", "RENDER_FUNCTION"):
        monkeypatch.delenv(name, raising=False)
    loaded = settings.load()
    assert (loaded.render_memory_mb, loaded.render_timeout_s, loaded.render_function) == (
        1024,
        120,
        "ResizeFunction",
    )


def test_the_render_functions_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENDER_MEMORY_MB", "2048")
    monkeypatch.setenv("RENDER_TIMEOUT_S", "30")
    monkeypatch.setenv("RENDER_FUNCTION", " OnDemandFunction ")
    loaded = settings.load()
    assert (loaded.render_memory_mb, loaded.render_timeout_s, loaded.render_function) == (
        2048,
        30,
        "OnDemandFunction",
    )


@pytest.mark.parametrize("name", ["RENDER_MEMORY_MB", "RENDER_TIMEOUT_S"])
def test_render_limits_must_be_positive_integers(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "0")
    with pytest.raises(ConfigError, match=name):
        settings.load()
