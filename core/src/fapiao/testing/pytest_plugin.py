"""pytest plugin (entry point ``pytest11``) that offers fapiao's fixtures to every test run.

Loaded by every pytest run in any environment where fapiao is installed, so it imports
nothing heavy at module level: the receiver's server (uvicorn, starlette) is imported only
when a test asks for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from fapiao.testing.harness import CallbackReceiver


@pytest.fixture(scope="session")
def callback_receiver_server() -> Iterator[CallbackReceiver]:
    """One loopback callback receiver for the whole session (cheap to share)."""
    from fapiao.testing.harness import CallbackReceiver

    receiver = CallbackReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def callback_receiver(callback_receiver_server: CallbackReceiver) -> CallbackReceiver:
    """A real HTTP server on loopback recording every request; its ``url`` goes into a
    provider's ``callback_url``. Cleared before each test."""
    callback_receiver_server.clear()
    return callback_receiver_server
