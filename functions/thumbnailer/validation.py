"""The Validate step's decision: is this input an upload we make thumbnails of, and how?

Every named outcome is an answer, not an exception, so the workflow can route it
and the alert can say which object it was about: ``accepted`` (with the pinned
source and its render groups), ``rejected`` (the upload is not a usable image,
or the input is not a usable request), ``misconfigured`` (Configure names a bad
size), ``superseded`` (a newer upload owns the key) and ``ignored`` (an S3
event that is not an upload). Only failures that may clear on their own
(``TransientError``) and bugs are raised, for the definition's Retry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import admission, inputs
from .errors import ConfigError, ImageRejected, InputIgnored, SourceChanged
from .grouping import group_sizes
from .records import PinnedSource, RenderGroup, SourceRef, group_result
from .settings import Settings
from .spec import parse_sizes


@dataclass(frozen=True)
class Verdict:
    """What Validate answers; every field is always present in the payload (the definition reads them)."""

    verdict: str
    ref: SourceRef | None = None
    source: PinnedSource | None = None
    groups: Sequence[RenderGroup] = ()
    moderation: Mapping[str, str] = field(default_factory=lambda: {"mode": "off", "reason": ""})
    error: str = ""
    reason: str = ""
    cause: str = ""

    def to_payload(self, alerts: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The answer the definition routes; ``alerts`` is Configure's table of alert texts."""
        ref = self.ref
        rerun = ref.rerun_input() if ref and self._rerunnable() else None
        return {
            "verdict": self.verdict,
            "object": {
                "bucket": inputs.shown(ref.bucket) if ref else None,
                "key": inputs.shown(ref.key) if ref else None,
            },
            "rerun": rerun,
            "source": self.source.to_payload() if self.source else None,
            "groups": [group_result(g, "planned") for g in self.groups],
            "moderation": dict(self.moderation),
            "failure": None if self.verdict == "accepted" else self._failure(alerts or {}, rerun),
        }

    def _failure(self, alerts: Mapping[str, Any], rerun: Mapping[str, str] | None) -> dict[str, Any]:
        """The refusal with the alert text Configure gives for its kind (the workflow alerts with it)."""
        kind = self.kind()
        text = alerts.get(kind) if isinstance(alerts.get(kind), Mapping) else {}
        advice = str(text.get("advice", ""))
        if rerun is not None and alerts.get("rerun"):
            advice = f"{advice} {alerts['rerun']}".strip()
        return {
            "error": self.error,
            "reason": self.reason,
            "cause": self.cause,
            "kind": kind,
            "subject": str(text.get("subject", f"thumbflow: {self.verdict}")),
            "event": str(text.get("event", "Image Rejected")),
            "advice": advice,
            "rerun": rerun,
        }

    def kind(self) -> str:
        """Which entry of Configure's alert table describes this verdict."""
        if self.verdict == "misconfigured":
            return "misconfigured"
        return "rejected" if self._rerunnable() else "unusable"

    def _rerunnable(self) -> bool:
        """A rejected upload can be re-run once it is replaced; a request S3 cannot serve cannot."""
        return self.verdict != "rejected" or self.reason not in ("bad-input", "key-too-long")


def moderation_mode(config: Mapping[str, Any], source: PinnedSource) -> dict[str, str]:
    """Whether to moderate, and how: Rekognition reads JPEG and PNG up to 15 MB only.

    ``not-possible`` is never rendered (``decide`` refuses it as ``not-moderatable``): with
    moderation on, an upload in another format must not reach a thumbnail unmoderated, or
    saving a photo as HEIC or WebP would be the way round moderation.
    """
    if str(config.get("enabled", "false")).lower() != "true":
        return {"mode": "off", "reason": ""}
    if admission.moderatable(source):
        return {"mode": "direct", "reason": ""}
    return {
        "mode": "not-possible",
        "reason": f"Rekognition accepts JPEG and PNG up to {admission.MODERATION_MAX_BYTES} bytes only; "
        f"this is {source.format}, {source.bytes} bytes",
    }


def _suffix_allowed(key: str, suffixes: Sequence[str]) -> bool:
    lowered = key.lower()
    return not suffixes or any(lowered.endswith(s.lower()) for s in suffixes)


def decide(
    raw_input: Any,
    *,
    sizes: Sequence[Mapping[str, Any]],
    group_max_pixels: Any,
    moderation: Mapping[str, Any],
    settings: Settings,
) -> Verdict:
    """Judge one execution input against the configuration and the object it names.

    The input first, so that a bad Configure's alert still names the upload and can offer
    its re-run once Configure is fixed.
    """
    try:
        ref = inputs.parse(raw_input)
    except InputIgnored as exc:
        return Verdict("ignored", reason=str(exc).split(":", 1)[0], cause=str(exc))
    except ImageRejected as exc:
        return Verdict("rejected", error="ImageRejected", reason=exc.reason, cause=str(exc))
    try:
        specs = parse_sizes(sizes)
    except ConfigError as exc:
        return Verdict("misconfigured", ref, error="ConfigError", reason="bad-size", cause=str(exc))
    if isinstance(group_max_pixels, bool) or not isinstance(group_max_pixels, int) or group_max_pixels < 0:
        return Verdict("misconfigured", ref, error="ConfigError", reason="bad-grouping",
                       cause=f"groupMaxPixels must be a whole number >= 0, got {group_max_pixels!r}"[:200])
    is_event = isinstance(raw_input, Mapping) and "detail" in raw_input
    if is_event and not _suffix_allowed(ref.key, settings.allowed_suffixes):
        return Verdict("ignored", ref, reason="suffix-not-allowed",
                       cause="suffix-not-allowed: the key does not end with any of AllowedSuffixes")
    groups = group_sizes(specs, group_max_pixels)
    try:
        info = admission.locate(ref, settings)
        source = admission.judge(info, settings, groups)
    except ImageRejected as exc:
        return Verdict("rejected", ref, error="ImageRejected", reason=exc.reason, cause=str(exc))
    except SourceChanged as exc:
        return Verdict("superseded", ref, reason="superseded", cause=str(exc))
    mode = moderation_mode(moderation, source)
    if mode["mode"] == "not-possible":
        return Verdict("rejected", ref, moderation=mode, error="ImageRejected", reason="not-moderatable",
                       cause=f"not-moderatable: moderation is on and {mode['reason']}; upload it as JPEG "
                       "or PNG, or re-run it with moderation off")
    return Verdict("accepted", ref, source=source, groups=groups, moderation=mode)
