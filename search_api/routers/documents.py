"""Uploading documents and following what became of each file."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from case_store.audit import Entry
from case_store.models import Upload
from ingest.blobs import BlobError
from ingest.documents import accept_upload
from ingest.tasks import PROCESS_DOCUMENT
from search_api.deps import Audit, Blobs, Csrf, CurrentPrincipal, Sessions, Tasks, csrf_token

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
) -> dict[str, Any]:
    """Receive files: each is stored under its SHA-256 and has a ledger row before we answer."""
    if case and case not in principal.case_numbers:
        raise HTTPException(403, f"you are not a member of case {case}")
    batch_id = batch or uuid.uuid4().hex
    received = []
    for position, upload in enumerate(files):
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
    # Enqueue only after the ledger rows are committed; an enqueue that fails leaves a `received`
    # row, which reconciliation picks up again.
    for item in received:
        if "upload_id" in item:
            try:
                tasks.send_task(PROCESS_DOCUMENT, args=[item["upload_id"]])
            except Exception:
                log.exception("could not enqueue upload %s; it stays `received`", item["upload_id"])
    return {"batch": batch_id, "files": received}


def _batch_rows(sessions: Sessions, principal: CurrentPrincipal, batch_id: str) -> list[Upload]:
    with sessions() as session:
        return list(
            session.scalars(
                select(Upload)
                .where(Upload.batch_id == batch_id, Upload.uploader == principal.username)
                .order_by(Upload.id)
            )
        )


def _batch_summary(rows: list[Upload]) -> dict[str, Any]:
    counts = Counter(row.status for row in rows)
    return {
        "files": len(rows),
        "counts": dict(counts),
        "done": all(row.status not in {"received", "processing"} for row in rows),
        "items": [
            {
                "upload_id": row.id,
                "file": row.path,
                "sha256": row.sha256,
                "size": row.size,
                "status": row.status,
                "error": row.error,
                "record_id": row.record_id,
            }
            for row in rows
        ],
    }


@router.get("/api/batches/{batch_id}")
def batch_status(batch_id: str, principal: CurrentPrincipal, sessions: Sessions) -> dict[str, Any]:
    """What became of each file of one of your batches."""
    rows = _batch_rows(sessions, principal, batch_id)
    if not rows:
        raise HTTPException(404, "no such batch of yours")
    return {"batch": batch_id, **_batch_summary(rows)}


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(batch_id: str, request: Request, principal: CurrentPrincipal, sessions: Sessions) -> Response:
    """The batch's files and their states; the fragment refreshes itself until all are done."""
    rows = _batch_rows(sessions, principal, batch_id)
    if not rows:
        raise HTTPException(404, "no such batch of yours")
    context = {
        "principal": principal,
        "batch": batch_id,
        "summary": _batch_summary(rows),
        "csrf_token": csrf_token(request),
    }
    template = "_batch.html" if request.headers.get("hx-request") else "batch.html"
    return request.app.state.templates.TemplateResponse(request, template, context)
