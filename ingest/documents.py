"""Documents: received into the blob store and the ledger, then extracted, enriched and indexed.

Every file ends in a ledger state a user can see: indexed, duplicate, encrypted, unsupported or
failed with its reason. A failure is data: the record is indexed all the same, with its status and
error, so it is found by name and never silently missing.
"""

from __future__ import annotations

import logging
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as SearchConnectionError
from opensearchpy.exceptions import NotFoundError
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from case_store.db import transaction
from case_store.models import FINAL_STATES, Upload
from enrichers.identifiers import IDENTIFIER_TYPES
from enrichers.identifiers import extract as extract_identifiers
from enrichers.language import detect_language
from enrichers.ner import entities as named_entities
from enrichers.resolution import identifier_entity_ids, record_entity_ids
from ingest.archives import ChildLimits
from ingest.blobs import BlobStore, blob_key, copy_to
from ingest.index.admin import write_alias
from ingest.index.bulk import write_records
from ingest.records import (
    DocumentDetails,
    Mention,
    Organisation,
    Person,
    Provenance,
    Record,
    Vehicle,
    record_id,
)
from ingest.settings import Settings
from ingest.tika import Extraction, ExtractionUnavailable, Part, extract

log = logging.getLogger(__name__)

DOCUMENT_REGISTER = "ges"
AGENT = f"speurder-worker@{socket.gethostname()}"
MAX_DELIVERIES = 6  # a file that kills its worker this often is quarantined, not retried forever
OCR_TOO_SLOW = "ocr_too_slow"  # a ledger flag: this file ran past the time limit with OCR
TIKA_RESTART_SECONDS = 120


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
    evidence_number: str | None = None,
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
            evidence_number=evidence_number,
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
    _named_entities(record, text)
    return record


# Named entities are read from the opening of a document: Dutch NER (Frog) reads a few hundred words a
# second, and a document's first pages name its people, firms and places far more often than not.
NER_MAX_CHARS = 4000
_NER_MENTIONS = {"PER": "person", "ORG": "organisation", "LOC": "location"}


def _named_entities(record: Record, text: str) -> None:
    """People, organisations and places the text names, onto the record as mentions (with offsets) and
    names. A name in running text is nobody's entity id (see `enrich`). When NER fails the document is
    indexed without it, with the reason in the log: a file is never lost over an enrichment."""
    if not text.strip():
        return
    try:
        found = named_entities(text[:NER_MAX_CHARS], record.language)
    except Exception:
        log.exception("named entities skipped for %s", record.id)
        return
    people = list(dict.fromkeys(item.text for item in found if item.label == "PER"))
    firms = list(dict.fromkeys(item.text for item in found if item.label == "ORG"))
    record.persons += [Person(name=name, role="mentioned") for name in people]
    record.organisations += [Organisation(name=name) for name in firms]
    record.names = list(dict.fromkeys([*record.names, *people, *firms]))
    record.mentions += [
        Mention(type=_NER_MENTIONS[item.label], value=item.text, start=item.start, end=item.end)
        for item in found
        if item.label in _NER_MENTIONS
    ]


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
            evidence_number=upload.evidence_number,
            status=status,  # type: ignore[arg-type]
            error=error,
            agent=AGENT,
            processed_at=datetime.now(UTC),
        ),
    )
    record.details.document = details
    return enrich(record, text) if text else record


# A ledger state that says the content's record is in the index: a second copy is a duplicate of it.
# A failure is not: the second copy is tried again (the first may have met a passing fault).
SETTLED_WITH_RECORD = ("indexed", "encrypted", "unsupported")


