"""EventBridge event patterns, matched as EventBridge documents them.

https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html and
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html:

* A pattern mirrors the event's structure; every leaf is a non-empty array of values
  or filters, and the event matches when every field of the pattern matches (AND) and,
  within a field, any element of the array matches (OR). ``$or`` takes a list of
  sub-patterns, any of which may match.
* An event value that is an array matches when any of its elements matches; arrays of
  objects are searched element by element.
* Exact values are case-sensitive and typed: "1" is not 1. ``prefix``, ``suffix``
  (each also with ``{"equals-ignore-case": ...}``), ``equals-ignore-case`` and
  ``wildcard`` apply to strings only; ``numeric`` to numbers; ``cidr`` to IP
  addresses; ``exists`` to leaves only (an object is not a leaf).
* ``anything-but`` takes a string, a number, a list of either, or one of
  ``prefix``/``suffix``/``equals-ignore-case``/``wildcard``; a field that is absent
  matches no comparison, anything-but included.
* A pattern with an unknown operator, an empty array or a non-array leaf is invalid
  (EventBridge refuses it at PutRule): ``PatternError`` here.

moto's matcher differs on points this module fixes (see README, fidelity): an unknown
operator matches every event, invalid operator values are accepted, and fields inside
arrays of objects are never matched.
"""

from __future__ import annotations

import ipaddress
import operator
import re
from collections.abc import Iterator, Mapping
from typing import Any

_ABSENT = object()
_NUMERIC = {"<": operator.lt, "<=": operator.le, "=": operator.eq, ">=": operator.ge, ">": operator.gt}
_STRING_OPERATORS = ("prefix", "suffix", "equals-ignore-case", "wildcard")
_OPERATORS = (*_STRING_OPERATORS, "anything-but", "numeric", "cidr", "exists")


class PatternError(ValueError):
    """The pattern is not one EventBridge accepts."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(value: Any, expected: Any) -> bool:
    """Exact matching: numbers compare as numbers, anything else by type and value."""
    if _is_number(value) and _is_number(expected):
        return bool(value == expected)
    return type(value) is type(expected) and value == expected


def _wildcard(pattern: str) -> re.Pattern[str]:
    """``*`` is any run of characters; ``\\*`` and ``\\\\`` are a literal star and backslash."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*\\":
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        if c == "\\":
            raise PatternError(f"wildcard {pattern!r}: only \\* and \\\\ may be escaped")
        out += ".*" if c == "*" else re.escape(c)
        i += 1
    if "**" in pattern.replace("\\*", ""):
        raise PatternError(f"wildcard {pattern!r}: consecutive wildcard characters are not allowed")
    return re.compile(out, re.DOTALL)


def _ignore_case_arg(name: str, value: Any) -> str | None:
    """The string of ``{"equals-ignore-case": s}`` given to prefix or suffix, else None."""
    if isinstance(value, Mapping):
        if set(value) != {"equals-ignore-case"} or not isinstance(value["equals-ignore-case"], str):
            raise PatternError(f"{name}: takes a string or {{\"equals-ignore-case\": string}}")
        return str(value["equals-ignore-case"])
    return None


def _string_filter(name: str, value: Any) -> Any:
    """A predicate on one string value for prefix/suffix/equals-ignore-case/wildcard."""
    folded = _ignore_case_arg(name, value) if name in ("prefix", "suffix") else None
    if folded is not None:
        needle = folded.lower()
        if name == "prefix":
            return lambda v: v.lower().startswith(needle)
        return lambda v: v.lower().endswith(needle)
    if name == "wildcard":
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            raise PatternError("wildcard: takes a string or a list of strings")
        compiled = [_wildcard(v) for v in values]
        return lambda v: any(c.fullmatch(v) for c in compiled)
    if name == "equals-ignore-case":
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values):
            raise PatternError("equals-ignore-case: takes a string or a list of strings")
        lowered = {v.lower() for v in values}
        return lambda v: v.lower() in lowered
    if not isinstance(value, str):
        raise PatternError(f"{name}: takes a string")
    if name == "prefix":
        return lambda v: v.startswith(value)
    return lambda v: v.endswith(value)


def _numeric(value: Any) -> Any:
    if not isinstance(value, list) or len(value) not in (2, 4) or len(value) % 2:
        raise PatternError("numeric: takes [op, number] or [op, number, op, number]")
    pairs = list(zip(value[::2], value[1::2], strict=True))
    for op, bound in pairs:
        if op not in _NUMERIC or not _is_number(bound):
            raise PatternError(f"numeric: {op!r} {bound!r} is not an operator and a number")
    return lambda v: _is_number(v) and all(_NUMERIC[op](v, bound) for op, bound in pairs)


