"""The one OpenSearch client factory: every process builds its client here, and only here."""

from __future__ import annotations

from opensearchpy import OpenSearch

from ingest.settings import Settings


def make_search_client(settings: Settings) -> OpenSearch:
    return OpenSearch(
        hosts=[settings.opensearch_url],
        timeout=30,
        max_retries=3,
        retry_on_timeout=True,
        http_compress=True,
    )
