"""botocore's parsed data files kept between processes: found again only for the same file."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

from thumbflow.local.sdkdata import DataCache


def test_a_kept_file_reads_back_as_the_same_data_in_plain_dicts(tmp_path: Path) -> None:
    source = tmp_path / "data" / "service-2"
    source.parent.mkdir()
    source.with_suffix(".json").write_text('{"b": 1, "a": [{"z": null}]}')
    cache = DataCache(tmp_path / "cache")
    name = cache.name(str(source))
    assert name is not None and cache.load(name) is None  # nothing kept yet
    parsed = OrderedDict([("b", 1), ("a", [OrderedDict([("z", None)])])])
    cache.store(name, parsed)
    back = cache.load(name)
    assert back == parsed and type(back) is dict and list(back) == ["b", "a"]
    assert type(back["a"][0]) is dict


def test_another_file_or_a_changed_one_has_another_entry(tmp_path: Path) -> None:
    source = tmp_path / "endpoints"
    source.with_suffix(".json").write_text("{}")
    cache = DataCache(tmp_path / "cache")
    first = cache.name(str(source))
    source.with_suffix(".json").write_text('{"partitions": []}')
    os.utime(source.with_suffix(".json"), ns=(1, 1))
    assert cache.name(str(source)) not in (None, first)
    assert cache.name(str(tmp_path / "absent")) is None
    assert DataCache(None).name(str(source)) is None  # no folder, no entries


def test_a_torn_entry_is_read_as_none(tmp_path: Path) -> None:
    source = tmp_path / "partitions"
    source.with_suffix(".json").write_text("{}")
    cache = DataCache(tmp_path / "cache")
    name = cache.name(str(source))
    assert name is not None
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / name).write_bytes(b"\xff\x00 not marshal")
    assert cache.load(name) is None
