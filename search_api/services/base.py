"""A local service as a background process: provision once, start, wait until healthy, stop."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from ingest.settings import Settings


class ServiceError(RuntimeError):
    """A one-line explanation of what went wrong and what to do about it."""


@dataclass(frozen=True)
class ServiceContext:
    settings: Settings

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir.resolve()

    @property
    def cache_dir(self) -> Path:
        return self.settings.cache_dir.expanduser().resolve()

    def state_dir(self, name: str) -> Path:
        path = self.data_dir / "services" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def log_path(self, name: str) -> Path:
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        return logs / f"{name}.log"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); read its state to be sure.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


# The servers this process started. A server outlives our interest in it, so its Popen is kept rather than
# collected (collecting the Popen of a running child warns, and fails the test that started it); one that
# has ended is reaped when a server is started or stopped, so it never lingers as a zombie.
_STARTED: list[subprocess.Popen[bytes]] = []


def _reap_ended() -> None:
    _STARTED[:] = [proc for proc in _STARTED if proc.poll() is None]


@atexit.register
def _leave_running() -> None:
    """The servers go on after this process ends (that is what starting them was for): their Popens are
    let go at exit without the warning that a running child's Popen gives."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"subprocess \d+ is still running", ResourceWarning)
        _STARTED.clear()  # collected here, while the warnings machinery is whole, not during shutdown


class ProcessService:
    """One server process we own: its pid file, its log, its port."""

    name: str = ""
    start_timeout: float = 120.0

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.settings = ctx.settings

    # -- to be provided by each service ---------------------------------------------------
    @property
    def port(self) -> int:
        raise NotImplementedError

    def provision(self) -> None:
        """Download or prepare what the service needs; idempotent and cached."""

    def command(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return {}

    def healthy(self) -> bool:
        return port_open(self.port)

    def cwd(self) -> Path | None:
        return None

    def run_as(self) -> str | None:
        """A system user to run the process as (PostgreSQL refuses root)."""
        return None

    # -- shared behaviour ---------------------------------------------------------------------
    @property
    def pid_file(self) -> Path:
        return self.ctx.state_dir(self.name) / "pid"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def status(self) -> str:
        pid = self.pid()
        if pid and self.healthy():
            return f"running (pid {pid}, port {self.port})"
        if pid:
            return f"starting or unhealthy (pid {pid}, port {self.port})"
        if port_open(self.port):
            return f"port {self.port} is held by a program Speurder did not start"
        return "stopped"

    def up(self) -> str:
        if self.pid() and self.healthy():
            return f"{self.name}: already running on port {self.port}"
        if not self.pid() and port_open(self.port):
            raise ServiceError(
                f"{self.name}: port {self.port} is already in use by another program; "
                f"stop that program or configure another port for {self.name}"
            )
        self.provision()
        if not self.pid():
            self._spawn()
        self._wait_healthy()
        return f"{self.name}: running on 127.0.0.1:{self.port}"

    def _spawn(self) -> None:
        cmd = self.command()
        user = self.run_as()
        if user and os.geteuid() == 0:
            cmd = ["runuser", "-u", user, "--", *cmd]
        env = {**os.environ, **self.environment()}
        _reap_ended()
        # The server writes to its own copy of the log's descriptor; ours is closed once it has started.
        with self.ctx.log_path(self.name).open("ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.cwd(),
                env=env,
                start_new_session=True,
            )
        _STARTED.append(proc)
        self.pid_file.write_text(str(proc.pid))

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            if not self.pid():
                raise ServiceError(
                    f"{self.name}: the process ended during start-up; see {self.ctx.log_path(self.name)}"
                    f" (last line: {self._last_log_line()})"
                )
            time.sleep(0.5)
        raise ServiceError(
            f"{self.name}: not healthy after {self.start_timeout:.0f} s; see {self.ctx.log_path(self.name)}"
        )

    def _last_log_line(self) -> str:
        try:
            lines = self.ctx.log_path(self.name).read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""

    def down(self) -> str:
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return f"{self.name}: not running"
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.2)
        if pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
        _reap_ended()
        self.pid_file.unlink(missing_ok=True)
        return f"{self.name}: stopped"


class JarService(ProcessService):
    """A Java server shipped as one jar from Maven Central, kept in the download cache."""

    jar_name: str = ""

    @property
    def state(self) -> Path:
        return self.ctx.state_dir(self.name)

    @property
    def jar(self) -> Path:
        return self.ctx.cache_dir / "downloads" / self.jar_name
