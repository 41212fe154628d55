"""The local services Speurder runs on: which exist, and which a given configuration needs."""

from __future__ import annotations

import shutil
import subprocess

from search_api.services.base import ProcessService, ServiceContext, ServiceError

ALL = ("opensearch", "tika", "redis", "s3", "postgres")


def make_service(name: str, ctx: ServiceContext) -> ProcessService:
    # Imported here so `speurder --help` does not load every service module.
    if name == "opensearch":
        from search_api.services.opensearch import OpenSearchService

        return OpenSearchService(ctx)
    if name == "tika":
        from search_api.services.tika import TikaService

        return TikaService(ctx)
    if name == "redis":
        from search_api.services.redis import RedisService

        return RedisService(ctx)
    if name == "s3":
        from search_api.services.s3 import S3Service

        return S3Service(ctx)
    if name == "postgres":
        from search_api.services.postgres import PostgresService

        return PostgresService(ctx)
    raise ServiceError(f"unknown service {name!r}; known: {', '.join(ALL)}")


def needed(ctx: ServiceContext) -> tuple[str, ...]:
    """The services the current settings use: the embedded default is OpenSearch, Tika and Redis."""
    settings = ctx.settings
    names = ["opensearch", "tika", "redis"]
    if settings.blob_backend == "s3":
        names.append("s3")
    if settings.database_url.startswith("postgresql") or settings.audit_database_url.startswith("postgresql"):
        names.append("postgres")
    return tuple(names)


def frog_status() -> str:
    """Frog is not a server of ours yet: it must be installed and answer."""
    frog = shutil.which("frog")
    if frog is None:
        return "missing (Debian: apt-get install frog frogdata uctodata)"
    result = subprocess.run([frog, "--version"], capture_output=True, text=True, check=False, timeout=60)
    version = (result.stdout + result.stderr).strip().splitlines()
    return f"installed at {frog} ({version[0] if version else 'no version'})"
