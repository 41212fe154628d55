"""Sliding-window rate limits per key (user, client address) for sign-in and search."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many requests; try again in {retry_after} s")


class RateLimiter:
    """At most `limit` events per `window` seconds per key; in memory, per web process."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raise RateLimited if the key has used up its events; count nothing."""
        self._count(key, add=False)

    def hit(self, key: str) -> None:
        """Count one event, raising RateLimited instead when the key has used them all up."""
        self._count(key, add=True)

    def _count(self, key: str, *, add: bool) -> None:
        now = time.monotonic()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                raise RateLimited(int(events[0] + self.window - now) + 1)
            if add:
                events.append(now)
