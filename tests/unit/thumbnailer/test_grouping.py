"""Render groups: sizes that share one decode, packed up to groupMaxPixels."""

from __future__ import annotations

from thumbnailer.grouping import group_sizes
from thumbnailer.spec import SizeSpec

SIZES = [SizeSpec(128, 128, "cover"), SizeSpec(1024, 1024), SizeSpec(256, 256), SizeSpec(512, 512)]


def _areas(group: object) -> list[int]:
    return [s.width * s.height for s in group.sizes]  # type: ignore[attr-defined]


def test_every_size_lands_in_exactly_one_group_largest_first() -> None:
    groups = group_sizes(SIZES, 1024 * 1024 + 512 * 512)
    flat = [s for g in groups for s in g.sizes]
    assert sorted(flat, key=repr) == sorted(SIZES, key=repr)
    areas = [a for g in groups for a in _areas(g)]
    assert areas == sorted(areas, reverse=True)


def test_groups_stay_within_the_pixel_budget() -> None:
    budget = 1024 * 1024 + 512 * 512
    groups = group_sizes(SIZES, budget)
    assert [g.labels for g in groups] == [["1024x1024", "512x512"], ["256x256", "128x128"]]
    assert all(sum(_areas(g)) <= budget for g in groups)


def test_a_size_over_the_budget_gets_a_group_of_its_own() -> None:
    groups = group_sizes(SIZES, 300 * 300)
    assert [g.labels for g in groups] == [["1024x1024"], ["512x512"], ["256x256", "128x128"]]


def test_zero_puts_every_size_in_its_own_group() -> None:
    assert [len(g.sizes) for g in group_sizes(SIZES, 0)] == [1, 1, 1, 1]


def test_a_huge_budget_makes_one_group() -> None:
    assert len(group_sizes(SIZES, 10**9)) == 1


def test_duplicates_are_dropped_but_a_different_fit_or_format_is_kept() -> None:
    specs = [SizeSpec(100, 100, name="a"), SizeSpec(100, 100, name="b"), SizeSpec(100, 100, "cover"),
             SizeSpec(100, 100, format="png")]
    groups = group_sizes(specs, 0)
    kept = [g.sizes[0] for g in groups]
    assert len(kept) == 3
    assert [s.name for s in kept if (s.fit, s.format) == ("inside", "auto")] == ["a"]  # the first one


def test_no_sizes_no_groups() -> None:
    assert group_sizes([], 100) == []
