"""The unified record every register and every document becomes, and the index mapping derived from it.

The schema is written once, here, as pydantic models; each field carries its OpenSearch mapping in its
annotation, so the closed (`dynamic: strict`) mapping is generated and can never drift from the code.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field


class Mapped:
    """The OpenSearch mapping of one field, attached with `Annotated[...]`."""

    def __init__(self, **mapping: Any) -> None:
        self.mapping = mapping


# -- the field types the schema is written in ----------------------------------------------------
Keyword = Annotated[str, Mapped(type="keyword")]
Identifier = Annotated[str, Mapped(type="keyword", normalizer="identifier")]
Date = Annotated[datetime, Mapped(type="date")]
Day = Annotated[date, Mapped(type="date", format="strict_date")]
Small = Annotated[int, Mapped(type="byte")]
Count = Annotated[int, Mapped(type="long")]
# Free text: folded for any language, plus one stemmed sub-field per language we serve.
Text = Annotated[
    str,
    Mapped(
        type="text",
        analyzer="folded",
        fields={
            "nl": {"type": "text", "analyzer": "dutch"},
            "fr": {"type": "text", "analyzer": "french"},
            "de": {"type": "text", "analyzer": "german"},
            "en": {"type": "text", "analyzer": "english"},
        },
    ),
]
Title = Annotated[
    str,
    Mapped(
        type="text",
        analyzer="folded",
        fields={
            "nl": {"type": "text", "analyzer": "dutch"},
            "fr": {"type": "text", "analyzer": "french"},
            "raw": {"type": "keyword", "ignore_above": 512},
        },
    ),
]
# Person and organisation names: accents and case folded, a compact form that ignores spacing
# ("Van den Bossche" = "Vandenbossche"), and a phonetic form for spelling variants.
Name = Annotated[
    str,
    Mapped(
        type="text",
        analyzer="name",
        fields={
            "compact": {"type": "keyword", "normalizer": "compact_name"},
            "phonetic": {"type": "text", "analyzer": "name_phonetic"},
        },
    ),
]

KINDS: tuple[str, ...] = (
    "document",
    "pv",
    "fine",
    "hearing",
    "information",
    "seizure",
    "alert",
    "plate_read",
    "visa_check",
    "admin_report",
    "border_check",
    "licence_status",
    "bank_account",
    "incident",
    "briefing",
)
Kind = Literal[
    "document",
    "pv",
    "fine",
    "hearing",
    "information",
    "seizure",
    "alert",
    "plate_read",
    "visa_check",
    "admin_report",
    "border_check",
    "licence_status",
    "bank_account",
    "incident",
    "briefing",
]
ProcessingStatus = Literal["indexed", "failed", "encrypted", "unsupported"]


class Closed(BaseModel):
    """A part of the record: unknown fields are an error here as they are in the index."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Person(Closed):
    name: Name
    birth_date: Day | None = None
    national_number: Identifier | None = None
    role: Keyword | None = None


class Organisation(Closed):
    name: Name
    enterprise_number: Identifier | None = None


class Vehicle(Closed):
    plate: Identifier | None = None
    country: Keyword | None = None
    vin: Identifier | None = None


class GeoPoint(Closed):
    lat: float
    lon: float


class Address(Closed):
    street: Text | None = None
    number: Keyword | None = None
    postcode: Keyword | None = None
    municipality: Name | None = None
    country: Keyword | None = None
    geo: Annotated[GeoPoint | None, Mapped(type="geo_point")] = None


class Mention(Closed):
    """An identifier found in text: what kind, the normalised value, where."""

    type: Keyword
    value: Identifier
    start: Count
    end: Count


class DocumentDetails(Closed):
    mime_type: Keyword | None = None
    author: Name | None = None
    created: Date | None = None
    modified: Date | None = None
    page_count: Count | None = None
    email_from: Keyword | None = None
    email_to: list[Keyword] = Field(default_factory=list)
    email_cc: list[Keyword] = Field(default_factory=list)
    email_subject: Text | None = None
    email_date: Date | None = None
    message_id: Keyword | None = None


