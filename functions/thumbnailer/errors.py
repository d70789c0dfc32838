"""The named outcomes of the Lambda code, as exceptions inside it.

Only ``TransientError`` leaves a handler as an error: Lambda reports an unhandled
exception's class name as ``errorType``, which is the error name the
definition's Retry matches (with Lambda's own ``Lambda.*`` names). The others
are caught where the handler shapes its answer and returned as data (a verdict
or an outcome), so the workflow routes them without parsing error causes; the
definition's Fail state then names ImageRejected, ImageFlagged, ConfigError or
ThumbnailsFailed.
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


class InputIgnored(Exception):
    """The input is an S3 event that is not an upload (a delete, a tag change): nothing to make.

    Not an error of the upload: the execution succeeds with outcome ``ignored`` and no alert.
    """
