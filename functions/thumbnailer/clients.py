"""One AWS client per service per process, made on first use.

Cold start pays for no client a function never uses (a deployment without face-aware crops
never makes Rekognition's), and warm invocations reuse the one made. Every client retries in
the SDK's standard mode (3 retries, 4 attempts) before the definition's own Retry takes over.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
from botocore.config import Config

SDK_RETRIES = {"mode": "standard", "max_attempts": 3}
# One botocore session (credentials and region from the environment, as boto3's default session
# finds them) for every client, built under one lock: a session is not safe to share between
# threads that create clients at once. boto3 itself is not imported: it adds nothing these
# clients use, and importing it (with s3transfer) costs ~0.1 s of every cold start.
_LOCK = threading.Lock()
_session: botocore.session.Session | None = None


class Lazy:
    """``Lazy("s3")()`` is this process's S3 client; ``client`` is what tests replace."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.client: Any = None

    def __call__(self) -> Any:
        global _session
        with _LOCK:  # two threads of one invocation must not build two
            if self.client is None:
                _session = _session or botocore.session.get_session()
                config = Config(retries=dict(SDK_RETRIES))  # type: ignore[arg-type]
                self.client = _session.create_client(self.service, config=config)
            return self.client
