"""The CloudFront distribution: named at deploy, created in moto at its first CloudFront request.

Nothing is served through the local distribution; it exists so ``Ref`` gives an id and the
purge's CreateInvalidation has something to invalidate. Creating it costs a fifth of a
second (moto builds CloudFront's whole REST router for the first request), and most
commands never touch CloudFront. So local mode draws CloudFront's ids from a generator
seeded with the stack's name (a deployed distribution keeps its id from one command to the
next; moto would draw a new one in every process), reads the id and domain the creation
will get from a copy of that generator, and creates the distribution just before the first
CloudFront request anyone makes, whoever makes it. Every other request, and everything the
handlers and definitions see, is as if it had been created at deploy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .patches import Patches
from .wire import Request, Wire, WireHook


class DistributionError(RuntimeError):
    """moto created the distribution under another id than the one already handed out."""


@dataclass(repr=False, eq=False)
class Distributions:
    """Distributions named but not yet created, and the hook that creates them when asked."""

    stack: str
    log: Callable[[str], None] = lambda line: None
    pending: list[tuple[dict[str, Any], dict[str, str]]] = field(default_factory=list)  # config, what it gets
    created: list[str] = field(default_factory=list)
    _seeded: Any = None
    _client: Callable[[], Any] | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def add_patches(self, patches: Patches, wire: Wire, client: Callable[[], Any]) -> None:
        """Seed CloudFront's ids; create what is pending before any CloudFront request."""
        from moto.cloudfront import models as cloudfront_models
        from moto.moto_api._internal.moto_random import MotoRandom

        self._seeded = MotoRandom()
        self._seeded.seed(f"thumbflow-local:{self.stack}:cloudfront")
        self._client = client
        patches.add("cloudfront.stable-ids", cloudfront_models, "random", self._seeded)
        wire.hooks.append(WireHook("cloudfront", None, self._before_request))

    def reserve(self, config: dict[str, Any]) -> dict[str, str]:
        """The ``Id`` and ``DomainName`` the distribution will have; created at the first request."""
        with self._lock:
            draws = self._next_ids(1 + 2 * len(self.pending))
            made = {"Id": draws[-1][0], "DomainName": f"{draws[-1][1]}.cloudfront.net"}
            self.pending.append((config, made))
            return dict(made)

    def _next_ids(self, count: int) -> list[tuple[str, str]]:
        """What moto's Distribution would draw (its id, then its domain's label), for the next
        ``count`` creations, read from a copy of the seeded generator."""
        from moto.cloudfront import models as cloudfront_models
        from moto.moto_api._internal.moto_random import MotoRandom

        probe = MotoRandom()
        probe.setstate(self._seeded.getstate())
        real, cloudfront_models.random = cloudfront_models.random, probe
        try:
            out = []
            for _ in range(count):
                out.append((cloudfront_models.random_id(), cloudfront_models.random_id(uppercase=False)))
                cloudfront_models.random_id()  # the etag, drawn third
            return out
        finally:
            cloudfront_models.random = real

    def _before_request(self, request: Request) -> None:
        self.create_pending()

    def create_pending(self) -> None:
        """Create every reserved distribution now (the first CloudFront request calls this)."""
        with self._lock:  # re-entrant: the creation below is a CloudFront request too
            todo, self.pending = self.pending, []
            if not todo:
                return
            assert self._client is not None
            cloudfront = self._client()
            for config, expected in todo:
                made = cloudfront.create_distribution(DistributionConfig=config)["Distribution"]
                got = {"Id": made["Id"], "DomainName": made["DomainName"]}
                self.created.append(got["Id"])
                if got != expected:
                    message = (f"thumbflow local: CloudFront created distribution {got}, but {expected} "
                               "was handed out at deploy (has moto changed how it draws ids?)\n")
                    self.log(message)
                    raise DistributionError(message.strip())
