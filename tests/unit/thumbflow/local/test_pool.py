"""How local mode words a worker's end, as Lambda's runtime words it."""

from __future__ import annotations

import json
import signal

import pytest

from thumbflow.local.pool import InitFailed, Pool, exit_words, runtime_error


@pytest.mark.parametrize(("status", "words"), [
    (signal.SIGKILL, "signal: killed"),
    (signal.SIGSEGV, "signal: segmentation fault"),
    (signal.SIGABRT, "signal: aborted"),
    (1 << 8, "exit status 1"),
    (129 << 8, "exit status 129"),
    (None, "signal: killed"),
])
def test_exit_words_as_lambda_reports_them(status: int | None, words: str) -> None:
    assert exit_words(status) == words


def test_runtime_errors_name_the_request() -> None:
    body = json.loads(runtime_error("Sandbox.Timedout", "Task timed out after 3.00 seconds", "r-1"))
    assert body == {"errorType": "Sandbox.Timedout",
                    "errorMessage": "RequestId: r-1 Error: Task timed out after 3.00 seconds"}


class FakeWorker:
    """What a pool needs of a worker: its pid and generation, and a way to stop it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.generation = 0
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


def counting_pool(cap: int = 8, fail: bool = False) -> tuple[Pool, list[FakeWorker]]:
    started: list[FakeWorker] = []

    def start() -> FakeWorker:
        if fail:
            raise InitFailed("Runtime.ImportModuleError", "Unable to import module 'handler'")
        started.append(FakeWorker(100 + len(started)))
        return started[-1]

    return Pool(start, cap, throttle_at_cap=False), started  # type: ignore[arg-type]


def test_prewarm_leaves_one_idle_worker_the_first_invocation_takes() -> None:
    pool, started = counting_pool()
    pool.prewarm()
    assert len(started) == 1 and pool.idle == started
    assert pool.acquire() is started[0] and len(started) == 1


def test_a_failed_prewarm_is_forgotten_and_a_closed_pool_is_not_warmed() -> None:
    pool, started = counting_pool(fail=True)
    pool.prewarm()
    assert not pool.idle and not pool.live and pool.starting == 0
    with pytest.raises(InitFailed, match="Unable to import"):  # the invocation reports the init error
        pool.acquire()
    closed, started = counting_pool()
    closed.close()
    closed.prewarm()
    assert started == []


def test_prewarming_twice_starts_two_workers_up_to_the_cap() -> None:
    pool, started = counting_pool(cap=2)
    for _ in range(3):
        pool.prewarm()
    assert len(started) == 2 and sorted(w.pid for w in pool.idle) == [100, 101]


def test_an_invocation_during_a_prewarm_takes_that_worker_rather_than_starting_another() -> None:
    import threading

    release_init = threading.Event()
    started: list[FakeWorker] = []

    def slow_start() -> FakeWorker:
        started.append(FakeWorker(200 + len(started)))
        release_init.wait(5)
        return started[-1]

    pool = Pool(slow_start, 8, throttle_at_cap=False)  # type: ignore[arg-type]
    warming = threading.Thread(target=pool.prewarm)
    warming.start()
    while not started:  # the prewarm's init is under way
        threading.Event().wait(0.001)
    got: list[FakeWorker] = []
    invocation = threading.Thread(target=lambda: got.append(pool.acquire()))  # type: ignore[arg-type]
    invocation.start()
    invocation.join(0.05)
    assert invocation.is_alive() and len(started) == 1  # waiting, not starting a second init
    release_init.set()
    invocation.join(5)
    warming.join(5)
    assert got == [started[0]] and len(started) == 1 and pool.warming == 0 and pool.promised == 0


def test_when_the_prewarm_fails_the_waiting_invocation_starts_its_own_worker() -> None:
    import threading

    release_init = threading.Event()
    calls: list[int] = []

    def start() -> FakeWorker:
        calls.append(1)
        if len(calls) == 1:
            release_init.wait(5)
            raise InitFailed("Runtime.ImportModuleError", "Unable to import module 'handler'")
        return FakeWorker(300)

    pool = Pool(start, 8, throttle_at_cap=False)  # type: ignore[arg-type]
    warming = threading.Thread(target=pool.prewarm)
    warming.start()
    while not calls:
        threading.Event().wait(0.001)
    got: list[FakeWorker] = []
    invocation = threading.Thread(target=lambda: got.append(pool.acquire()))  # type: ignore[arg-type]
    invocation.start()
    release_init.set()
    invocation.join(5)
    warming.join(5)
    assert [w.pid for w in got] == [300] and len(calls) == 2
