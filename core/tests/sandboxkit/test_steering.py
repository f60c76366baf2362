"""The steering endpoints every sandbox serves under ``/__sandbox__/`` (clock, used invoice,
state), on a real loopback server."""

from __future__ import annotations

from datetime import timedelta

import httpx
from starlette.applications import Starlette

from fapiao.sandboxkit import SandboxClock, serve, steering_routes


def test_clock_use_and_state_answer_the_same_way_for_every_sandbox() -> None:
    clock = SandboxClock()
    used: list[str] = []

    def mark_used(number: str) -> None:
        if number != "26310000000000000001":
            raise KeyError(number)
        used.append(number)

    app = Starlette(
        routes=steering_routes(clock, mark_used=mark_used, snapshot=lambda: {"used": len(used)})
    )
    with serve(app) as server:
        base = f"{server.base_url}/__sandbox__"
        before = clock.now()
        now = httpx.get(f"{base}/clock").json()["now"]
        assert now >= before.isoformat()
        moved = httpx.post(f"{base}/clock", json={"advance_seconds": 73 * 3600})
        assert moved.status_code == 200
        assert clock.now() - before >= timedelta(hours=73)
        assert moved.json()["now"] >= (before + timedelta(hours=73)).isoformat()
        assert httpx.post(f"{base}/clock", json={"advance_seconds": -1}).status_code == 422
        answer = httpx.post(f"{base}/invoices/26310000000000000001/use")
        assert answer.json() == {"invoiceNo": "26310000000000000001", "used": True}
        missing = httpx.post(f"{base}/invoices/42/use")
        assert missing.status_code == 404 and "42" in missing.json()["error"]
        assert httpx.get(f"{base}/state").json() == {"used": 1}
