"""Documents: received into the blob store and the ledger, then extracted, enriched and indexed.

Every file ends in a ledger state a user can see: indexed, duplicate, encrypted, unsupported or
failed with its reason. A failure is data: the record is indexed all the same, with its status and
error, so it is found by name and never silently missing.
"""

from __future__ import annotations

import logging
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from case_store.db import transaction
from case_store.models import FINAL_STATES, Upload
from enrichers.identifiers import IDENTIFIER_TYPES
from enrichers.identifiers import extract as extract_identifiers
from enrichers.language import detect_language
from enrichers.resolution import identifier_entity_ids, record_entity_ids
from ingest.blobs import BlobStore, blob_key, copy_to
from ingest.index.admin import write_alias
from ingest.index.bulk import write_records
from ingest.records import DocumentDetails, Mention, Provenance, Record, Vehicle, record_id
from ingest.settings import Settings
from ingest.tika import Extraction, Part, extract

log = logging.getLogger(__name__)

DOCUMENT_REGISTER = "ges"
AGENT = f"speurder-worker@{socket.gethostname()}"
MAX_DELIVERIES = 6  # a file that kills its worker this often is quarantined, not retried forever


@dataclass
class Received:
    upload_id: int
    sha256: str
    size: int
    batch_id: str


def accept_upload(
    blobs: BlobStore,
    sessions: sessionmaker[Session],
    stream: BinaryIO,
    *,
    file_name: str,
    path: str,
    batch_id: str,
    uploader: str,
    case_number: str | None = None,
    classification: int = 0,
    expected_sha256: str | None = None,
) -> Received:
    """Store the original under its hash and write its ledger row; both done before we say OK."""
    stored = blobs.put(stream, expected_sha256)
    with transaction(sessions) as session:
        upload = Upload(
            batch_id=batch_id,
            sha256=stored.sha256,
            file_name=file_name,
            path=path,
            size=stored.size,
            register=DOCUMENT_REGISTER,
            case_number=case_number,
            classification=classification,
            uploader=uploader,
        )
        session.add(upload)
        session.flush()
        upload_id = upload.id
    return Received(upload_id, stored.sha256, stored.size, batch_id)


