"""Quick check: what a field officer needs at the roadside about one plate, one national number, or one
name with a birth date, on one card.

One input, four questions answered in one round trip (`_msearch`), each under the officer's access
filter: open alerts, the licence status today, the latest plate reads, and the other records that name
the subject. The whole card is one consultation in the audit log, with every record it showed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from opensearchpy import OpenSearch

from case_store.audit import AuditLog
from enrichers.identifiers import extract_from_query
from search_api.access import access_filter
from search_api.queries import MAX_QUERY_CHARS, QueryError, name_match, valid_on
from search_api.search import Consultation, Hit, hit_from, require_justification
from ui.i18n import N_

SUBJECT_TYPES = {"plate": "plate", "nrn": "person", "bis": "person"}
_SECTIONS = ("alerts", "licences", "plate_reads", "related")
_SIZES = {"alerts": 10, "licences": 5, "plate_reads": 5, "related": 10}


@dataclass(frozen=True)
class Subject:
    """What the officer typed, understood: a plate, a national number, or a name and a birth date."""

    kind: str  # plate | person
    label: str
    identifier: str | None = None
    name: str | None = None
    birth_date: str | None = None

    def condition(self) -> dict[str, Any]:
        if self.identifier is not None:
            return {"term": {"identifiers": self.identifier}}
        assert self.name is not None and self.birth_date is not None
        return {
            "bool": {"filter": [name_match(self.name), {"term": {"persons.birth_date": self.birth_date}}]}
        }


@dataclass
class Card:
    subject: Subject
    today: str
    alerts: list[Hit] = field(default_factory=list)
    licences: list[Hit] = field(default_factory=list)
    plate_reads: list[Hit] = field(default_factory=list)
    related: list[Hit] = field(default_factory=list)
    related_total: int = 0

    @property
    def shown(self) -> list[Hit]:
        return [*self.alerts, *self.licences, *self.plate_reads, *self.related]


def understand(raw: str) -> Subject:
    """The subject of a quick check, or a message saying what to type."""
    text = " ".join(raw.split())
    if not text:
        raise QueryError(N_("type a plate, a national register number, or a name with a birth date"))
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(N_("a quick check has at most %(max)s characters"), max=MAX_QUERY_CHARS)
    found = extract_from_query(text)
    for item in found:
        if item.type in SUBJECT_TYPES:
            return Subject(SUBJECT_TYPES[item.type], item.value, identifier=item.value)
    dates = [item for item in found if item.type == "date"]
    if dates:
        born = dates[0]
        name = re.sub(r"\s+", " ", (text[: born.start] + " " + text[born.end :])).strip(" ,°*")
        name = re.sub(r"(?i)\b(geboren|née?|born|geb\.?|op|le|on)\b", " ", name).strip(" ,")
        name = " ".join(name.split())
        if name:
            return Subject("person", f"{name} ({born.value})", name=name, birth_date=born.value)
    raise QueryError(
        N_(
            "a quick check needs a plate (1-ABC-123), a national register number, "
            "or a name with a birth date (Jan Peeters 30/07/1985)"
        )
    )


def _bodies(subject: Subject, access: dict[str, Any], today: str) -> list[dict[str, Any]]:
    def body(
        *conditions: dict[str, Any], size: int, by_date: bool = True, total: bool = False
    ) -> dict[str, Any]:
        return {
            "query": {"bool": {"filter": [access, subject.condition(), *conditions]}},
            "size": size,
            "sort": [{"occurred_at": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]
            if by_date
            else [{"valid_from": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
            "track_total_hits": total,
            "version": True,
            "_source": {"excludes": ["text", "mentions"]},
        }

    return [
        body({"term": {"kind": "alert"}}, valid_on(today), size=_SIZES["alerts"]),
        body({"term": {"kind": "licence_status"}}, valid_on(today), size=_SIZES["licences"], by_date=False),
        body({"term": {"kind": "plate_read"}}, size=_SIZES["plate_reads"]),
        body(
            {"bool": {"must_not": {"terms": {"kind": ["alert", "licence_status", "plate_read"]}}}},
            size=_SIZES["related"],
            total=True,
        ),
    ]


def quick_check(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    consultation: Consultation,
    raw: str,
    *,
    today: date | None = None,
) -> Card:
    subject = understand(raw)
    require_justification(consultation, {})
    day = (today or date.today()).isoformat()
    lines: list[dict[str, Any]] = []
    for body in _bodies(subject, access_filter(consultation.principal), day):
        lines += [{"index": index, "allow_partial_search_results": False}, body]
    responses = client.msearch(body=lines)["responses"]
    card = Card(subject, day)
    for section, response in zip(_SECTIONS, responses, strict=True):
        if "error" in response:
            raise RuntimeError(f"quick check: the {section} search failed: {response['error']}")
        setattr(card, section, [hit_from(raw_hit) for raw_hit in response["hits"]["hits"]])
    card.related_total = int(responses[-1]["hits"]["total"]["value"])
    audit.append(
        consultation.entry(
            "consultation.quick_check",
            query=raw,
            subjects=tuple(hit.id for hit in card.shown),
            details={
                "subject": {"kind": subject.kind, "label": subject.label},
                "as_of": day,
                "results": [[hit.id, hit.version] for hit in card.shown],
            },
        )
    )
    return card
