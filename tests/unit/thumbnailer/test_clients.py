"""clients: one client per service per process, made on first use, with the SDK's standard retries."""

from __future__ import annotations

import threading

import pytest
from thumbnailer import clients


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")


def test_nothing_is_made_until_asked_then_the_same_client_is_reused() -> None:
    lazy = clients.Lazy("s3")
    assert lazy.client is None
    first = lazy()
    assert lazy() is first and first.meta.service_model.service_name == "s3"
    retries = first.meta.config.retries
    assert retries["mode"] == "standard" and retries["total_max_attempts"] == 4  # 3 retries


def test_threads_asking_at_once_share_one_client() -> None:
    lazy, made = clients.Lazy("dynamodb"), []
    threads = [threading.Thread(target=lambda: made.append(lazy())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(client) for client in made}) == 1
