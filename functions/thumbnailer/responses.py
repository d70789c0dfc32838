"""HTTP answers of the on-demand resizer, independent of how they are delivered.

A ``Response`` becomes a Lambda function URL response (payload format 2.0, binary
bodies base64-encoded) here, or is served by the local server as it is.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NO_STORE = "no-store"


@dataclass(frozen=True)
class Response:
    """Status, headers and body; ``outcome`` names what happened, for logs and metrics."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    outcome: str = ""  # rendered | stored | redirected | rejected | ...

    def to_function_url(self, *, head: bool = False) -> dict[str, Any]:
        """Function URL payload v2 response: binary bodies travel base64-encoded."""
        body = b"" if head else self.body
        text = self.headers.get("Content-Type", "").startswith(("application/json", "text/"))
        return {
            "statusCode": self.status,
            "headers": dict(self.headers),
            "body": body.decode() if text else base64.b64encode(body).decode(),
            "isBase64Encoded": not text,
        }


def error(status: int, name: str, message: str, *, headers: Mapping[str, str] | None = None,
          **extra: Any) -> Response:
    """A JSON error answer that no cache keeps."""
    body = json.dumps({"error": name, "message": message, **extra}).encode()
    return Response(
        status,
        {"Content-Type": "application/json", "Cache-Control": NO_STORE, **(headers or {})},
        body,
        outcome=name,
    )
