"""Uploading documents and following what became of each file."""

from __future__ import annotations

import logging
import tempfile
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from opensearchpy import OpenSearch
from pydantic import BaseModel, Field
from sqlalchemy import select

from case_store.audit import Entry
from case_store.models import Upload
from ingest.blobs import BlobError
from ingest.documents import accept_upload, make_searchable, retry_failed
from ingest.reports import batch_report, progress, report_csv, report_pdf, sha256_of, summary_line
from ingest.resumable import ResumableError, ResumableUploads
from ingest.settings import Settings
from ingest.tasks import PROCESS_DOCUMENT
from search_api.deps import (
    AppSettings,
    Audit,
    Blobs,
    Csrf,
    CurrentPrincipal,
    Search,
    Sessions,
    Tasks,
    csrf_token,
)

log = logging.getLogger(__name__)
router = APIRouter()


@router.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, principal: CurrentPrincipal) -> Response:
    """The upload form."""
    return request.app.state.templates.TemplateResponse(
        request, "upload.html", {"principal": principal, "csrf_token": csrf_token(request)}
    )


@router.post("/api/documents", status_code=202, dependencies=[Csrf])
def upload_documents(
    principal: CurrentPrincipal,
    blobs: Blobs,
    sessions: Sessions,
    tasks: Tasks,
    audit: Audit,
    files: list[UploadFile],
    case: Annotated[str | None, Form(max_length=80)] = None,
    batch: Annotated[str | None, Form(max_length=64)] = None,
    sha256: Annotated[list[str] | None, Form()] = None,
    evidence: Annotated[str | None, Form(max_length=80)] = None,
) -> dict[str, Any]:
    """Receive files: each is stored under its SHA-256 and has a ledger row before we answer."""
    if case and case not in principal.case_numbers:
        raise HTTPException(403, f"you are not a member of case {case}")
    # A picker left empty (the page has one for files and one for a folder) still sends a nameless, empty
    # part: not a file anyone chose. Positions are kept, as `sha256` is matched to files by position.
    chosen = [(position, upload) for position, upload in enumerate(files) if upload.filename or upload.size]
    if not chosen:
        raise HTTPException(422, "no file was sent")
    batch_id = batch or uuid.uuid4().hex
    received = []
    for position, upload in chosen:
        name = upload.filename or f"file-{position}"
        expected = sha256[position] if sha256 and position < len(sha256) else None
        try:
            item = accept_upload(
                blobs,
                sessions,
                upload.file,
                file_name=name.rsplit("/", 1)[-1],
                path=name,
                batch_id=batch_id,
                uploader=principal.username,
                case_number=case,
                expected_sha256=expected,
                evidence_number=evidence,
            )
        except BlobError as exc:
            received.append({"file": name, "error": str(exc)})
            continue
        received.append({"file": name, "upload_id": item.upload_id, "sha256": item.sha256, "size": item.size})
    audit.append(
        Entry(
            action="collection.upload",
            actor=principal.username,
            unit=principal.unit,
            justification=case,
            details={"batch": batch_id, "files": [{k: v for k, v in r.items()} for r in received]},
        )
    )
    _enqueue(tasks, [item["upload_id"] for item in received if "upload_id" in item])
    return {"batch": batch_id, "files": received}


def _enqueue(tasks: Tasks, upload_ids: list[int]) -> None:
    # Only after the ledger rows are committed; an enqueue that fails leaves a `received` row, which
    # `speurder reconcile` queues again.
    for upload_id in upload_ids:
        try:
            tasks.send_task(PROCESS_DOCUMENT, args=[upload_id])
        except Exception:
            log.exception("could not enqueue upload %s; it stays `received`", upload_id)


def _batch_rows(sessions: Sessions, principal: CurrentPrincipal, batch_id: str) -> list[Upload]:
    with sessions() as session:
        rows = list(
            session.scalars(
                select(Upload)
                .where(Upload.batch_id == batch_id, Upload.uploader == principal.username)
                .order_by(Upload.id)
            )
        )
    if not rows:
        raise HTTPException(404, "no such batch of yours")
    return rows


def _batch_summary(batch_id: str, rows: list[Upload]) -> dict[str, Any]:
    summary = progress(rows)
    done = summary["final"] == summary["files"]
    reports: dict[str, Any] = {
        kind: {"url": f"/api/batches/{batch_id}/report.{kind}", "sha256": None} for kind in ("csv", "pdf")
    }
    if done:
        # Final: the report no longer changes, so its hashes can be shown beside the links.
        report = batch_report(batch_id, rows)
        reports["csv"]["sha256"] = sha256_of(report_csv(report))
        reports["pdf"]["sha256"] = sha256_of(report_pdf(report))
        reports["summary"] = summary_line(report)
    return {
        **summary,
        "done": done,
        "reports": reports,
        "failures": [
            {"upload_id": row.id, "file": row.path, "error": row.error}
            for row in rows
            if row.status == "failed"
        ],
        "items": [
            {
                "upload_id": row.id,
                "file": row.path,
                "sha256": row.sha256,
                "size": row.size,
                "status": row.status,
                "error": row.error,
                "note": row.note,
                "record_id": row.record_id,
                "evidence_number": row.evidence_number,
            }
            for row in rows
        ],
    }


