"""Which sizes the on-demand resizer may render: Configure's sizes plus ``OnDemandSizes``.

Configure (in the deployed workflow definition) stays the one place sizes are
defined: the resizer reads it with DescribeStateMachine, and re-reads it after
``REFRESH_SECONDS`` so an edited Configure reaches warm functions too.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import clients
from .errors import ConfigError
from .formats import MAX_SIDE
from .spec import DEFAULT_QUALITY, SizeSpec, parse_sizes

DEFAULT_FIT = "inside"
REFRESH_SECONDS = 300.0


@dataclass(frozen=True)
class Allowlist:
    """Sizes that may be rendered on demand."""

    configured: tuple[SizeSpec, ...] = ()
    extra: frozenset[tuple[int, int]] = field(default_factory=frozenset)
    # Configure's moderation is on: only sources the workflow has passed may be rendered.
    moderated: bool = False

    def labels(self) -> list[str]:
        """Every allowed ``WxH``, sorted by area, for 403 bodies and the local gallery."""
        boxes = {(s.width, s.height) for s in self.configured} | set(self.extra)
        return [f"{w}x{h}" for w, h in sorted(boxes, key=lambda b: (b[0] * b[1], b))]

    def spec_for(self, width: int, height: int, fmt: str) -> SizeSpec | None:
        """The spec to render WxH in ``fmt``: a Configure entry's fit/quality when one matches."""
        for spec in self.configured:
            if (spec.width, spec.height) == (width, height):
                return SizeSpec(width, height, spec.fit, fmt, spec.quality, spec.name)
        if (width, height) in self.extra:
            return SizeSpec(width, height, DEFAULT_FIT, fmt, DEFAULT_QUALITY)
        return None

    def same_box(self, spec: SizeSpec) -> list[SizeSpec]:
        """Configure's sizes with this spec's box: their stored thumbnails serve it too."""
        return [s for s in self.configured if (s.width, s.height) == (spec.width, spec.height)]


def parse_size_list(text: str) -> frozenset[tuple[int, int]]:
    """``"200x200, 640x480"`` -> {(200, 200), (640, 480)}; bad entries are a deployment error."""
    boxes: set[tuple[int, int]] = set()
    for item in (part.strip().lower() for part in text.split(",")):
        if not item:
            continue
        w, sep, h = item.partition("x")
        if not (sep and w.isdigit() and h.isdigit()):
            raise ConfigError(f"ON_DEMAND_SIZES entry {item!r} is not WxH")
        width, height = int(w), int(h)
        if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
            raise ConfigError(f"ON_DEMAND_SIZES entry {item!r} is outside 1..{MAX_SIDE}")
        boxes.add((width, height))
    return frozenset(boxes)


def sizes_from_definition(definition: Mapping[str, Any]) -> list[SizeSpec]:
    """The sizes of the workflow's Configure state."""
    try:
        raw = definition["States"]["Configure"]["Parameters"]["config"]["sizes"]
    except (KeyError, TypeError) as exc:
        raise ConfigError("definition has no States.Configure.Parameters.config.sizes") from exc
    return parse_sizes(raw)


def moderation_from_definition(definition: Mapping[str, Any]) -> bool:
    """Whether the workflow's Configure state turns moderation on (``ModerationEnabled``)."""
    try:
        enabled = definition["States"]["Configure"]["Parameters"]["config"]["moderation"]["enabled"]
    except (KeyError, TypeError):
        return False
    return str(enabled).lower() == "true"


@dataclass(frozen=True)
class Configured:
    """What the resizer takes from Configure: its sizes, and whether moderation is on."""

    sizes: tuple[SizeSpec, ...]
    moderated: bool


class ConfigureSizes:
    """Configure's sizes of one state machine, described at most every ``refresh`` seconds.

    Failures are not cached: the next request tries again, and while a refresh fails the
    sizes read last are kept (an edited Configure is late, never lost).
    """

    def __init__(
        self,
        describe: Callable[[str], str],
        refresh: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._describe = describe
        self._refresh = refresh
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[str, float, Configured] | None = None

    def get(self, arn: str) -> tuple[SizeSpec, ...]:
        """Configure's sizes."""
        return self.configured(arn).sizes

    def configured(self, arn: str) -> Configured:
        """Configure's sizes and moderation switch, from one description."""
        now = self._clock()
        with self._lock:
            cached = self._cached
        if cached is not None and cached[0] == arn and now - cached[1] < self._refresh:
            return cached[2]
        try:
            definition = json.loads(self._describe(arn))
            sizes = tuple(sizes_from_definition(definition))
            found = Configured(sizes, moderation_from_definition(definition))
        except Exception:
            if cached is not None and cached[0] == arn:
                return cached[2]
            raise
        with self._lock:
            self._cached = (arn, now, found)
        return found


STEPFUNCTIONS = clients.Lazy("stepfunctions")  # made on first use: only the on-demand resizer describes


def _describe_definition(arn: str) -> str:
    return str(STEPFUNCTIONS().describe_state_machine(stateMachineArn=arn)["definition"])


CONFIGURE = ConfigureSizes(_describe_definition)


def load(env: Mapping[str, str] | None = None, configure: ConfigureSizes = CONFIGURE) -> Allowlist:
    """The allowlist from the function's environment (see template.yaml, OnDemandFunction)."""
    env = os.environ if env is None else env
    arn = env.get("STATE_MACHINE_ARN", "")
    found = configure.configured(arn) if arn else Configured((), False)
    return Allowlist(found.sizes, parse_size_list(env.get("ON_DEMAND_SIZES", "")), found.moderated)
