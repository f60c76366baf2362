"""The sandbox clock: wall time until moved, then moved by exactly what was asked, never back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fapiao.sandboxkit import SandboxClock


def test_follows_wall_time_until_moved() -> None:
    clock = SandboxClock()
    before = datetime.now(UTC)
    now = clock.now()
    after = datetime.now(UTC)
    assert before <= now <= after
    assert now.tzinfo is UTC


def test_advance_moves_forward_and_returns_the_new_time() -> None:
    clock = SandboxClock()
    before = datetime.now(UTC)
    moved = clock.advance(timedelta(hours=72, minutes=1))
    after = datetime.now(UTC)
    assert (
        before + timedelta(hours=72, minutes=1) <= moved <= after + timedelta(hours=72, minutes=1)
    )
    clock.advance(timedelta(days=1))
    assert clock.now() - datetime.now(UTC) > timedelta(hours=96)


def test_time_never_goes_back() -> None:
    clock = SandboxClock()
    clock.advance(timedelta(hours=1))
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(timedelta(seconds=-1))
    assert clock.now() - datetime.now(UTC) > timedelta(minutes=59)
