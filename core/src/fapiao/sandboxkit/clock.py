"""A sandbox's business clock: wall time plus an offset that tests move forward.

Sandboxes keep rules that take hours or days (the 72-hour window of a 红字确认单, token
expiry); tests cannot wait for them, so they jump the sandbox's clock instead. Time only
moves forward: a platform never sees it go back, and a sandbox must not be able to show
what the real one cannot. Thread-safe, because the server thread reads it while a test
thread moves it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

__all__ = ["SandboxClock"]


class SandboxClock:
    """UTC wall time plus an offset that only grows."""

    def __init__(self) -> None:
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time; a negative ``delta`` is refused."""
        if delta < timedelta():
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += delta
        return self.now()
