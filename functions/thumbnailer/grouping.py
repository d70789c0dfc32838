"""Render groups: which configured sizes share one decode of the source.

Decoding dominates the cost of a thumbnail, so sizes are rendered together from
one decode until a group's output pixels reach ``groupMaxPixels`` (Configure).
0 puts every size in its own group (one Lambda per size). The Map state fans
out over the groups; adding a size is still one edit in Configure.
"""

from __future__ import annotations

from collections.abc import Sequence

from .records import RenderGroup
from .spec import SizeSpec


def group_sizes(specs: Sequence[SizeSpec], max_group_pixels: int) -> list[RenderGroup]:
    """Largest first, greedily packed; duplicates (same box, fit and format) dropped."""
    unique: list[SizeSpec] = []
    seen: set[tuple[int, int, str, str]] = set()
    for spec in specs:
        ident = (spec.width, spec.height, spec.fit, spec.format)
        if ident not in seen:
            seen.add(ident)
            unique.append(spec)
    ordered = sorted(unique, key=lambda s: s.width * s.height, reverse=True)
    groups: list[list[SizeSpec]] = []
    pixels = 0
    for spec in ordered:
        area = spec.width * spec.height
        if not groups or max_group_pixels <= 0 or pixels + area > max_group_pixels:
            groups.append([])
            pixels = 0
        groups[-1].append(spec)
        pixels += area
    return [RenderGroup(tuple(group)) for group in groups]
