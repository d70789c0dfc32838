"""Import moto's Step Functions interpreter without moto's EC2 (about 0.8 s of a start).

The interpreter's preprocessor imports every task integration it knows. The AWS Batch one
imports a single enum, ``moto.batch.utils.JobStatus``; importing that the normal way runs
the ``moto.batch`` package, whose models import ``moto.ec2``, which at import reads the
EC2 service model and the endpoint tables three times over. Nothing local mode runs uses
Batch or EC2.

So, unless ``moto.batch`` is imported already, the interpreter is imported with moto's own
``moto/batch/utils.py`` and ``exceptions.py`` loaded on their own (the real files, executed
as they are, without their package's ``__init__``), and those two entries leave
``sys.modules`` again once the interpreter is imported. The Batch integration then holds
moto's real ``JobStatus`` code (a ``str`` enum, compared with the status strings Batch's API
returns), and a later ``import moto.batch`` imports the whole package as usual. Nothing the
interpreter does changes; only what is imported when.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

PARSER = "moto.stepfunctions.parser.models"  # moto's Step Functions backend, with the parser
_STANDALONE = ("exceptions", "utils")  # of moto/batch, in dependency order
_lock = threading.Lock()


def import_interpreter(modules: Iterable[str] = ()) -> None:
    """Import moto's Step Functions backend and interpreter, and ``modules`` of it."""
    wanted = (PARSER, *modules)
    with _lock:
        if all(name in sys.modules for name in wanted):
            return
        with _batch_without_its_package():
            for name in wanted:
                importlib.import_module(name)


@contextmanager
def _batch_without_its_package() -> Iterator[None]:
    if "moto.batch" in sys.modules:  # the whole package is there: nothing to spare
        yield
        return
    spec = importlib.util.find_spec("moto")
    assert spec is not None and spec.origin is not None
    folder = Path(spec.origin).parent / "batch"
    added: list[str] = []
    try:
        for name in _STANDALONE:
            full = f"moto.batch.{name}"
            if full in sys.modules:
                continue
            module_spec = importlib.util.spec_from_file_location(full, folder / f"{name}.py")
            assert module_spec is not None and module_spec.loader is not None
            module = importlib.util.module_from_spec(module_spec)
            sys.modules[full] = module
            added.append(full)
            module_spec.loader.exec_module(module)
        yield
    finally:
        for full in added:
            sys.modules.pop(full, None)
