"""One AWS client per service per process, made on first use.

Cold start pays for no client a function never uses (a deployment without face-aware crops
never makes Rekognition's), and warm invocations reuse the one made. Every client retries in
the SDK's standard mode (3 retries, 4 attempts) before the definition's own Retry takes over.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

SDK_RETRIES = {"mode": "standard", "max_attempts": 3}


class Lazy:
    """``Lazy("s3")()`` is this process's S3 client; ``client`` is what tests replace."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.client: Any = None
        self._lock = threading.Lock()  # two threads of one invocation must not build two

    def __call__(self) -> Any:
        with self._lock:
            if self.client is None:
                self.client = boto3.client(self.service, config=Config(retries=dict(SDK_RETRIES)))
            return self.client
