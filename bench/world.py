"""The benchmarks' shared world: N generated records in their own index prefix, and the real app on it.

`ensure_world` builds the world once (the seeded generator, then `ingest_file` on every export, as B1's
project arm does) and reuses it while a marker says it holds the same N, seed and generator: a million
records take the best part of an hour to make. `api_server` runs the web process the way `speurder web`
does, in a child process on a free loopback port, signs a bench user in through the real form and hands
back a client with the session cookie. Used by B3 (search) and B4 (graph).

A world's prefix must not begin with another prefix and a dash (`bench-world` and `bench-world-small`):
the index templates would overlap and dropping one would drop the other; `world_prefix(n)` names them
apart, and `ensure_world` refuses a prefix that clashes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError

from ingest.generate import generate
from ingest.index.admin import drop_all
from ingest.records import index_mapping
from ingest.settings import Settings, env_value
from ingest.sources.mapping import load_mapping, mapping_path
from ingest.sources.run import ingest_file

ROOT = Path(__file__).resolve().parent.parent
FULL = 1_000_000
SAMPLES = 20  # values of each sort drawn from the index for queries
PASSWORD = "bench world password, not a secret"  # noqa: S105 - a throwaway user of a throwaway database
# Every API request states a reason, so registers that demand one (`ang`) are searched like the others.
JUSTIFICATION = "benchmark: load test on generated data"
BODY_LOG = "speurder.search.body"
BODY_LOG_ENV = "SPEURDER_BENCH_BODY_LOG"  # the file the server writes each search body to, when set
Log = Callable[[str], None]


class WorldError(RuntimeError):
    """The world is not what a benchmark needs (a short count, a clashing prefix, a server that died)."""


def world_prefix(n: int) -> str:
    """`bench-world` for the million, `bench-world20000` for another N: prefixes that never overlap."""
    return "bench-world" if n == FULL else f"bench-world{n}"


@dataclass
class World:
    """What is in the index, with values drawn from it for queries (nothing about it is hard-coded)."""

    prefix: str
    n: int
    seed: int
    registers: list[str]
    kinds: list[str]
    plates: list[str] = field(default_factory=list)  # as indexed: "1AHY589"
    nrns: list[str] = field(default_factory=list)  # eleven digits
    names: list[str] = field(default_factory=list)
    ibans: list[str] = field(default_factory=list)  # compact: "BE71096123456769"
    phones: list[str] = field(default_factory=list)  # E.164: "+32487662322"
    entity_ids: list[str] = field(default_factory=list)  # "person:nrn:…", "vehicle:BE:…", …
    words: list[str] = field(default_factory=list)  # single words of narratives
    phrases: list[str] = field(default_factory=list)  # two or three words of one narrative
    named_kinds: list[tuple[str, str]] = field(default_factory=list)  # (a name, the kind of its record)
    reused: bool = False
    build_seconds: float = 0.0


# -- the index ---------------------------------------------------------------------------------------
def fingerprint() -> str:
    """What makes two worlds of the same N and seed the same: the generator, the mappings, the index."""
    digest = hashlib.sha256(json.dumps(index_mapping(), sort_keys=True).encode())
    folders = (ROOT / "ingest" / "generate", ROOT / "ingest" / "sources" / "mappings")
    for path in sorted(p for folder in folders for p in folder.iterdir() if p.is_file()):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def marker_index(prefix: str) -> str:
    # A dot, not a dash: `<prefix>-*` would give the marker the records' closed mapping and template.
    return f"{prefix}.world"


def _read_marker(client: OpenSearch, prefix: str) -> dict[str, Any] | None:
    try:
        return dict(client.get(index=marker_index(prefix), id="world")["_source"])
    except NotFoundError:
        return None


def _count(client: OpenSearch, prefix: str) -> int:
    if not client.indices.exists_alias(name=prefix):
        return 0
    return int(client.count(index=prefix)["count"])


def check_prefix(client: OpenSearch, prefix: str) -> None:
    """Refuse a prefix whose templates would overlap another's (`a-*` and `a-b-*` at one priority)."""
    templates = client.indices.get_index_template().get("index_templates", [])
    for template in templates:
        other = template["name"].removesuffix("-template")  # a prefix's general template (admin.py)
        if other == template["name"] or other == prefix:
            continue
        if other.startswith(f"{prefix}-"):
            raise WorldError(f"prefix {prefix!r} would also cover the indices of the prefix {other!r}")
        if prefix.startswith(f"{other}-"):
            raise WorldError(f"prefix {prefix!r} lies under the existing prefix {other!r}")


