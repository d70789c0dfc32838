"""The cyclic garbage collector held off while a local cloud starts (speed only).

Starting imports moto, boto3 and the interpreter and deploys the template: some hundred
thousand objects that live as long as the cloud does, and almost no garbage. Each of them
counts towards the collector's next run, so it runs over and over during the start,
finding nothing: about a fifth of the start's CPU. Holding it off for the start and letting
it run as usual afterwards frees the same objects (reference counting frees almost all
of them anyway). ``settle`` is for a process that starts one cloud and then ends
(the ``thumbflow`` command): what is alive after the start is kept out of every later
collection, so collections during the run look at what the run makes, not the start.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collections inside the block; the collector as it was after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def settle() -> None:
    """Keep everything alive now out of later collections (``gc.freeze``), then collect as
    usual: for a process that ends soon after, not for one that starts cloud after cloud."""
    gc.freeze()
    gc.enable()
