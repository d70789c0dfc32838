"""moto's request routers, built without the URL builders nothing calls (speed only).

moto routes a REST request (Lambda, S3, CloudFront...) by matching its path against a
Werkzeug ``Map`` with one rule per operation's URI, built the first time the service
is asked something. Werkzeug compiles two URL *builders* per rule as it adds it
(Python code generated and compiled for ``Map.build``, which makes URLs from rules);
moto only matches requests, never builds a URL. For Lambda's ~90 rules that is ~50 ms of
a local cloud's start. While local mode's patches are installed, a rule's builders are
compiled the first time one is called instead: matching is untouched, and a URL built
from a rule is the one Werkzeug would have built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .patches import Patches


def add_patches(patches: Patches) -> None:
    from moto.core.routing import SmithyRule
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder

    def lazy_builder(rule: Any, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        built: list[Callable[..., tuple[str, str]]] = []

        def build(self: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
            if not built:
                built.append(compile_builder(self, append_unknown))
            return built[0](self, *args, **kwargs)

        return build

    patches.add("moto.routes-lazy-builders", SmithyRule, "_compile_builder", lazy_builder)