@contextlib.contextmanager
def _locked(prefix: str) -> Iterator[None]:
    """One builder per prefix on this machine: B3 and B4 started together build the world once."""
    path = Path(tempfile.gettempdir()) / f"speurder-{prefix}.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_world(
    client: OpenSearch, *, prefix: str = "bench-world", n: int = FULL, seed: int = 1, log: Log
) -> World:
    """The world of N records of this seed under `prefix`: reused if it is there, else built anew."""
    with _locked(prefix):
        wanted = {"n": n, "seed": seed, "fingerprint": fingerprint()}
        marker = _read_marker(client, prefix)
        if marker and {key: marker.get(key) for key in wanted} == wanted and _count(client, prefix) == n:
            log(f"world {prefix}: {n:,} records of seed {seed} already there (built {marker['built_at']})")
            world = sample_world(client, prefix, n, seed)
            world.reused, world.build_seconds = True, float(marker.get("seconds", 0.0))
            return world
        check_prefix(client, prefix)
        seconds = build_world(client, prefix, n, seed, log)
        # The marker goes in last: a build that stopped half-way is never taken for a world.
        client.index(
            index=marker_index(prefix),
            id="world",
            body=wanted | {"built_at": datetime.now(UTC).isoformat(timespec="seconds"), "seconds": seconds},
            refresh=True,
        )
    world = sample_world(client, prefix, n, seed)
    world.build_seconds = seconds
    return world


def drop_world(client: OpenSearch, prefix: str) -> None:
    client.indices.delete(index=marker_index(prefix), ignore_unavailable=True)
    drop_all(client, prefix)


def build_world(client: OpenSearch, prefix: str, n: int, seed: int, log: Log) -> float:
    started = time.perf_counter()
    drop_world(client, prefix)
    now = datetime.now(UTC).replace(microsecond=0)
    with tempfile.TemporaryDirectory(prefix="speurder-world-") as folder:
        report = generate(Path(folder), seed, n)
        log(f"world {prefix}: generated {report.rows:,} records ({time.perf_counter() - started:.0f} s)")
        for file in report.files:
            mapping = load_mapping(mapping_path(file.register))
            ingested = ingest_file(client, prefix, mapping, file.path, now=now)
            if not ingested.ok:
                raise WorldError(f"{file.path.name}: {ingested.counts()} {ingested.error or ''}")
            elapsed = time.perf_counter() - started
            log(f"world {prefix}: {file.register} {ingested.indexed:,} indexed ({elapsed:.0f} s)")
    client.indices.refresh(index=prefix)
    count = _count(client, prefix)
    if count != n:
        raise WorldError(f"world {prefix}: _count is {count} after refresh, not {n}")
    return round(time.perf_counter() - started, 1)


# -- values for queries ------------------------------------------------------------------------------
def _random_records(
    client: OpenSearch, prefix: str, seed: int, must: dict[str, Any], fields: list[str], size: int
) -> list[dict[str, Any]]:
    """A seeded random sample of the records matching `must`: typical values, not the most frequent."""
    body = {
        "query": {
            "function_score": {
                "query": must,
                "random_score": {"seed": seed, "field": "id"},
                "boost_mode": "replace",
            }
        },
        "size": size,
        "_source": fields,
    }
    return [hit["_source"] for hit in client.search(index=prefix, body=body)["hits"]["hits"]]


def _exists(field: str) -> dict[str, Any]:
    return {"exists": {"field": field}}


def _distinct(values: Iterator[str] | list[str], size: int = SAMPLES) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))[:size]


