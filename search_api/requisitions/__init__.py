"""Magistrates' requisitions on the web side: providers (connectors), the document, the execution."""

from __future__ import annotations

from ingest.settings import Settings
from search_api.requisitions.connectors import Connector
from search_api.requisitions.cpc import CpcConnector


def make_connectors(settings: Settings) -> dict[str, Connector]:
    """One connector per requisition kind that has a provider; the others fail with that reason."""
    return {
        "nbb_cpc_accounts": CpcConnector(
            settings.cpc_url,
            settings.cpc_token.get_secret_value(),
            timeout=settings.cpc_timeout_seconds,
            attempts=settings.cpc_attempts,
        )
    }


def close_connectors(connectors: dict[str, Connector]) -> None:
    for connector in connectors.values():
        close = getattr(connector, "close", None)
        if close is not None:
            close()
