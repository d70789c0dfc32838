"""Local mode runs Lambda invocations in parallel threads of one process: they must not share state
that a Lambda environment never shares between invocations."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from thumbflow.localcloud import LocalCloud


@pytest.fixture(scope="module")
def local() -> Iterator[LocalCloud]:
    with LocalCloud() as cloud:
        yield cloud


def test_metrics_flushed_by_one_invocation_leave_another_alone(local: LocalCloud) -> None:
    """Powertools keeps metrics in one class-level store; a flush in one thread cleared another's
    metrics mid-invocation (seen as 'SchemaValidationError: Must contain at least one metric')."""
    from thumbnailer import resize, validate

    added = threading.Barrier(2)
    flushed = threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        validate.metrics.add_metric(name="ImagesAccepted", unit="Count", value=1)
        added.wait()
        flushed.wait(5)
        seen["first"] = dict(validate.metrics.provider.metric_set)
        validate.metrics.clear_metrics()

    def second() -> None:
        resize.metrics.add_metric(name="ThumbnailsWritten", unit="Count", value=4)
        added.wait()
        resize.metrics.clear_metrics()  # what the end of an invocation's log_metrics does
        flushed.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert list(seen["first"]) == ["ImagesAccepted"]  # type: ignore[call-overload]