def sample_world(client: OpenSearch, prefix: str, n: int, seed: int) -> World:
    aggs = {
        "register": {"terms": {"field": "register", "size": 100}},
        "kind": {"terms": {"field": "kind", "size": 100}},
    }
    buckets = client.search(index=prefix, body={"size": 0, "aggs": aggs})["aggregations"]
    world = World(
        prefix,
        n,
        seed,
        registers=sorted(bucket["key"] for bucket in buckets["register"]["buckets"]),
        kinds=sorted(bucket["key"] for bucket in buckets["kind"]["buckets"]),
    )

    def sample(field: str, fields: list[str], size: int = SAMPLES * 3) -> list[dict[str, Any]]:
        return _random_records(client, prefix, seed, _exists(field), fields, size)

    vehicles = sample("vehicles.plate", ["vehicles"])
    world.plates = _distinct(v.get("plate", "") for s in vehicles for v in s["vehicles"])
    people = sample("persons.national_number", ["persons", "kind"])
    world.nrns = _distinct(p.get("national_number", "") for s in people for p in s["persons"])
    named = sample("persons.name", ["persons", "kind"])
    world.names = _distinct(p.get("name", "") for s in named for p in s["persons"])
    world.named_kinds = list(
        dict.fromkeys((p["name"], s["kind"]) for s in named for p in s["persons"] if p.get("name"))
    )[:SAMPLES]
    world.ibans = _distinct(i for s in sample("ibans", ["ibans"]) for i in s["ibans"])
    world.phones = _distinct(p for s in sample("phones", ["phones"]) for p in s["phones"])
    world.entity_ids = _distinct(e for s in sample("entity_ids", ["entity_ids"]) for e in s["entity_ids"])
    rng = random.Random(seed)  # noqa: S311 - a reproducible pick of words, not a secret
    texts = [str(s.get("text", "")) for s in sample("text", ["text"])]
    words_of = [_distinct(re.findall(r"[^\W\d_]{6,}", text.lower()), 1000) for text in texts]
    world.words = _distinct(word for words in words_of for word in words[:2])
    for words in words_of:
        if len(words) >= 3:
            world.phrases.append(" ".join(rng.sample(words, rng.choice((2, 3)))))
    world.phrases = _distinct(world.phrases)
    return world


# -- the web process ---------------------------------------------------------------------------------
@dataclass
class ApiServer:
    """The app in its own process, and a signed-in client (keep-alive, session cookie, a reason)."""

    base_url: str
    client: httpx.Client
    user: str
    settings: Settings
    pid: int
    folder: Path
    body_log: Path | None = None
    registers: list[str] = field(default_factory=list)

    def session(self, **options: Any) -> httpx.Client:
        """Another client with the same session: one per worker thread, each its own connection."""
        options.setdefault("timeout", 60)
        return httpx.Client(
            base_url=self.base_url,
            cookies=self.client.cookies,
            headers={"X-Justification": JUSTIFICATION},
            **options,
        )

    def bodies(self) -> list[dict[str, Any]]:
        """Every search the server sent so far, as logged: {"index", "params", "body"}, in order."""
        if self.body_log is None:
            raise WorldError("this server was started without log_bodies=True")
        lines = self.body_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _postgres_databases(settings: Settings) -> Iterator[dict[str, str]]:
    """Fresh operational and audit databases on the running PostgreSQL, as the production profile has."""
    import psycopg

    tag = uuid.uuid4().hex[:8]
    admin = f"postgresql://postgres@127.0.0.1:{settings.postgres_port}/postgres"
    names = {"speurder": f"speurder_bench_{tag}", "speurder_audit": f"speurder_bench_audit_{tag}"}
    with psycopg.connect(admin, autocommit=True) as conn:
        for owner, name in names.items():
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (owner,)).fetchone():
                conn.execute(f'CREATE ROLE "{owner}" LOGIN')
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
    url = f"postgresql+psycopg://{{}}@127.0.0.1:{settings.postgres_port}/{{}}"
    try:
        yield {
            "database_url": url.format("speurder", names["speurder"]),
            "audit_database_url": url.format("speurder_audit", names["speurder_audit"]),
        }
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def api_server(
    prefix: str,
    *,
    profile: str = "embedded",
    log_bodies: bool = False,
    log: Log | None = None,
    startup_seconds: float = 90,
    **overrides: object,
) -> Iterator[ApiServer]:
    """`speurder web` on `prefix`, in a child process on a free loopback port, with the search rate
    limit raised out of the way; a fresh bench user holds every register and the highest clearance.

    profile: "embedded" (SQLite files in a temporary folder, the default deployment) or "production"
    (fresh PostgreSQL databases, dropped after). `log_bodies` writes each search body the app sends
    to OpenSearch to a file (`ApiServer.bodies()`); it costs a serialisation per search, so timing
    runs leave it off. Other keyword arguments are Settings fields (`searches_per_minute=…`)."""
    say = log or (lambda message: print(message, file=sys.stderr, flush=True))
    base = Settings()
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="speurder-bench-api-")))
        values: dict[str, object] = {
            "index_prefix": prefix,
            "web_host": "127.0.0.1",
            "web_port": free_port(),
            "searches_per_minute": 1_000_000_000,  # the limiter still counts: its cost stays measured
            "redis_embedded": os.environ.get("SPEURDER_REDIS_EMBEDDED", "false") == "true",
        }
        if profile == "embedded":
            values["database_url"] = f"sqlite:///{folder / 'speurder.db'}"
            values["audit_database_url"] = f"sqlite:///{folder / 'audit.db'}"
        elif profile == "production":
            values.update(stack.enter_context(_postgres_databases(base)))
        else:
            raise ValueError(f"profile is embedded or production, not {profile!r}")
        values.update(overrides)
        settings = base.model_copy(update=values)
        env = dict(os.environ)
        env.update({f"SPEURDER_{key.upper()}": env_value(value) for key, value in values.items()})
        body_log = folder / "bodies.jsonl" if log_bodies else None
        env.pop(BODY_LOG_ENV, None)
        if body_log is not None:
            env[BODY_LOG_ENV] = str(body_log)
        server_log = folder / "server.log"
        with server_log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.world"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT
            )
        stack.callback(_stop, process)
        base_url = f"http://127.0.0.1:{settings.web_port}"
        _wait_until_up(process, base_url, server_log, startup_seconds)
        user = f"bench-{uuid.uuid4().hex[:8]}"
        registers = _add_bench_user(settings, user, prefix)
        client = stack.enter_context(
            httpx.Client(base_url=base_url, headers={"X-Justification": JUSTIFICATION}, timeout=60)
        )
        _sign_in(client, user)
        say(f"api server {process.pid} on {base_url} ({profile}): user {user}, {len(registers)} registers")
        yield ApiServer(base_url, client, user, settings, process.pid, folder, body_log, registers)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, server_log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            tail = server_log.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise WorldError(f"the api server did not come up on {base_url}:\n{tail}")
        try:
            if httpx.get(f"{base_url}/login", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)


