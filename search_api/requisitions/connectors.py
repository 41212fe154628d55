"""What a requisition provider (the National Bank's CPC, later a telecom operator or the vehicle register)
looks like to Speurder: submit an approved order under an idempotency key, fetch its answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True)
class Order:
    """An approved requisition as it is sent: only what the provider needs, nothing of the case file."""

    reference: str
    case_number: str
    kind: str
    subject_type: str
    subject_number: str
    subject_name: str
    period_from: date | None
    period_to: date | None
    legal_basis: str
    magistrate: str
    decided_at: datetime
    document_sha256: str
    idempotency_key: str


@dataclass(frozen=True)
class Holding:
    """One account or contract in an answer, and the role the subject has on it."""

    iban: str
    bic: str
    bank: str
    contract_type: str
    opened: date | None
    closed: date | None
    holder_type: str
    holder_number: str
    holder_name: str
    role: str


@dataclass(frozen=True)
class Answer:
    provider_reference: str
    answered_at: datetime
    holdings: tuple[Holding, ...]


class ConnectorError(Exception):
    """The provider could not be reached or refused the order; the message is shown on the requisition."""


class Connector(Protocol):
    """A provider of answers to one kind of requisition."""

    recipient: str  # who receives the order, as the audit log names it

    def submit(self, order: Order) -> str:
        """Deliver the order; return the provider's reference. The same key never makes two requests."""
        ...

    def fetch(self, provider_reference: str) -> Answer | None:
        """The answer, or None while the provider is still working on it."""
        ...
