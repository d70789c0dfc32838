"""The render lease: one render per missing thumbnail, waiters served, dead holders taken over."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from botocore.stub import ANY
from thumbnailer import singleflight, storage
from thumbnailer.naming import parse_thumbnail_key
from thumbnailer.settings import Settings

from tests.unit.conftest import S3Stub

THUMBS = "unit-thumbs"
SETTINGS = Settings("unit-source", THUMBS, 50 * 1024 * 1024, 100_000_000)
KEY = "pics/land_200x200.jpg"
LEASE = KEY + ".rendering"


@dataclass
class Clock:
    """Time that passes only when the code sleeps, so waits are counted, not spent."""

    now: float = 1_000_000.0
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class Probe:
    """``ready``: None until the ``appears_at``-th look, then the stored answer."""

    appears_at: int | None = None
    looks: int = 0
    renders: int = 0

    def ready(self) -> object | None:
        self.looks += 1
        return "stored" if self.appears_at is not None and self.looks >= self.appears_at else None

    def render(self) -> object:
        self.renders += 1
        return "rendered"


def once(probe: Probe, clock: Clock) -> object | None:
    return singleflight.once(SETTINGS, KEY, probe.render, probe.ready, clock=clock, sleep=clock.sleep)


def lost(s3: S3Stub) -> None:
    s3.error("put_object", "PreconditionFailed", 412,
             {"Bucket": THUMBS, "Key": LEASE, "Body": ANY, "ContentType": "text/plain",
              "Metadata": {"expires": ANY}, "Tagging": "thumbflow-lease=yes", "IfNoneMatch": "*"})


def held(s3: S3Stub, expires: float) -> None:
    s3.head(THUMBS, LEASE, etag="theirs", size=0, metadata={"expires": f"{expires:.3f}"},
            content_type="text/plain")


def test_the_winner_renders_and_drops_its_lease(s3: S3Stub) -> None:
    probe, clock = Probe(), Clock()
    s3.lease(THUMBS, KEY, etag="mine")
    s3.lease_dropped(THUMBS, KEY, etag="mine")
    assert once(probe, clock) == "rendered"
    (put,) = s3.made("PutObject")
    assert float(put["Metadata"]["expires"]) == clock.now + singleflight.LEASE_SECONDS
    assert (probe.renders, probe.looks, clock.slept) == (1, 1, [])


def test_the_winner_serves_what_a_previous_holder_stored_without_rendering(s3: S3Stub) -> None:
    """Missed, then the previous holder stored it and dropped its lease before this one took it."""
    probe, clock = Probe(appears_at=1), Clock()
    s3.lease(THUMBS, KEY)
    s3.lease_dropped(THUMBS, KEY)
    assert once(probe, clock) == "stored"
    assert probe.renders == 0


def test_the_lease_is_dropped_when_the_render_fails(s3: S3Stub) -> None:
    s3.lease(THUMBS, KEY)
    s3.lease_dropped(THUMBS, KEY)

    def broken() -> object:
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError, match="render failed"):
        singleflight.once(SETTINGS, KEY, broken, lambda: None)


def test_a_waiter_serves_the_holders_thumbnail_and_never_renders(s3: S3Stub) -> None:
    probe, clock = Probe(appears_at=3), Clock()
    lost(s3)
    held(s3, clock.now + 20)  # after the first look
    held(s3, clock.now + 20)  # after the second
    assert once(probe, clock) == "stored"
    assert probe.renders == 0 and len(clock.slept) == 3


def test_a_dead_holders_lease_is_taken_over_with_if_match(s3: S3Stub) -> None:
    probe, clock = Probe(), Clock()
    lost(s3)
    held(s3, clock.now - 1)  # expired: its holder outlived the function's timeout
    s3.stubber.add_response("put_object", {"ETag": '"mine"'}, {
        "Bucket": THUMBS, "Key": LEASE, "Body": ANY, "ContentType": "text/plain",
        "Metadata": {"expires": ANY}, "Tagging": "thumbflow-lease=yes", "IfMatch": '"theirs"'})
    s3.lease_dropped(THUMBS, KEY, etag="mine")
    assert once(probe, clock) == "rendered"
    assert probe.renders == 1


def test_a_holder_that_stopped_without_storing_lets_the_next_render(s3: S3Stub) -> None:
    probe, clock = Probe(), Clock()
    lost(s3)
    s3.error("head_object", "404", 404, {"Bucket": THUMBS, "Key": LEASE})  # lease dropped, nothing stored
    s3.lease(THUMBS, KEY)
    s3.lease_dropped(THUMBS, KEY)
    assert once(probe, clock) == "rendered"
    assert probe.renders == 1


def test_two_takers_of_a_dead_lease_leave_one_rendering(s3: S3Stub) -> None:
    """The If-Match takeover lost to another waiter's: this one goes back to waiting."""
    probe, clock = Probe(appears_at=2), Clock()
    lost(s3)
    held(s3, clock.now - 1)
    s3.error("put_object", "PreconditionFailed", 412)
    assert once(probe, clock) == "stored"
    assert probe.renders == 0