def _add_bench_user(settings: Settings, user: str, prefix: str) -> list[str]:
    """Every register the packaged mappings know and the index holds, at the highest clearance."""
    from case_store.db import make_engine, make_sessionmaker, transaction
    from case_store.users import add_user, grant_register
    from ingest.index.client import make_search_client

    registers = {load_mapping(path).register_name for path in mapping_path("islp").parent.glob("*.yaml")}
    search = make_search_client(settings)
    try:
        if search.indices.exists_alias(name=prefix):
            aggs = {"register": {"terms": {"field": "register", "size": 1000}}}
            answer = search.search(index=prefix, body={"size": 0, "aggs": aggs})
            registers |= {bucket["key"] for bucket in answer["aggregations"]["register"]["buckets"]}
    finally:
        search.close()
    engine = make_engine(settings.resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            add_user(session, user, PASSWORD, role="investigator", unit="Bench", clearance=3)
            for register in sorted(registers):
                grant_register(session, user, register)
    finally:
        engine.dispose()
    return sorted(registers)


def _sign_in(client: httpx.Client, user: str) -> None:
    """Through the real form: the page's CSRF token, then the POST that sets the session cookie."""
    page = client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if page.status_code != 200 or found is None:
        raise WorldError(f"no sign-in form at /login ({page.status_code})")
    form = {"username": user, "password": PASSWORD, "csrf_token": found.group(1)}
    answer = client.post("/login", data=form, follow_redirects=False)
    if answer.status_code != 303 or "speurder_session" not in client.cookies:
        raise WorldError(f"sign-in failed: {answer.status_code} {answer.text[:300]}")


def serve() -> None:
    """The child process: `speurder web` itself, with the search-body logger on when asked."""
    from search_api.cli import web

    path = os.environ.get(BODY_LOG_ENV)
    if path:
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger = logging.getLogger(BODY_LOG)
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        logger.propagate = False
    web()


if __name__ == "__main__":
    serve()
