"""PostgreSQL from the system's packages (Debian: postgresql), one cluster per checkout.

For development and tests only: every local user may connect as any role without a password
(`trust` on the Unix socket and on 127.0.0.1), and the server listens on nothing else.
The application connects as `postgresql://speurder@127.0.0.1:<postgres_port>/speurder`.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

from search_api.services.base import ProcessService, ServiceError

PG_ROOT = Path("/usr/lib/postgresql")
SERVICE_USER = "postgres"  # created by the Debian package
DATABASE = ROLE = "speurder"


class PostgresService(ProcessService):
    name = "postgres"

    @property
    def port(self) -> int:
        return self.settings.postgres_port

    @property
    def state(self) -> Path:
        return self.ctx.state_dir(self.name)

    @property
    def data(self) -> Path:
        return self.state / "data"

    @property
    def sockets(self) -> Path:
        return self.state / "run"

    def bin_dir(self) -> Path:
        # A cluster runs only on the major version that created it; a new one gets the newest installed.
        version_file = self.data / "PG_VERSION"
        if version_file.exists():
            major = version_file.read_text().strip()
            if not (PG_ROOT / major / "bin" / "postgres").exists():
                raise ServiceError(
                    f"postgres: {self.data} needs PostgreSQL {major}, which is not installed "
                    f"(Debian: apt-get install postgresql-{major})"
                )
            return PG_ROOT / major / "bin"
        installed = sorted(PG_ROOT.glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
        if not installed:
            raise ServiceError("postgres: PostgreSQL is not installed (Debian: apt-get install postgresql)")
        return installed[-1].parent

    def run_as(self) -> str | None:
        # PostgreSQL refuses to run as root.
        return SERVICE_USER if os.geteuid() == 0 else None

    def _as_owner(self, cmd: list[str]) -> list[str]:
        user = self.run_as()
        return ["runuser", "-u", user, "--", *cmd] if user else cmd

    def provision(self) -> None:
        self.sockets.mkdir(exist_ok=True)
        if self.run_as():
            subprocess.run(["chown", "-R", f"{SERVICE_USER}:{SERVICE_USER}", str(self.state)], check=True)
            # The service user must reach the state folder, e.g. through /root (mode 700): grant
            # search (x) on the parent folders only, never the right to list them.
            for parent in self.state.parents:
                mode = parent.stat().st_mode
                if not mode & stat.S_IXOTH:
                    parent.chmod(mode | stat.S_IXOTH)
        if not (self.data / "PG_VERSION").exists():
            self._initdb()

    def _initdb(self) -> None:
        cmd = [
            str(self.bin_dir() / "initdb"),
            "-D",
            str(self.data),
            "--username=postgres",
            "--auth=trust",
            # C.UTF-8 sorts the same on every machine and needs no generated locales.
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
        result = subprocess.run(self._as_owner(cmd), capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = " | ".join((result.stdout + result.stderr).strip().splitlines()[-3:])
            raise ServiceError(f"postgres: initdb failed: {tail}")

    def command(self) -> list[str]:
        return [
            str(self.bin_dir() / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-c",
            "listen_addresses=127.0.0.1",
            # Not /var/run/postgresql: that belongs to the system cluster and may not exist.
            "-c",
            f"unix_socket_directories={self.sockets}",
        ]

    def healthy(self) -> bool:
        # The port opens before the server accepts sessions (it answers "starting up" meanwhile).
        cmd = [str(self.bin_dir() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(cmd, check=False, timeout=10).returncode == 0

    def up(self) -> str:
        message = super().up()
        self._ensure_database()
        return message

    def down(self) -> str:
        if self.pid() is None:
            return super().down()
        # A "fast" shutdown ends open sessions and checkpoints. The plain SIGTERM that the base class
        # sends is a "smart" one that waits for clients, and runuser kills its child 2 s after a SIGTERM.
        pg_ctl = [str(self.bin_dir() / "pg_ctl"), "stop", "-D", str(self.data), "-m", "fast", "-w"]
        subprocess.run(self._as_owner(pg_ctl), capture_output=True, check=False)
        super().down()  # the runuser wrapper, if still there, and the pid file
        return f"{self.name}: stopped"

    def _ensure_database(self) -> None:
        """The application's role and database, created once; the role owns the database."""
        import psycopg  # the one place that needs it; keeps `status` working without the driver

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROLE]).fetchone():
                conn.execute(f"CREATE ROLE {ROLE} LOGIN")
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
                conn.execute(f"CREATE DATABASE {DATABASE} OWNER {ROLE}")
