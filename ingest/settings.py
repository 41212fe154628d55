"""Settings of a Speurder deployment: one object, built by the factories that need it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "development-only-not-a-secret"  # noqa: S105 - the value production refuses


class Settings(BaseSettings):
    """Everything a process needs to find its services; read from `SPEURDER_*` variables."""

    model_config = SettingsConfigDict(env_prefix="SPEURDER_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)

    # One data folder for every service's state; a download cache shared by every checkout.
    data_dir: Path = Path("var")
    cache_dir: Path = Path.home() / ".cache" / "speurder"

    opensearch_url: str = "http://127.0.0.1:47200"
    opensearch_heap: str = "1g"
    # gzip between the processes and OpenSearch: worth it over a thin link only (decision 27).
    opensearch_compression: bool = False
    index_prefix: str = "records"

    tika_url: str = "http://127.0.0.1:47998"
    tika_timeout_seconds: int = 120
    ocr_enabled: bool = True
    ocr_languages: str = "nld+fra+deu+eng"

    # Originals: a content-addressed folder (embedded default) or S3.
    blob_backend: Literal["folder", "s3"] = "folder"
    s3_endpoint: str = "http://127.0.0.1:47900"
    s3_access_key: str = "speurder"
    s3_secret_key: SecretStr = SecretStr("speurder-local-s3-key")
    s3_bucket: str = "speurder-originals"

    # Broker: the embedded Redis (default) or a system Redis, same protocol.
    redis_url: str = "redis://127.0.0.1:47379/0"
    redis_embedded: bool = True
    task_queue: str = "speurder"

    database_url: str = ""
    # The audit log lives apart from operational data (DESIGN §7).
    audit_database_url: str = ""
    # A web process keeps users' entitlements while PostgreSQL's change notices reach it (decision 30).
    entitlement_cache: bool = True
    postgres_port: int = 47432

    # Retention per record kind, in days: `speurder retention apply` removes what is older.
    retention_days: dict[str, int] = {"plate_read": 365, "incident": 5 * 365, "briefing": 365}

    # Registers whose consultation needs a case number or legal ground (DESIGN §7).
    justified_registers: frozenset[str] = frozenset({"ang"})
    login_attempts_per_minute: int = 10
    searches_per_minute: int = 120

    # OpenID Connect (optional): the provider's discovery document and this client's credentials.
    oidc_metadata_url: str = ""
    oidc_client_id: str = "speurder"
    oidc_client_secret: SecretStr = SecretStr("")
    oidc_username_claim: str = "preferred_username"

    # The National Bank's Central Point of Contact (requisitions); by default the reference service that
    # `speurder cpc serve` runs, seeded like the demo world so it knows the same people and companies.
    cpc_url: str = "http://127.0.0.1:47810"
    cpc_port: int = 47810
    cpc_token: SecretStr = SecretStr("speurder-local-cpc-token")
    cpc_timeout_seconds: float = 10.0
    cpc_attempts: int = 3
    cpc_seed: int = 2026
    cpc_world_records: int = 100_000

    web_host: str = "127.0.0.1"
    web_port: int = 47080
    # uvicorn's line per request carries the query string: the names and numbers searched for, in a plain
    # log outside the audit log. Off unless someone troubleshoots (decision 31).
    web_access_log: bool = False

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key.get_secret_value() == PLACEHOLDER_SECRET:
            raise ValueError("SPEURDER_SECRET_KEY must be set to a real secret in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'speurder.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    def port_of(self, url: str) -> int:
        port = urlsplit(url).port
        if port is None:
            raise ValueError(f"{url} names no port")
        return port

    def as_env(self) -> dict[str, str]:
        """These settings as the `SPEURDER_*` variables that give them to a child process (a worker, the
        web server, a CLI run): every field that is set, secrets in clear."""
        return {
            f"SPEURDER_{key.upper()}": env_value(value)
            for key, value in self.model_dump().items()
            if value is not None
        }


def env_value(value: object) -> str:
    """A setting's value as an environment variable holds it (pydantic-settings reads it back)."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, set | frozenset | list | tuple):
        return json.dumps(sorted(value))
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)
