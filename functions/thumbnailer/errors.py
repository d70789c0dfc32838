"""Errors whose class names are the error names the state machine matches on.

Lambda reports an unhandled exception's class name as ``errorType``; Step
Functions turns that into the error name that Retry and Catch match. So the
names here are a contract with ``statemachine/*.asl.json``: rename one and the
definition must change with it.
"""

from __future__ import annotations


class ImageRejected(Exception):
    """The source is not an image we will process. Never retried.

    ``reason`` is a short slug (``truncated``, ``svg``, ``too-many-pixels`` ...)
    that alerts, tests and the contact sheet can key on; ``detail`` is for humans.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class SourceChanged(Exception):
    """The object was overwritten after the event was sent; a newer event owns it.

    Not retried: the newer upload has its own execution, and this one must not
    publish thumbnails of bytes that are no longer the source.
    """


class TransientError(Exception):
    """A dependency failed in a way that may clear on its own (throttling, 5xx).

    The definition retries it with backoff and jitter, then the retry branch.
    """


class ConfigError(Exception):
    """The Configure state or an environment variable holds an invalid value."""