class DocumentPipeline:
    """What a worker needs to take one ledger entry to its final state."""

    def __init__(
        self,
        settings: Settings,
        search: OpenSearch,
        blobs: BlobStore,
        sessions: sessionmaker[Session],
        extractor: Callable[..., Extraction] = extract,
        limits: ChildLimits | None = None,
    ) -> None:
        self.settings = settings
        self.search = search
        self.blobs = blobs
        self.sessions = sessions
        self.extractor = extractor
        self.limits = limits or ChildLimits()

    def _set_state(
        self,
        upload_id: int,
        status: str,
        error: str | None = None,
        record: str | None = None,
        note: str | None = None,
    ) -> None:
        # One UPDATE, no read first: the ledger's last step of every file.
        with transaction(self.sessions) as session:
            session.execute(
                update(Upload)
                .where(Upload.id == upload_id)
                .values(status=status, error=error, note=note, record_id=record, agent=AGENT)
                .execution_options(synchronize_session=False)
            )

    def fail(self, upload_id: int, reason: str) -> None:
        """Quarantine a file with its reason, and index it as failed so it is found by name."""
        reason = reason[:2000]
        record_key: str | None = None
        with self.sessions() as session:
            upload = session.get(Upload, upload_id)
            if upload is not None:
                session.expunge(upload)
        if upload is not None:
            record = build_record(
                upload,
                None,
                record_key=upload.sha256,
                status="failed",
                error=reason,
                paths=self._paths_of(upload.sha256),
            )
            try:
                if not write_records(self.search, self.settings.index_prefix, [record]).errors:
                    record_key = upload.sha256
            except SearchConnectionError:
                log.warning("the index is away; upload %s is failed in the ledger only", upload_id)
        self._set_state(upload_id, "failed", reason, record_key)

    def release(self, upload_id: int) -> None:
        """Hand an upload back to the queue (a retry is coming); a retry is not a crash."""
        with transaction(self.sessions) as session:
            upload = session.get(Upload, upload_id)
            if upload is not None and upload.status == "processing":
                upload.status = "received"
                upload.attempts = max(0, upload.attempts - 1)

    def _claim(self, upload_id: int) -> tuple[Upload, list[str], bool] | None:
        """Claim one delivery of the task (None when there is nothing, or nothing more, to do), and in the
        same transaction read what `process` needs of the ledger: every path of this content, and whether
        another entry with it says its record is in the index. Two statements: the claim, which counts the
        delivery and says `processing` unless this was one delivery too many, and the content's entries."""
        claim = (
            update(Upload)
            .where(Upload.id == upload_id, Upload.status.not_in(FINAL_STATES))
            .values(
                attempts=Upload.attempts + 1,
                status=case((Upload.attempts >= MAX_DELIVERIES, Upload.status), else_="processing"),
            )
            .returning(Upload)
            .execution_options(synchronize_session=False)
        )
        with transaction(self.sessions) as session:
            upload = session.scalars(claim).one_or_none()
            if upload is None:
                return None
            if upload.attempts <= MAX_DELIVERIES:
                session.expunge(upload)
                copies = session.execute(
                    select(Upload.id, Upload.path, Upload.status).where(Upload.sha256 == upload.sha256)
                ).all()
                paths = sorted({copy.path for copy in copies})
                settled = any(c.id != upload.id and c.status in SETTLED_WITH_RECORD for c in copies)
                return upload, paths, settled
            quarantined = upload.sha256
        self.fail(upload_id, f"quarantined: processing did not finish in {MAX_DELIVERIES} attempts")
        log.warning("upload %s (%s) quarantined", upload_id, quarantined)
        return None

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

    def _extract(self, local: Path, file_name: str, *, ocr: bool, wait_for_tika: bool = False) -> Extraction:
        # After a time-out Tika restarts its parsing process; that is worth a short wait here rather
        # than a retry of the whole task (which would start with the slow attempt again).
        deadline = time.monotonic() + (TIKA_RESTART_SECONDS if wait_for_tika else 0)
        while True:
            try:
                with local.open("rb") as stream:
                    return self.extractor(
                        stream,
                        tika_url=self.settings.tika_url,
                        file_name=file_name,
                        ocr=ocr,
                        ocr_languages=self.settings.ocr_languages,
                        timeout_seconds=self.settings.tika_timeout_seconds,
                        limits=self.limits,
                    )
            except ExtractionUnavailable:
                if time.monotonic() > deadline:
                    raise
                time.sleep(3)

    def _remember(self, upload_id: int, flag: str) -> None:
        with transaction(self.sessions) as session:
            upload = session.get(Upload, upload_id)
            if upload is not None:
                upload.meta = {**(upload.meta or {}), flag: True}

    def process(self, upload_id: int) -> str | None:
        """Take one upload to a final ledger state and return that state."""
        claimed = self._claim(upload_id)
        if claimed is None:
            return None
        upload, paths, settled_in_ledger = claimed
        record_key = upload.sha256
        # Asked of the ledger, not only the index: a delivery repeated after a crash finds its own
        # record in the index and must still end `indexed`, not `duplicate` of itself.
        if settled_in_ledger and self._indexed_already(record_key):
            # The same content was indexed from another upload: one record, every path kept.
            self.search.update(
                index=write_alias(self.settings.index_prefix, "document"),
                id=record_key,
                body={"doc": {"provenance": {"file_paths": paths}}},
                refresh=True,
            )
            self._set_state(upload_id, "duplicate", None, record_key)
            return "duplicate"

        # The work folder holds the one original being parsed; children never touch the disk.
        with tempfile.TemporaryDirectory(prefix="speurder-extract-") as work:
            local = Path(work) / "original"
            copy_to(self.blobs, upload.sha256, local)
            # A file that ran past the time limit with OCR once is read without it from then on: each
            # time-out costs the limit and restarts Tika's parsing process for every worker.
            too_slow = bool((upload.meta or {}).get(OCR_TOO_SLOW))
            extraction = self._extract(
                local, upload.file_name, ocr=self.settings.ocr_enabled and not too_slow
            )
            if extraction.timed_out and self.settings.ocr_enabled and not too_slow:
                # Mostly OCR of many images (an archive that contains itself, a photo album): the text
                # layer and the children without OCR are worth more than a bare failure.
                self._remember(upload_id, OCR_TOO_SLOW)
                extraction = self._extract(local, upload.file_name, ocr=False, wait_for_tika=True)
                too_slow = True
            if too_slow and self.settings.ocr_enabled:
                extraction.notes.insert(0, "read without OCR: with OCR it ran past the time limit")

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
                    record_key=record_id(
                        "document", upload.sha256, part.path, part.metadata.get("X-TIKA:embedded_id_path", "")
                    ),
                    status=part.status,
                    error=part.error,
                    paths=paths,
                    parent_id=record_key,
                )
            )
        # Written without a refresh: searches find the records within the index's refresh interval (a
        # second), and at once when the batch is done (the batch status refreshes then). A refresh per
        # file made a segment per file and cost the pipeline some 7 % of its pages per second; waiting
        # for the scheduled refresh (`wait_for`) held the worker idle instead (decisions 21, 33).
        result = write_records(self.search, self.settings.index_prefix, records)
        if result.errors:
            first = next(iter(result.errors.items()))
            self.fail(upload_id, f"the index refused record {first[0]}: {first[1]}")
            return "failed"
        note = "; ".join(extraction.notes)[:2000] or None
        if extraction.embedded:
            note = "; ".join(filter(None, [f"{len(extraction.embedded)} embedded items", note]))
        self._set_state(upload_id, state, extraction.error, record_key, note)
        return state


def make_searchable(search: OpenSearch, index_prefix: str) -> None:
    """Every document record written so far is found by searches from now on. Workers write without
    a refresh (decision 33); whoever says a batch is done calls this first."""
    search.indices.refresh(index=write_alias(index_prefix, "document"))


def retry_failed(sessions: sessionmaker[Session], upload_ids: list[int]) -> list[int]:
    """Put failed files back in the queue's hands: a fresh count of attempts, no old reason.

    Returns the ids that were failed (and are now `received`); the caller enqueues them after this commit.
    """
    with transaction(sessions) as session:
        rows = session.scalars(select(Upload).where(Upload.id.in_(upload_ids), Upload.status == "failed"))
        retried = []
        for upload in rows:
            upload.status, upload.error, upload.note, upload.attempts = "received", None, None, 0
            retried.append(upload.id)
    return retried
