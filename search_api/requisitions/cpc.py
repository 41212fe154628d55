"""The connector to the National Bank's Central Point of Contact, over its HTTP API (docs/requisitions.md).

Every call has a time-out; a connection failure, a time-out, 429 or a 5xx is retried with exponential
back-off, and the order always travels under the requisition's own idempotency key, so a retry after a
lost response finds the request the CPC already received instead of making a second one.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any

import httpx

from search_api.requisitions.connectors import Answer, ConnectorError, Holding, Order

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF = 8.0


class CpcConnector:
    recipient = "NBB CPC"

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        last = ""
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(min(MAX_BACKOFF, self.backoff * 2 ** (attempt - 1)))
            try:
                response = self.client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code in RETRYABLE_STATUS:
                last = f"HTTP {response.status_code}"
                continue
            if response.status_code in (401, 403):
                raise ConnectorError("the CPC refused our credentials; check SPEURDER_CPC_TOKEN")
            if response.status_code >= 400:
                raise ConnectorError(
                    f"the CPC refused the request (HTTP {response.status_code}): {_detail(response)}"
                )
            try:
                body = response.json()
            except ValueError as exc:
                raise ConnectorError("the CPC sent an answer that is not JSON") from exc
            if not isinstance(body, dict):
                raise ConnectorError("the CPC sent an answer that is not a JSON object")
            return body
        raise ConnectorError(f"the CPC could not be reached after {self.attempts} attempts ({last})")

    def submit(self, order: Order) -> str:
        body = {
            "requisition": {
                "reference": order.reference,
                "case_number": order.case_number,
                "magistrate": order.magistrate,
                "legal_basis": order.legal_basis,
                "document_sha256": order.document_sha256,
                "decided_at": order.decided_at.isoformat(),
            },
            "subject": {
                "type": order.subject_type,
                "number": order.subject_number,
                "name": order.subject_name,
            },
            "period": {
                "from": order.period_from.isoformat() if order.period_from else None,
                "to": order.period_to.isoformat() if order.period_to else None,
            },
        }
        answer = self._call(
            "POST", "/v1/requests", json=body, headers={"Idempotency-Key": order.idempotency_key}
        )
        reference = answer.get("request_id")
        if not isinstance(reference, str) or not reference:
            raise ConnectorError("the CPC acknowledged the request without a reference")
        return reference

    def fetch(self, provider_reference: str) -> Answer | None:
        answer = self._call("GET", f"/v1/requests/{provider_reference}")
        if answer.get("status") != "answered":
            return None
        try:
            holdings = tuple(_holding(item) for item in answer.get("holdings", []))
            answered_at = datetime.fromisoformat(str(answer["answered_at"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ConnectorError(f"the CPC's answer is not in the documented form: {exc}") from exc
        return Answer(provider_reference, answered_at, holdings)


def _day(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


def _holding(item: dict[str, Any]) -> Holding:
    holder = item["holder"]
    return Holding(
        iban=str(item["iban"]),
        bic=str(item.get("bic") or ""),
        bank=str(item.get("bank") or ""),
        contract_type=str(item["contract_type"]),
        opened=_day(item.get("opened")),
        closed=_day(item.get("closed")),
        holder_type=str(holder["type"]),
        holder_number=str(holder["number"]),
        holder_name=str(holder["name"]),
        role=str(item.get("role") or "holder"),
    )


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", ""))[:300]
    except ValueError:
        return response.text[:300]
