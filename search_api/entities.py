"""Entity pages: everything the records a user may see say about one person, vehicle, phone, account or
organisation, under the id entity resolution gave it (`enrichers/resolution.py`).

One page is one round trip (`_msearch`), every part under the principal's access filter: the timeline
page (with the related entities and the registers as aggregations of the same query), the facts read from
the latest records (names, aliases, birth dates, identifiers, addresses), the open alerts and the licence
status valid today. An entity with no record the user may see does not exist for them: the caller
answers 404, the same answer as for an id nobody ever wrote.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from opensearchpy import OpenSearch

from case_store.audit import AuditLog
from enrichers.resolution import account_id, organisation_id, person_id, phone_id, vehicle_id
from search_api.access import access_filter
from search_api.queries import valid_on
from search_api.search import Consultation, Hit, hit_from, require_justification

ENTITY_KINDS = ("person", "vehicle", "phone", "account", "organisation")
MAX_ENTITY_ID = 300
TIMELINE_SIZE = 20
MAX_PAGE = 200
RELATED_SIZE = 50
LINK_RECORDS = 5  # record ids shown per related entity: enough to open one, the count says the rest
FACT_RECORDS = 500  # names and identifiers are read from the latest records; older ones repeat them
# Newest first; records without a date last; the id breaks ties so a page never shifts.
NEWEST_FIRST: list[dict[str, Any]] = [{"occurred_at": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]
FACT_FIELDS = ["persons", "organisations", "vehicles", "phones", "ibans", "addresses"]
_ID_SHAPE = re.compile(r"^[a-z]+:[^\x00-\x1f]+$")


class NotAnEntity(ValueError):
    """The text cannot be an entity id (`person:nrn:…`, `vehicle:BE:…`, …)."""


def entity_kind(entity_id: str) -> str:
    """`person`, `vehicle`, `phone`, `account` or `organisation`; NotAnEntity otherwise."""
    kind = entity_id.split(":", 1)[0]
    if len(entity_id) > MAX_ENTITY_ID or kind not in ENTITY_KINDS or not _ID_SHAPE.match(entity_id):
        raise NotAnEntity(f"{entity_id[:60]!r} is not an entity id (person:nrn:…, vehicle:BE:…, phone:+32…)")
    return kind


@dataclass
class Facts:
    """What the records say about one entity: each value with how many records say it."""

    names: Counter[str] = field(default_factory=Counter)
    aliases: Counter[str] = field(default_factory=Counter)
    birth_dates: Counter[str] = field(default_factory=Counter)
    identifiers: Counter[tuple[str, str]] = field(default_factory=Counter)
    addresses: Counter[str] = field(default_factory=Counter)


def facts_of(entity_id: str, sources: Iterable[dict[str, Any]]) -> Facts:
    """The parts of the records that resolve to `entity_id`, found again with the resolver's own functions
    (a PV names a suspect and a victim: only the one that is this entity counts)."""
    facts = Facts()
    kind = entity_id.split(":", 1)[0]
    for source in sources:
        if kind == "person":
            _person_facts(entity_id, source.get("persons") or [], facts)
        elif kind == "organisation":
            for item in source.get("organisations") or []:
                if organisation_id(item.get("name"), item.get("enterprise_number")) == entity_id:
                    facts.names[item.get("name", "")] += 1
                    if item.get("enterprise_number"):
                        facts.identifiers["enterprise number", item["enterprise_number"]] += 1
        elif kind == "vehicle":
            for item in source.get("vehicles") or []:
                if vehicle_id(item.get("plate"), item.get("country"), item.get("vin")) == entity_id:
                    for name in ("plate", "country", "vin"):
                        if item.get(name):
                            facts.identifiers[name, item[name]] += 1
        elif kind == "phone":
            facts.identifiers.update(
                ("phone", p) for p in source.get("phones") or [] if phone_id(p) == entity_id
            )
        elif kind == "account":
            facts.identifiers.update(
                ("IBAN", i) for i in source.get("ibans") or [] if account_id(i) == entity_id
            )
        if kind in ("person", "organisation") and _names_entity(entity_id, source):
            facts.addresses.update(
                _address_line(a) for a in source.get("addresses") or [] if _address_line(a)
            )
    facts.names.pop("", None)
    return facts


def names_by_entity(sources: Iterable[dict[str, Any]]) -> dict[str, Facts]:
    """The names and birth dates of every person and organisation on the records, by entity id, in one
    pass: the labels of a graph's nodes or a page's related entities."""
    found: dict[str, Facts] = {}
    for source in sources:
        for person in source.get("persons") or []:
            if person.get("role") == "alias" or not person.get("name"):
                continue
            entity = person_id(person["name"], person.get("birth_date"), person.get("national_number"))
            if entity:
                facts = found.setdefault(entity, Facts())
                facts.names[person["name"]] += 1
                if person.get("birth_date"):
                    facts.birth_dates[person["birth_date"]] += 1
        for item in source.get("organisations") or []:
            entity = organisation_id(item.get("name"), item.get("enterprise_number"))
            if entity and item.get("name"):
                found.setdefault(entity, Facts()).names[item["name"]] += 1
    return found


def _person_facts(entity_id: str, persons: list[dict[str, Any]], facts: Facts) -> None:
    matched = False
    for person in persons:
        if person.get("role") == "alias":
            # An alias is listed right after the person it belongs to (see record_entity_ids).
            if matched and person.get("name"):
                facts.aliases[person["name"]] += 1
            continue
        matched = (
            person_id(person.get("name"), person.get("birth_date"), person.get("national_number"))
            == entity_id
        )
        if matched:
            facts.names[person.get("name") or ""] += 1
            if person.get("birth_date"):
                facts.birth_dates[person["birth_date"]] += 1
            if person.get("national_number"):
                facts.identifiers["national number", person["national_number"]] += 1


def _names_entity(entity_id: str, source: dict[str, Any]) -> bool:
    people = source.get("persons") or []
    if any(
        person_id(p.get("name"), p.get("birth_date"), p.get("national_number")) == entity_id for p in people
    ):
        return True
    return any(
        organisation_id(o.get("name"), o.get("enterprise_number")) == entity_id
        for o in source.get("organisations") or []
    )


def _address_line(address: dict[str, Any]) -> str:
    street = " ".join(str(address.get(k) or "") for k in ("street", "number")).strip()
    place = " ".join(str(address.get(k) or "") for k in ("postcode", "municipality")).strip()
    return ", ".join(part for part in (street, place) if part)


def label_of(entity_id: str, facts: Facts | None = None) -> str:
    """What an analyst reads on a node or a page heading: the name most records use, else the value."""
    kind, _, value = entity_id.partition(":")
    if facts is not None and facts.names:
        name = facts.names.most_common(1)[0][0]
        born = facts.birth_dates.most_common(1)[0][0] if facts.birth_dates else None
        return f"{name} ({born})" if born else name
    if kind == "vehicle":
        country, _, plate = value.partition(":")
        return f"{plate} ({country})" if country != "vin" else f"VIN {plate}"
    if kind in ("person", "organisation"):
        scheme, _, rest = value.partition(":")
        if scheme == "nrn":
            return rest
        if scheme == "name":
            return rest.rsplit(":", 1)[0] if kind == "person" else rest
    return value


@dataclass
class Related:
    entity_id: str
    kind: str
    label: str
    count: int  # visible records naming both
    records: list[str]  # the latest of them


@dataclass
class EntityPage:
    entity_id: str
    kind: str
    label: str
    today: str
    total: int
    page: int
    names: list[tuple[str, int]]
    aliases: list[tuple[str, int]]
    birth_dates: list[tuple[str, int]]
    identifiers: list[tuple[str, str, int]]
    addresses: list[tuple[str, int]]
    registers: list[tuple[str, int]]
    alerts: list[Hit]
    licences: list[Hit]
    timeline: list[Hit]
    related: list[Related]
    # For a person known by national number: the name-based ids its records' names and birth dates make,
    # with how many visible records carry each (records that name the person without the number).
    same_person: list[tuple[str, int]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, -(-self.total // TIMELINE_SIZE)))

    @property
    def shown(self) -> list[str]:
        """Every record id the page shows, once: what the audit log lists as consulted."""
        ids = [hit.id for hit in (*self.alerts, *self.licences, *self.timeline)]
        ids += [record for item in self.related for record in item.records]
        return list(dict.fromkeys(ids))


def _bodies(entity_id: str, access: dict[str, Any], page: int, today: str) -> list[dict[str, Any]]:
    def where(*more: dict[str, Any]) -> dict[str, Any]:
        return {"bool": {"filter": [access, {"term": {"entity_ids": entity_id}}, *more]}}

    slim = {"excludes": ["text", "mentions"]}
    timeline = {
        "query": where(),
        "from": (page - 1) * TIMELINE_SIZE,
        "size": TIMELINE_SIZE,
        "sort": NEWEST_FIRST,
        "track_total_hits": True,
        "version": True,
        "_source": slim,
        "aggs": {
            # The same query's records: co-occurrence is counted only over what the user may see.
            "related": {
                "terms": {"field": "entity_ids", "size": RELATED_SIZE + 1, "shard_size": 4 * RELATED_SIZE},
                "aggs": {
                    "latest": {"top_hits": {"size": LINK_RECORDS, "sort": NEWEST_FIRST, "_source": False}}
                },
            },
            "registers": {"terms": {"field": "register", "size": 100}},
        },
    }
    facts = {"query": where(), "size": FACT_RECORDS, "sort": NEWEST_FIRST, "_source": FACT_FIELDS}
    alerts = {
        "query": where({"term": {"kind": "alert"}}, valid_on(today)),
        "size": 10,
        "sort": NEWEST_FIRST,
        "version": True,
        "_source": slim,
    }
    licences = {
        "query": where({"term": {"kind": "licence_status"}}, valid_on(today)),
        "size": 5,
        "sort": [{"valid_from": {"order": "desc", "missing": "_last"}}, {"id": "asc"}],
        "version": True,
        "_source": slim,
    }
    return [timeline, facts, alerts, licences]


def _msearch(client: OpenSearch, index: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for body in bodies:
        lines += [{"index": index, "allow_partial_search_results": False}, body]
    responses: list[dict[str, Any]] = client.msearch(body=lines)["responses"]
    for response in responses:
        if "error" in response:
            raise RuntimeError(f"entity page: a search failed: {response['error']}")
    return responses


def entity_page(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    consultation: Consultation,
    entity_id: str,
    *,
    page: int = 1,
    today: date | None = None,
) -> EntityPage | None:
    """The entity as the user may see it, or None when no visible record names it."""
    kind = entity_kind(entity_id)
    require_justification(consultation, {})
    page = max(1, min(page, MAX_PAGE))
    day = (today or date.today()).isoformat()
    access = access_filter(consultation.principal)
    timeline, facts_answer, alerts, licences = _msearch(client, index, _bodies(entity_id, access, page, day))
    total = int(timeline["hits"]["total"]["value"])
    result: EntityPage | None = None
    if total:
        sources = [raw["_source"] for raw in facts_answer["hits"]["hits"]]
        facts = facts_of(entity_id, sources)
        buckets = [b for b in timeline["aggregations"]["related"]["buckets"] if b["key"] != entity_id]
        names = names_by_entity(sources)
        related = [
            Related(
                bucket["key"],
                bucket["key"].split(":", 1)[0],
                label_of(bucket["key"], names.get(bucket["key"])),
                bucket["doc_count"],
                [raw["_id"] for raw in bucket["latest"]["hits"]["hits"]],
            )
            for bucket in buckets[:RELATED_SIZE]
        ]
        result = EntityPage(
            entity_id=entity_id,
            kind=kind,
            label=label_of(entity_id, facts),
            today=day,
            total=total,
            page=page,
            names=facts.names.most_common(),
            aliases=facts.aliases.most_common(),
            birth_dates=facts.birth_dates.most_common(),
            identifiers=[(name, value, n) for (name, value), n in facts.identifiers.most_common()],
            addresses=facts.addresses.most_common(10),
            registers=[(b["key"], b["doc_count"]) for b in timeline["aggregations"]["registers"]["buckets"]],
            alerts=[hit_from(raw) for raw in alerts["hits"]["hits"]],
            licences=[hit_from(raw) for raw in licences["hits"]["hits"]],
            timeline=[hit_from(raw) for raw in timeline["hits"]["hits"]],
            related=related,
        )
        if entity_id.startswith("person:nrn:"):
            result.same_person = _same_person(client, index, access, sources, entity_id)
    audit.append(
        consultation.entry(
            "consultation.entity",
            query=entity_id,
            subjects=tuple(result.shown if result else ()),
            details={
                "entity": entity_id,
                "page": page,
                "shown": result is not None,
                "total": total,
                "results": [[hit.id, hit.version] for hit in result.timeline] if result else [],
            },
        )
    )
    return result


def _same_person(
    client: OpenSearch, index: str, access: dict[str, Any], sources: list[dict[str, Any]], entity_id: str
) -> list[tuple[str, int]]:
    """The ids records without the national number would give this person (name key and birth date), each
    with its count of visible records: a lead for the analyst, never merged automatically."""
    candidates: dict[str, None] = {}
    for source in sources:
        for person in source.get("persons") or []:
            if (
                person_id(person.get("name"), person.get("birth_date"), person.get("national_number"))
                == entity_id
            ):
                by_name = person_id(person.get("name"), person.get("birth_date"))
                if by_name:
                    candidates[by_name] = None
    if not candidates:
        return []
    body = {
        "size": 0,
        "query": {"bool": {"filter": [access, {"terms": {"entity_ids": list(candidates)}}]}},
        "aggs": {
            "ids": {"terms": {"field": "entity_ids", "include": list(candidates), "size": len(candidates)}}
        },
    }
    counts = {
        bucket["key"]: bucket["doc_count"]
        for bucket in client.search(index=index, body=body)["aggregations"]["ids"]["buckets"]
    }
    return [(candidate, counts.get(candidate, 0)) for candidate in candidates]