def _anything_but(value: Any) -> Any:
    if isinstance(value, Mapping):
        if len(value) != 1 or next(iter(value)) not in _STRING_OPERATORS:
            raise PatternError("anything-but: takes prefix, suffix, equals-ignore-case or wildcard")
        (name, arg), = value.items()
        if name in ("prefix", "suffix") and not isinstance(arg, str):
            raise PatternError(f"anything-but {name}: takes a string")
        inner = _string_filter(name, arg)
        return lambda v: isinstance(v, str) and not inner(v)
    values = value if isinstance(value, list) else [value]
    if not values or not (all(isinstance(v, str) for v in values) or all(_is_number(v) for v in values)):
        raise PatternError("anything-but: takes a string, a number, or a list of only one of them")
    return lambda v: v not in values if (isinstance(v, str) or _is_number(v)) else True


def _cidr(value: Any) -> Any:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except (TypeError, ValueError) as exc:
        raise PatternError(f"cidr: {value!r} is not a network") from exc

    def inside(v: Any) -> bool:
        try:
            return isinstance(v, str) and ipaddress.ip_address(v) in network
        except ValueError:
            return False

    return inside


class _Filter:
    """One element of a pattern array: an exact value or an operator object."""

    def __init__(self, spec: Any) -> None:
        self.exists: bool | None = None
        if isinstance(spec, Mapping):
            if len(spec) != 1 or next(iter(spec)) not in _OPERATORS:
                raise PatternError(f"unknown or combined operators: {dict(spec)!r}")
            (name, value), = spec.items()
            if name == "exists":
                if not isinstance(value, bool):
                    raise PatternError("exists: takes true or false")
                self.exists = value
                self.test = lambda v: True
            elif name == "anything-but":
                self.test = _anything_but(value)
            elif name == "numeric":
                self.test = _numeric(value)
            elif name == "cidr":
                self.test = _cidr(value)
            else:
                string_test = _string_filter(name, value)
                self.test = lambda v: isinstance(v, str) and string_test(v)
        elif isinstance(spec, list):
            raise PatternError("a pattern array holds values and operators, not arrays")
        else:
            self.test = lambda v: _same(v, spec)

    def matches(self, values: list[Any]) -> bool:
        """``values``: the event's leaf values at this path (empty when absent)."""
        if self.exists is not None:
            return bool(values) == self.exists
        return any(self.test(v) for v in values)


class EventPattern:
    """A validated pattern; ``matches(event)`` answers as an EventBridge rule would."""

    def __init__(self, pattern: Mapping[str, Any]) -> None:
        if not isinstance(pattern, Mapping):
            raise PatternError("a pattern is a JSON object")
        self.pattern = pattern
        self._compiled = _compile(pattern)

    def matches(self, event: Mapping[str, Any]) -> bool:
        return _match(self._compiled, [event])


def _compile(node: Mapping[str, Any]) -> list[tuple[str, Any]]:
    compiled: list[tuple[str, Any]] = []
    for key, value in node.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError("$or: takes a list of at least two patterns")
            compiled.append(("$or", [_compile(p) for p in value]))
        elif isinstance(value, Mapping):
            compiled.append((key, ("node", _compile(value))))
        elif isinstance(value, list):
            if not value:
                raise PatternError(f"{key}: empty arrays are not allowed")
            compiled.append((key, ("leaf", [_Filter(f) for f in value])))
        else:
            raise PatternError(f"{key}: must be an object or an array")
    return compiled


def _children(objects: list[Any], key: str) -> list[Any]:
    """The values under ``key`` of every object, arrays flattened (arrays of objects included)."""
    found: list[Any] = []
    for obj in objects:
        if isinstance(obj, Mapping) and key in obj:
            found.extend(_flatten(obj[key]))
    return found


def _flatten(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value:
            yield from _flatten(item)
    else:
        yield value


def _match(compiled: list[tuple[str, Any]], objects: list[Any]) -> bool:
    for key, spec in compiled:
        if key == "$or":
            if not any(_match(branch, objects) for branch in spec):
                return False
            continue
        kind, body = spec
        values = _children(objects, key)
        if kind == "node":
            if not _match(body, [v for v in values if isinstance(v, Mapping)]):
                return False
            continue
        leaves = [v for v in values if not isinstance(v, Mapping)]
        if not any(f.matches(leaves) for f in body):
            return False
    return True