def test_a_waiter_gives_up_after_the_wait_bound(s3: S3Stub) -> None:
    probe, clock = Probe(), Clock()
    lost(s3)
    polls = round(singleflight.WAIT_SECONDS / singleflight.WAIT_STEP_SECONDS)
    for _ in range(polls):
        held(s3, clock.now + 10_000)  # alive the whole time: never taken over
    assert once(probe, clock) is None
    assert probe.renders == 0
    assert sum(clock.slept) == pytest.approx(singleflight.WAIT_SECONDS)


def test_the_wait_is_bounded_by_the_clock_when_each_look_takes_time(
    s3: S3Stub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each step also asks S3 twice: a waiter still gives up after WAIT_SECONDS of real time,
    well inside the function's timeout, instead of after that many steps of sleep."""
    clock = Clock()
    heads: list[str] = []

    def slow_head(bucket: str, key: str, *args: object, **kwargs: object) -> storage.ObjectInfo:
        clock.now += 0.15  # a HEAD that takes 150 ms
        heads.append(key)
        return storage.ObjectInfo(bucket, key, "theirs", 32, metadata={"expires": f"{clock.now + 1e4}"})

    class Slow(Probe):
        def ready(self) -> object | None:
            clock.now += 0.15  # and a GET that takes as long
            return super().ready()

    monkeypatch.setattr(singleflight.storage, "head", slow_head)
    lost(s3)
    start = clock.now
    assert once(Slow(), clock) is None
    steps = round(singleflight.WAIT_SECONDS / singleflight.WAIT_STEP_SECONDS)
    assert clock.now - start <= singleflight.WAIT_SECONDS + 0.5  # one step past the deadline at most
    assert 0 < len(heads) < steps / 3  # 0.4 s a step: about 50 steps, not 200


def test_each_lease_is_its_own_so_if_match_tells_them_apart(s3: S3Stub) -> None:
    """Two leases' bodies differ, so their ETags do (an empty body would give every lease the
    same ETag, and If-Match would not tell a taken-over lease from the one it replaced)."""
    for etag in ("a", "b"):
        s3.lease(THUMBS, KEY, etag=etag)
        s3.lease_dropped(THUMBS, KEY, etag=etag)
        singleflight.once(SETTINGS, KEY, Probe().render, Probe().ready, clock=Clock(), sleep=Clock().sleep)
    first, second = (p["Body"] for p in s3.made("PutObject"))
    assert first != second and len(first) >= 16


def test_a_key_with_no_room_for_a_lease_renders_without_one(s3: S3Stub) -> None:
    key = "k" * (1024 - len(".jpg") - 4) + ".jpg"  # a thumbnail key within S3's 1,024 bytes
    probe = Probe()
    done = singleflight.once(SETTINGS, key, probe.render, probe.ready, clock=Clock(), sleep=Clock().sleep)
    assert done == "rendered"
    assert s3.calls == []


@pytest.mark.parametrize("expires", ["", "soon", "1e400x"])
def test_an_unreadable_expiry_counts_as_expired(s3: S3Stub, expires: str) -> None:
    """A lease nobody can date is treated as dead, so it never blocks the URL for good."""
    probe, clock = Probe(), Clock()
    lost(s3)
    s3.head(THUMBS, LEASE, etag="theirs", size=0, metadata={"expires": expires}, content_type="text/plain")
    s3.stubber.add_response("put_object", {"ETag": '"mine"'})
    s3.lease_dropped(THUMBS, KEY, etag="mine")
    assert once(probe, clock) == "rendered"


@pytest.mark.parametrize("key", [KEY, "a/b.c/x_1x1.webp", "deep/path/photo_4096x4096.avif"])
def test_the_lease_name_is_never_a_thumbnail(key: str) -> None:
    lease = singleflight.lease_key(key)
    assert parse_thumbnail_key(lease) is None
