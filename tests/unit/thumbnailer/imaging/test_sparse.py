"""sparse: a prefix plus windows fetched where a header points, within a budget of bytes and requests."""

from __future__ import annotations

import pytest
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging.headers import NeedMore
from thumbnailer.imaging.sparse import MAX_FETCHES, WINDOW, Sparse

DATA = bytes(range(256)) * 4096  # 1 MiB


def fetcher(log: list[tuple[int, int]]):  # type: ignore[no-untyped-def]
    def fetch(first: int, last: int) -> bytes:
        log.append((first, last))
        return DATA[first : last + 1]

    return fetch


def test_reads_inside_the_prefix_need_no_fetch() -> None:
    view = Sparse.of(DATA[:1000], len(DATA))
    assert view.read(10, 5) == DATA[10:15] and not view.complete
    with pytest.raises(NeedMore):
        view.read(990, 20)  # runs past the prefix, nothing to fetch with


def test_a_read_past_the_prefix_fetches_a_window_once() -> None:
    log: list[tuple[int, int]] = []
    view = Sparse.of(DATA[:1000], len(DATA), fetcher(log))
    assert view.read(500_000, 8) == DATA[500_000:500_008]
    assert view.read(500_100, 100) == DATA[500_100:500_200]  # inside the same window
    assert log == [(500_000, 500_000 + WINDOW - 1)]


def test_the_end_of_the_object_reads_short_like_a_file() -> None:
    view = Sparse.of(DATA, len(DATA))
    assert view.complete and view.read(len(DATA) - 3, 10) == DATA[-3:] and view.read(len(DATA), 4) == b""


def test_too_many_places_or_bytes_is_header_too_large() -> None:
    log: list[tuple[int, int]] = []
    view = Sparse.of(DATA[:16], len(DATA), fetcher(log))
    for n in range(MAX_FETCHES):
        view.read(70_000 * (n + 1), 4)
    with pytest.raises(ImageRejected) as exc:
        view.read(999_000, 4)
    assert exc.value.reason == "header-too-large" and len(log) == MAX_FETCHES
    big = Sparse.of(b"x", 10 << 20, lambda a, b: bytes(b - a + 1))
    with pytest.raises(ImageRejected) as exc:
        big.read(1, 5 << 20)
    assert exc.value.reason == "header-too-large"


def test_the_reader_serves_pillow_and_says_when_it_ran_short() -> None:
    view = Sparse.of(DATA[:100], len(DATA), fetcher([]))
    reader = view.reader()
    reader.seek(200_000)
    assert reader.read(4) == DATA[200_000:200_004] and reader.tell() == 200_004 and not reader.ran_short
    plain = Sparse.of(DATA[:100], len(DATA)).reader()
    plain.seek(90)
    assert plain.read(20) == DATA[90:100] and plain.ran_short
