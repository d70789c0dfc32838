"""The worker's own parts, without a process: its stdout, its handler import, its SDK request bytes."""

from __future__ import annotations

import io
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from thumbflow.local.worker import InitError, LineWriter, LocalContext, _request_bytes, load_handler


class FakeChannel:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()

    def send(self, message: tuple[Any, ...]) -> None:
        with self._lock:
            self.sent.append(message)


def test_lines_go_out_whole_and_a_partial_one_on_flush() -> None:
    channel = FakeChannel()
    out = LineWriter(channel)  # type: ignore[arg-type]
    out.write('{"a": ')
    out.write('1}\nsecond\nthi')
    assert channel.sent == [("log", '{"a": 1}\n'), ("log", "second\n")]
    out.flush()
    assert channel.sent[-1] == ("log", "thi\n")
    print("from print", file=out)
    assert channel.sent[-1] == ("log", "from print\n")


def test_concurrent_writers_never_split_a_line() -> None:
    channel = FakeChannel()
    out = LineWriter(channel)  # type: ignore[arg-type]

    def write(tag: str) -> None:
        for _ in range(200):
            out.write(f"{tag}-start ")
            out.write(f"{tag}-end\n")

    threads = [threading.Thread(target=write, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(channel.sent) == 400
    assert all(line.endswith("\n") and line.count("\n") == 1 for _, line in channel.sent)


@pytest.fixture
def task_root(tmp_path: Path) -> Path:
    (tmp_path / "fnpkg_local_test").mkdir()
    (tmp_path / "fnpkg_local_test" / "__init__.py").write_text("")
    (tmp_path / "fnpkg_local_test" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "fnpkg_local_test" / "broken.py").write_text("def handler(:\n")
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("fnpkg_local_test")]:
        del sys.modules[name]


def test_the_handler_is_imported_from_the_task_root(task_root: Path) -> None:
    assert load_handler("fnpkg_local_test.app.handler", str(task_root))({}, None) == 1


@pytest.mark.parametrize(("handler", "error_type", "message"), [
    ("fnpkg_local_test.nothere.handler", "Runtime.ImportModuleError",
     "Unable to import module 'fnpkg_local_test.nothere'"),
    ("fnpkg_local_test.broken.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module"),
    ("fnpkg_local_test.app.missing", "Runtime.HandlerNotFound",
     "Handler 'missing' missing on module 'fnpkg_local_test.app'"),
])
def test_init_errors_as_the_python_runtime_names_them(task_root: Path, handler: str, error_type: str,
                                                      message: str) -> None:
    with pytest.raises(InitError) as err:
        load_handler(handler, str(task_root))
    assert err.value.error_type == error_type and message in str(err.value)


def test_a_module_found_outside_the_task_root_is_an_import_error(task_root: Path, tmp_path: Path) -> None:
    with pytest.raises(InitError, match="outside the function's code"):
        load_handler("json.dumps", str(task_root))


class NoTell:
    def __init__(self, data: bytes) -> None:
        self._io = io.BytesIO(data)

    def read(self) -> bytes:
        return self._io.read()

    def seek(self, offset: int) -> None:
        self._io.seek(offset)


def test_request_bodies_of_every_kind_become_bytes() -> None:
    assert _request_bytes(None) == b""
    assert _request_bytes(b"abc") == b"abc"
    assert _request_bytes("é") == "é".encode()
    stream = io.BytesIO(b"xyz")
    assert _request_bytes(stream) == b"xyz" and stream.read() == b"xyz"  # rewound for a retry
    chunked = NoTell(b"chunked")  # botocore's aws-chunked wrapper has read and seek, no tell
    assert _request_bytes(chunked) == b"chunked" and chunked.read() == b"chunked"


def test_the_context_counts_down_to_the_timeout() -> None:
    context = LocalContext("fn", "arn:aws:lambda:us-east-1:1:function:fn", 128, "r-1",
                           deadline=time.monotonic() + 2)
    assert 1500 < context.get_remaining_time_in_millis() <= 2000
    assert context.log_group_name == "/aws/lambda/fn"
    expired = LocalContext("fn", "arn", 128, "r-2", deadline=time.monotonic() - 1)
    assert expired.get_remaining_time_in_millis() == 0
