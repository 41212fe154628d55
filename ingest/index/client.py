"""The one OpenSearch client factory: every process builds its client here, and only here."""

from __future__ import annotations

from opensearchpy import OpenSearch

from ingest.settings import Settings


def make_search_client(settings: Settings) -> OpenSearch:
    """Requests and answers go uncompressed unless `opensearch_compression` asks otherwise: on loopback
    or a data-centre network gzip costs both ends CPU and saves nothing worth having (decision 27)."""
    return OpenSearch(
        hosts=[settings.opensearch_url],
        timeout=30,
        max_retries=3,
        retry_on_timeout=True,
        http_compress=settings.opensearch_compression,
    )