def _summary_of(search: OpenSearch, settings: Settings, batch_id: str, rows: list[Upload]) -> dict[str, Any]:
    """The batch's summary; a batch said to be done is found by every search from then on. The worker
    writes each file's records without waiting for a refresh (decision 33): the index shows them within
    its refresh interval, and all at once when the batch is reported done."""
    summary = _batch_summary(batch_id, rows)
    if summary["done"]:
        make_searchable(search, settings.index_prefix)
    return summary


@router.get("/api/batches/{batch_id}")
def batch_status(
    batch_id: str, principal: CurrentPrincipal, sessions: Sessions, search: Search, settings: AppSettings
) -> dict[str, Any]:
    """What became of each file of one of your batches: counts, rate, time left, failures."""
    rows = _batch_rows(sessions, principal, batch_id)
    return {"batch": batch_id, **_summary_of(search, settings, batch_id, rows)}


def _batch_view(request: Request, principal: CurrentPrincipal, batch_id: str, rows: list[Upload]) -> Response:
    context = {
        "principal": principal,
        "batch": batch_id,
        "summary": _summary_of(request.app.state.search, request.app.state.settings, batch_id, rows),
        "csrf_token": csrf_token(request),
    }
    template = "_batch.html" if request.headers.get("hx-request") else "batch.html"
    return request.app.state.templates.TemplateResponse(request, template, context)


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(batch_id: str, request: Request, principal: CurrentPrincipal, sessions: Sessions) -> Response:
    """The batch's files and their states; the fragment refreshes itself until all are done."""
    return _batch_view(request, principal, batch_id, _batch_rows(sessions, principal, batch_id))


REPORT_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


@router.get("/api/batches/{batch_id}/report.{kind}")
def batch_report_download(
    batch_id: str, kind: str, principal: CurrentPrincipal, sessions: Sessions, audit: Audit
) -> Response:
    """The completeness report (CSV or PDF); its SHA-256 travels in `X-Content-SHA256`."""
    if kind not in REPORT_TYPES:
        raise HTTPException(404, "reports come as .csv or .pdf")
    rows = _batch_rows(sessions, principal, batch_id)
    report = batch_report(batch_id, rows)
    content = report_csv(report) if kind == "csv" else report_pdf(report)
    digest = sha256_of(content)
    audit.append(
        Entry(
            action="disclosure.export",
            actor=principal.username,
            unit=principal.unit,
            details={"batch": batch_id, "report": kind, "sha256": digest, "files": report.files},
        )
    )
    return Response(
        content,
        media_type=REPORT_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="volledigheid-{batch_id}.{kind}"',
            "X-Content-SHA256": digest,
        },
    )


def _retry(
    tasks: Tasks, sessions: Sessions, audit: Audit, principal: CurrentPrincipal, rows: list[Upload]
) -> list[int]:
    retried = retry_failed(sessions, [row.id for row in rows if row.status == "failed"])
    if retried:
        audit.append(
            Entry(
                action="collection.retry",
                actor=principal.username,
                unit=principal.unit,
                details={"batch": rows[0].batch_id, "uploads": retried},
            )
        )
    _enqueue(tasks, retried)
    return retried


@router.post("/batches/{batch_id}/retry", dependencies=[Csrf])
def batch_retry(
    batch_id: str,
    request: Request,
    principal: CurrentPrincipal,
    sessions: Sessions,
    tasks: Tasks,
    audit: Audit,
    upload: Annotated[int | None, Form()] = None,
) -> Response:
    """Try the failed files of a batch again (one file, or all of them)."""
    rows = _batch_rows(sessions, principal, batch_id)
    _retry(tasks, sessions, audit, principal, [row for row in rows if upload is None or row.id == upload])
    if request.headers.get("hx-request"):
        return _batch_view(request, principal, batch_id, _batch_rows(sessions, principal, batch_id))
    return RedirectResponse(f"/batches/{batch_id}", status_code=303)


@router.post("/api/batches/{batch_id}/retry", dependencies=[Csrf])
def batch_retry_api(
    batch_id: str, principal: CurrentPrincipal, sessions: Sessions, tasks: Tasks, audit: Audit
) -> dict[str, Any]:
    """Try every failed file of a batch again; answers the ids queued."""
    rows = _batch_rows(sessions, principal, batch_id)
    return {"batch": batch_id, "retried": _retry(tasks, sessions, audit, principal, rows)}


