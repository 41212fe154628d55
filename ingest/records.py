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
# Money in a register's own currency: exact to the cent, as an officer reads it on the fine.
Amount = Annotated[float, Mapped(type="scaled_float", scaling_factor=100)]
Flag = Annotated[bool, Mapped(type="boolean")]
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
# ("Van den Bossche" = "Vandenbossche"), neighbouring parts joined (so that compact form is found inside
# "Jan Vandenbossche"), and a phonetic form for spelling variants.
Name = Annotated[
    str,
    Mapped(
        type="text",
        analyzer="name",
        fields={
            "compact": {"type": "keyword", "normalizer": "compact_name"},
            "joined": {"type": "text", "analyzer": "name_joined", "search_analyzer": "name_compact_query"},
            "raw": {"type": "keyword", "ignore_above": 256},  # as written: facets show it
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


class PvDetails(Closed):
    """A proces-verbaal (ISLP)."""

    pv_number: Identifier | None = None
    offence: Text | None = None
    offence_code: Keyword | None = None
    legal_basis: Keyword | None = None
    parquet_number: Identifier | None = None
    status: Keyword | None = None


class FineDetails(Closed):
    """An immediate collection (ISLP) or a fine for a foreign resident (Cross Border Exchange)."""

    fine_number: Identifier | None = None
    pv_number: Identifier | None = None
    offence: Text | None = None
    offence_code: Keyword | None = None
    amount: Amount | None = None
    currency: Keyword | None = None
    country: Keyword | None = None
    paid: Flag | None = None
    payment_status: Keyword | None = None
    measured_speed: Count | None = None
    speed_limit: Count | None = None


class HearingDetails(Closed):
    """A hearing of a suspect, witness or victim (ISLP)."""

    pv_number: Identifier | None = None
    hearing_type: Keyword | None = None
    salduz_category: Keyword | None = None
    interpreter: Flag | None = None
    hearing_language: Keyword | None = None
    duration_minutes: Count | None = None


class InformationDetails(Closed):
    """Registered information (ISLP): what was learnt, how reliable, from whom."""

    information_number: Identifier | None = None
    information_type: Keyword | None = None
    reliability: Keyword | None = None
    source_evaluation: Keyword | None = None


class SeizureDetails(Closed):
    """A seized item with its barcode (PacOs)."""

    barcode: Identifier | None = None
    item: Text | None = None
    item_category: Keyword | None = None
    quantity: Count | None = None
    seizure_number: Identifier | None = None
    pv_number: Identifier | None = None
    storage_location: Keyword | None = None
    status: Keyword | None = None


class AlertDetails(Closed):
    """An alert on a person or a vehicle (ANG); a person's aliases are extra persons with role `alias`."""

    alert_number: Identifier | None = None
    alert_type: Keyword | None = None
    measure: Keyword | None = None
    instruction: Text | None = None
    reason: Text | None = None
    issuing_authority: Keyword | None = None
    dangerous: Flag | None = None


class PlateReadDetails(Closed):
    """One camera's read of a plate (ANPR), alone or as part of a trajectory control."""

    read_id: Keyword | None = None
    camera_id: Keyword | None = None
    camera_location: Text | None = None
    direction: Keyword | None = None
    lane: Small | None = None
    speed: Count | None = None
    speed_limit: Count | None = None
    trajectory_id: Keyword | None = None
    average_speed: Count | None = None
    confidence: Small | None = None
    hit_list: Keyword | None = None


class VisaCheckDetails(Closed):
    """A visa and fingerprint check at the border or in the country (Belvis)."""

    visa_number: Identifier | None = None
    visa_type: Keyword | None = None
    travel_document_number: Identifier | None = None
    nationality: Keyword | None = None
    check_location: Keyword | None = None
    afis_result: Keyword | None = None
    sis_result: Keyword | None = None
    ang_result: Keyword | None = None
    interpol_result: Keyword | None = None
    decision: Keyword | None = None


class AdminReportDetails(Closed):
    """An administrative report to the Immigration Office (Raavis)."""

    report_number: Identifier | None = None
    immigration_reference: Identifier | None = None
    nationality: Keyword | None = None
    residence_status: Keyword | None = None
    decision: Keyword | None = None
    detention: Flag | None = None


class BorderCheckDetails(Closed):
    """A border check of a passenger or crew member, by sea or air (Aquatask, Aerotask)."""

    flight_or_vessel: Keyword | None = None
    carrier: Keyword | None = None
    border_post: Keyword | None = None
    direction: Keyword | None = None
    role: Keyword | None = None
    gendec: Identifier | None = None
    travel_document_number: Identifier | None = None
    nationality: Keyword | None = None
    origin: Keyword | None = None
    destination: Keyword | None = None
    result: Keyword | None = None


class LicenceStatusDetails(Closed):
    """The state of a driving licence over one validity period (Mercurius)."""

    licence_number: Identifier | None = None
    status: Keyword | None = None
    categories: list[Keyword] = Field(default_factory=list)
    ban_reason: Text | None = None
    ban_authority: Keyword | None = None
    ban_reference: Identifier | None = None


class IncidentDetails(Closed):
    """A 101 call and its handling (FOCUS@GPI)."""

    incident_number: Identifier | None = None
    incident_type: Keyword | None = None
    priority: Small | None = None
    status: Keyword | None = None
    caller_phone: Identifier | None = None
    dispatched_unit: Keyword | None = None


class BriefingDetails(Closed):
    """A briefing item for patrols (FOCUS@GPI)."""

    briefing_number: Identifier | None = None
    briefing_type: Keyword | None = None
    audience: Keyword | None = None
    instruction: Text | None = None


class BankAccountDetails(Closed):
    """A bank account or contract as the National Bank's CPC answered a requisition for it."""

    iban: Identifier | None = None
    bic: Identifier | None = None
    bank: Name | None = None
    contract_type: Keyword | None = None
    holder_role: Keyword | None = None
    opened: Day | None = None
    closed: Day | None = None
    requisition: Keyword | None = None
    provider_reference: Keyword | None = None


class Details(Closed):
    """Kind-specific fields: one closed sub-model per kind, filled only for the record's own kind."""

    document: DocumentDetails | None = None
    pv: PvDetails | None = None
    fine: FineDetails | None = None
    hearing: HearingDetails | None = None
    information: InformationDetails | None = None
    seizure: SeizureDetails | None = None
    alert: AlertDetails | None = None
    plate_read: PlateReadDetails | None = None
    visa_check: VisaCheckDetails | None = None
    admin_report: AdminReportDetails | None = None
    border_check: BorderCheckDetails | None = None
    licence_status: LicenceStatusDetails | None = None
    bank_account: BankAccountDetails | None = None
    incident: IncidentDetails | None = None
    briefing: BriefingDetails | None = None


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
