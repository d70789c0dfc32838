"""How the handlers' Powertools Tracer is built: pay for X-Ray only when tracing is on.

* Tracing off: Powertools' ``Tracer()`` still imports ``aws_xray_sdk.core``; ``provider()``
  hands it a provider that does nothing instead, so the SDK is never imported and the
  ``@tracer`` decorators cost nothing. Tracing is on exactly when Powertools would have it
  on: inside Lambda (``LAMBDA_TASK_ROOT``), not under ``sam local`` or Chalice, and
  ``POWERTOOLS_TRACE_DISABLED`` not true.
* Tracing on: Powertools' X-Ray provider, patching only ``botocore`` (``PATCH_MODULES``), the
  one library these functions call out with. The default ``patch_all`` imports and patches
  every supported library it finds (requests, httplib, sqlite3, ...): ~60 ms of cold start
  for subsegments nothing here would produce (bench/coldstart.py).
"""

from __future__ import annotations

import os
from collections.abc import Generator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

PATCH_MODULES: tuple[str, ...] = ("botocore",)
"""What ``Tracer(patch_modules=...)`` instruments: every S3 and Step Functions call."""

_TRUE = frozenset({"1", "y", "yes", "t", "true", "on"})  # Powertools' truthy env values


def enabled() -> bool:
    """Whether Powertools would trace in this environment."""
    if os.getenv("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() in _TRUE:
        return False
    if not os.getenv("LAMBDA_TASK_ROOT"):
        return False  # outside Lambda there is no X-Ray daemon to send to
    return not (os.getenv("AWS_SAM_LOCAL") or os.getenv("AWS_CHALICE_CLI_MODE"))


class _NoSegment(BaseSegment):
    def close(self, end_time: int | None = None) -> None:
        pass

    def add_subsegment(self, subsegment: Any) -> None:
        pass

    def remove_subsegment(self, subsegment: Any) -> None:
        pass

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None:
        pass


class NoTracing(BaseProvider):
    """A Powertools tracing provider that records nothing."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name: str | None = None, **kwargs: Any):  # type: ignore[override]
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        pass

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        pass

    def patch(self, modules: Sequence[str]) -> None:
        pass

    def patch_all(self) -> None:
        pass


def provider() -> BaseProvider | None:
    """For ``Tracer(provider=...)``: None (Powertools' X-Ray provider) when tracing is on."""
    return None if enabled() else NoTracing()