def _meta_first(metadata: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = metadata.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value not in (None, ""):
            return str(value)
    return None


def _meta_all(metadata: dict[str, Any], key: str) -> list[str]:
    value = metadata.get(key)
    if value is None:
        return []
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _moment(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _addresses(values: list[str]) -> list[str]:
    """Bare, lower-case e-mail addresses from header values like 'Marc Dubois <marc@x.be>'."""
    return [address.lower() for _name, address in getaddresses(values) if "@" in address]


def _details(metadata: dict[str, Any]) -> DocumentDetails:
    pages = _meta_first(metadata, "xmpTPg:NPages", "meta:page-count")
    return DocumentDetails(
        mime_type=_meta_first(metadata, "Content-Type"),
        author=_meta_first(metadata, "dc:creator", "meta:author", "Author"),
        created=_moment(_meta_first(metadata, "dcterms:created", "meta:creation-date")),
        modified=_moment(_meta_first(metadata, "dcterms:modified")),
        page_count=int(pages) if pages and pages.isdigit() else None,
        email_from=next(iter(_addresses(_meta_all(metadata, "Message-From"))), None),
        email_to=_addresses(_meta_all(metadata, "Message-To")),
        email_cc=_addresses(_meta_all(metadata, "Message-Cc")),
        email_subject=_meta_first(metadata, "dc:subject") if "Message-From" in metadata else None,
        email_date=_moment(_meta_first(metadata, "dcterms:created")) if "Message-From" in metadata else None,
        message_id=_meta_first(metadata, "Message:Raw-Header:Message-ID"),
    )


def enrich(record: Record, text: str) -> Record:
    """Language and identifiers from the text, onto the record and its group fields."""
    # Dates and amounts are found too, but they identify nobody: they stay out of the entity fields.
    found = [item for item in extract_identifiers(text) if item.type in IDENTIFIER_TYPES]
    record.language = detect_language(text)
    record.mentions = [
        Mention(type=item.type, value=item.value, start=item.start, end=item.end) for item in found
    ]
    values = {item.type: sorted({f.value for f in found if f.type == item.type}) for item in found}
    record.phones = values.get("phone", [])
    record.emails = values.get("email", [])
    record.ibans = values.get("iban", [])
    countries = {item.value: item.country for item in found if item.type == "plate"}
    record.vehicles = [Vehicle(plate=plate, country=countries[plate]) for plate in values.get("plate", [])]
    record.vehicles += [Vehicle(vin=vin) for vin in values.get("vin", [])]
    record.identifiers = sorted({item.value for item in found})
    # Entity ids: of the vehicles, phones and accounts above, and of the persons and organisations the
    # text names by their numbers (a name in running text is not enough to be anyone).
    numbered = [(m.type, m.value) for m in record.mentions if m.type not in {"plate", "vin"}]
    vehicles = [vehicle.model_dump() for vehicle in record.vehicles]
    parts = record_entity_ids(vehicles=vehicles, phones=record.phones, ibans=record.ibans)
    record.entity_ids = list(dict.fromkeys([*parts, *identifier_entity_ids(numbered)]))
    return record


def build_record(
    upload: Upload,
    part: Part | None,
    *,
    record_key: str,
    status: str,
    error: str | None,
    paths: list[str],
    parent_id: str | None = None,
) -> Record:
    metadata = part.metadata if part else {}
    text = part.text if part else ""
    name = PurePosixPath(part.path).name if parent_id and part and part.path else upload.file_name
    details = _details(metadata)
    title = _meta_first(metadata, "dc:title", "dc:subject") or name
    record = Record(
        id=record_key,
        kind="document",
        source="upload",
        source_ref=upload.batch_id,
        title=title,
        text=text or None,
        occurred_at=details.email_date or details.created,
        recorded_at=datetime.now(UTC),
        register=upload.register,
        case_ids=[upload.case_number] if upload.case_number else [],
        classification=upload.classification,
        provenance=Provenance(
            sha256=upload.sha256 if parent_id is None else None,
            blob_key=blob_key(upload.sha256) if parent_id is None else None,
            file_name=name,
            file_paths=paths if parent_id is None else [f"{p}!{part.path if part else ''}" for p in paths],
            size=upload.size if parent_id is None else None,
            parent_id=parent_id,
            uploader=upload.uploader,
            status=status,  # type: ignore[arg-type]
            error=error,
            agent=AGENT,
            processed_at=datetime.now(UTC),
        ),
    )
    record.details.document = details
    return enrich(record, text) if text else record


class DocumentPipeline:
    """What a worker needs to take one ledger entry to its final state."""

    def __init__(
        self,
        settings: Settings,
        search: OpenSearch,
        blobs: BlobStore,
        sessions: sessionmaker[Session],
        extractor: Callable[..., Extraction] = extract,
    ) -> None:
        self.settings = settings
        self.search = search
        self.blobs = blobs
        self.sessions = sessions
        self.extractor = extractor

    def _set_state(
        self, upload_id: int, status: str, error: str | None = None, record: str | None = None
    ) -> None:
        with transaction(self.sessions) as session:
            upload = session.get(Upload, upload_id)
            if upload is None:
                return
            upload.status = status
            upload.error = error
            upload.record_id = record
            upload.agent = AGENT

    def fail(self, upload_id: int, reason: str) -> None:
        self._set_state(upload_id, "failed", reason[:2000])

    def release(self, upload_id: int) -> None:
        """Hand an upload back to the queue (a retry is coming); a retry is not a crash."""
        with transaction(self.sessions) as session:
            upload = session.get(Upload, upload_id)
            if upload is not None and upload.status == "processing":
                upload.status = "received"
                upload.attempts = max(0, upload.attempts - 1)

    def start(self, upload_id: int) -> Upload | None:
        """Claim one delivery of the task; None when there is nothing (more) to do."""
        with transaction(self.sessions) as session:
            upload = session.get(Upload, upload_id)
            if upload is None or upload.status in FINAL_STATES:
                return None
            upload.attempts += 1
            if upload.attempts > MAX_DELIVERIES:
                upload.status = "failed"
                upload.error = f"quarantined: processing did not finish in {MAX_DELIVERIES} attempts"
                return None
            upload.status = "processing"
            session.flush()
            session.expunge(upload)
            return upload

    def _paths_of(self, sha256: str) -> list[str]:
        with self.sessions() as session:
            return sorted(set(session.scalars(select(Upload.path).where(Upload.sha256 == sha256))))

    def _indexed_already(self, record_key: str) -> bool:
        try:
            found = self.search.get(
                index=write_alias(self.settings.index_prefix, "document"),
                id=record_key,
                _source_includes=["provenance.status"],
            )
        except NotFoundError:
            return False
        return bool(found.get("found"))

    def process(self, upload_id: int) -> str | None:
        """Take one upload to a final ledger state and return that state."""
        upload = self.start(upload_id)
        if upload is None:
            return None
        record_key = upload.sha256
        paths = self._paths_of(upload.sha256)
        if self._indexed_already(record_key):
            # The same content was indexed from another upload: one record, every path kept.
            self.search.update(
                index=write_alias(self.settings.index_prefix, "document"),
                id=record_key,
                body={"doc": {"provenance": {"file_paths": paths}}},
                refresh=True,
            )
            self._set_state(upload_id, "duplicate", None, record_key)
            return "duplicate"

        with tempfile.TemporaryDirectory(prefix="speurder-extract-") as work:
            local = Path(work) / "original"
            copy_to(self.blobs, upload.sha256, local)
            with local.open("rb") as stream:
                extraction = self.extractor(
                    stream,
                    tika_url=self.settings.tika_url,
                    file_name=upload.file_name,
                    ocr=self.settings.ocr_enabled,
                    ocr_languages=self.settings.ocr_languages,
                    timeout_seconds=self.settings.tika_timeout_seconds,
                )

        state = "indexed" if extraction.status == "ok" else extraction.status
        records = [
            build_record(
                upload,
                extraction.container,
                record_key=record_key,
                status=state,
                error=extraction.error,
                paths=paths,
            )
        ]
        for part in extraction.embedded:
            records.append(
                build_record(
                    upload,
                    part,
                    record_key=record_id("document", upload.sha256, part.path),
                    status="indexed",
                    error=None,
                    paths=paths,
                    parent_id=record_key,
                )
            )
        result = write_records(self.search, self.settings.index_prefix, records, refresh="wait_for")
        if result.errors:
            first = next(iter(result.errors.items()))
            self._set_state(upload_id, "failed", f"the index refused record {first[0]}: {first[1]}", None)
            return "failed"
        self._set_state(upload_id, state, extraction.error, record_key)
        return state