# -- resumable uploads: a large file in chunks, each with its own SHA-256 -----------------------------
class ResumableStart(BaseModel):
    file_name: str = Field(max_length=500)
    path: str | None = Field(default=None, max_length=4000)
    size: int = Field(ge=0)
    sha256: str = Field(min_length=64, max_length=64)
    chunk_size: int = Field(default=8 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024)
    case: str | None = Field(default=None, max_length=80)
    evidence: str | None = Field(default=None, max_length=80)
    batch: str | None = Field(default=None, max_length=64)


def _resumable(settings: AppSettings) -> ResumableUploads:
    return ResumableUploads((settings.data_dir / "uploads").resolve())


def _session_view(session: Any) -> dict[str, Any]:
    return {
        "session": session.id,
        "batch": session.batch_id,
        "chunk_size": session.chunk_size,
        "chunks": session.chunks,
        "received": session.received,
        "missing": session.missing,
    }


@router.post("/api/uploads", status_code=201, dependencies=[Csrf])
def resumable_start(
    body: ResumableStart, principal: CurrentPrincipal, settings: AppSettings
) -> dict[str, Any]:
    """Open a resumable upload of one file, announced with its size and SHA-256."""
    if body.case and body.case not in principal.case_numbers:
        raise HTTPException(403, f"you are not a member of case {body.case}")
    try:
        session = _resumable(settings).create(
            principal.username,
            file_name=body.file_name.rsplit("/", 1)[-1],
            path=body.path or body.file_name,
            size=body.size,
            sha256=body.sha256,
            batch_id=body.batch or uuid.uuid4().hex,
            case_number=body.case,
            evidence_number=body.evidence,
            chunk_size=body.chunk_size,
        )
    except ResumableError as exc:
        raise HTTPException(422, str(exc)) from exc
    return _session_view(session)


@router.get("/api/uploads/{session_id}")
def resumable_status(session_id: str, principal: CurrentPrincipal, settings: AppSettings) -> dict[str, Any]:
    """Which chunks have arrived: what a client asks before it resumes."""
    try:
        return _session_view(_resumable(settings).get(session_id, principal.username))
    except ResumableError as exc:
        raise HTTPException(404, str(exc)) from exc


@router.put("/api/uploads/{session_id}/chunks/{index}", dependencies=[Csrf])
async def resumable_chunk(
    session_id: str,
    index: int,
    request: Request,
    principal: CurrentPrincipal,
    settings: AppSettings,
    chunk_sha256: Annotated[str, Header(alias="X-Chunk-SHA256", min_length=64, max_length=64)],
) -> dict[str, Any]:
    """One chunk, kept only if it hashes to `X-Chunk-SHA256`; sending it again is harmless."""
    uploads = _resumable(settings)
    try:
        uploads.get(session_id, principal.username)
    except ResumableError as exc:
        raise HTTPException(404, str(exc)) from exc
    # The body is spooled to disk as it comes (never whole in memory), then checked and kept.
    with tempfile.TemporaryFile() as spool:
        async for data in request.stream():
            spool.write(data)
        spool.seek(0)
        try:
            session = uploads.put_chunk(session_id, principal.username, index, spool, chunk_sha256)
        except ResumableError as exc:
            raise HTTPException(422, str(exc)) from exc
    return _session_view(session)


@router.post("/api/uploads/{session_id}/complete", status_code=202, dependencies=[Csrf])
def resumable_complete(
    session_id: str,
    principal: CurrentPrincipal,
    settings: AppSettings,
    blobs: Blobs,
    sessions: Sessions,
    tasks: Tasks,
    audit: Audit,
) -> dict[str, Any]:
    """All chunks in: the file goes into the blob store under its SHA-256, the ledger, the queue."""
    uploads = _resumable(settings)
    try:
        session = uploads.get(session_id, principal.username)
        stream = uploads.chunks_of(session)
    except ResumableError as exc:
        raise HTTPException(409 if "missing" in str(exc) else 404, str(exc)) from exc
    try:
        item = accept_upload(
            blobs,
            sessions,
            stream,  # type: ignore[arg-type]
            file_name=session.file_name,
            path=session.path,
            batch_id=session.batch_id,
            uploader=principal.username,
            case_number=session.case_number,
            expected_sha256=session.sha256,
            evidence_number=session.evidence_number,
        )
    except BlobError as exc:
        raise HTTPException(422, f"{exc}; the upload is kept, send the damaged chunks again") from exc
    finally:
        stream.close()
    uploads.discard(session_id)
    audit.append(
        Entry(
            action="collection.upload",
            actor=principal.username,
            unit=principal.unit,
            justification=session.case_number,
            details={"batch": session.batch_id, "files": [{"file": session.path, "sha256": item.sha256}]},
        )
    )
    _enqueue(tasks, [item.upload_id])
    return {"batch": session.batch_id, "upload_id": item.upload_id, "sha256": item.sha256, "size": item.size}