class Details(Closed):
    document: DocumentDetails | None = None


class Provenance(Closed):
    sha256: Keyword | None = None
    blob_key: Keyword | None = None
    file_name: Annotated[
        str | None, Mapped(type="keyword", fields={"text": {"type": "text", "analyzer": "folded"}})
    ] = None
    file_paths: list[Keyword] = Field(default_factory=list)
    size: Count | None = None
    parent_id: Keyword | None = None
    uploader: Keyword | None = None
    evidence_number: Identifier | None = None
    status: Annotated[ProcessingStatus, Mapped(type="keyword")] = "indexed"
    error: Annotated[str | None, Mapped(type="text", analyzer="folded")] = None
    agent: Keyword | None = None
    processed_at: Date | None = None


class Record(Closed):
    """One fact from one register, or one document, as the unified index holds it."""

    id: Keyword
    kind: Annotated[Kind, Mapped(type="keyword")]
    source: Keyword
    source_ref: Keyword | None = None
    title: Title
    summary: Text | None = None
    text: Text | None = None
    language: Keyword | None = None

    occurred_at: Date | None = None
    valid_from: Date | None = None
    valid_to: Date | None = None
    recorded_at: Date

    # `register` would shadow BaseModel.register: the attribute is `register_`, the field `register`.
    register_: Keyword = Field(alias="register")
    case_ids: list[Keyword] = Field(default_factory=list)
    classification: Small = 0
    unit: Keyword | None = None

    persons: list[Person] = Field(default_factory=list)
    organisations: list[Organisation] = Field(default_factory=list)
    vehicles: list[Vehicle] = Field(default_factory=list)
    phones: list[Identifier] = Field(default_factory=list)
    emails: list[Identifier] = Field(default_factory=list)
    ibans: list[Identifier] = Field(default_factory=list)
    addresses: list[Address] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)

    # Group fields: one query finds an identifier or a name wherever in the record it occurs.
    identifiers: list[Identifier] = Field(default_factory=list)
    names: list[Name] = Field(default_factory=list)
    entity_ids: list[Keyword] = Field(default_factory=list)

    provenance: Provenance = Field(default_factory=Provenance)
    details: Details = Field(default_factory=Details)

    def document(self) -> dict[str, Any]:
        """The body sent to OpenSearch (the id travels as `_id` too)."""
        return self.model_dump(mode="json", exclude_none=True, by_alias=True)


def record_id(kind: str, *keys: object) -> str:
    """Deterministic id from a record's natural keys: ingesting the same fact twice overwrites it."""
    joined = "\x1f".join([kind, *(str(key).strip().lower() for key in keys)])
    return f"{kind}-{hashlib.sha256(joined.encode()).hexdigest()[:32]}"


# -- mapping generation --------------------------------------------------------------------------
def _annotation_mapping(annotation: Any) -> dict[str, Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *meta = get_args(annotation)
        for item in meta:
            if isinstance(item, Mapped):
                return dict(item.mapping)
        return _annotation_mapping(base)
    if origin is list or origin is tuple:
        return _annotation_mapping(get_args(annotation)[0])
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    if args:  # Optional[X] / X | None
        return _annotation_mapping(args[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {"type": "object", "dynamic": "strict", "properties": properties_of(annotation)}
    raise TypeError(f"no index mapping for {annotation!r}: annotate it with Mapped(...)")


def properties_of(model: type[BaseModel]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        annotation: Any = field.annotation
        if field.metadata:
            annotation = Annotated[(annotation, *field.metadata)]
        properties[field.alias or name] = _annotation_mapping(annotation)
    return properties


def index_mapping() -> dict[str, Any]:
    """The closed mapping of the unified index, generated from `Record`."""
    return {"dynamic": "strict", "properties": properties_of(Record)}
