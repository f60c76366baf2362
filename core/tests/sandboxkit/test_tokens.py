"""The tokens a sandbox grants (``SandboxTokens``): invalid, expired, rotating refresh tokens."""

from __future__ import annotations

from datetime import timedelta

from fapiao.sandboxkit import SandboxClock, SandboxTokens


def test_access_tokens_are_judged_per_app_and_expire_on_the_given_clock() -> None:
    clock = SandboxClock()
    tokens = SandboxTokens(clock.now)
    token = tokens.grant("app", 60)
    assert tokens.check(token.value, "app") is None
    assert tokens.check(token.value, "other app") == "invalid"
    assert tokens.check("never granted", "app") == "invalid" and tokens.check(None, "app")
    clock.advance(timedelta(seconds=60))
    assert tokens.check(token.value, "app") == "expired"
    fresh = tokens.grant("app", 60)
    assert tokens.expire_all() == 2 and tokens.check(fresh.value, "app") == "expired"


def test_a_refresh_token_works_once_within_its_own_time() -> None:
    clock = SandboxClock()
    tokens = SandboxTokens(clock.now)
    first = tokens.grant("app", 60, refresh_ttl=3600)
    assert first.refresh and first.refresh != first.value
    assert tokens.redeem(first.refresh, "other app") == "invalid"
    assert tokens.redeem(first.refresh, "app") is None
    assert tokens.redeem(first.refresh, "app") == "invalid"  # rotated: used once
    second = tokens.grant("app", 60, refresh_ttl=3600)
    assert second.refresh is not None
    clock.advance(timedelta(hours=1))
    assert tokens.redeem(second.refresh, "app") == "expired"
    assert tokens.grant("app", 60).refresh is None  # no refresh token unless asked for
