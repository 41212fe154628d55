"""One record, opened, and its original: only through the access filter, and always audited."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from ingest.blobs import CHUNK
from search_api.deps import AppSettings, Audit, Blobs, CurrentConsultation, Search, csrf_token
from search_api.search import open_record, similar_records

router = APIRouter()
NOT_VISIBLE = "no such record, or not one you may see"


@router.get("/api/records/{record_id}")
def record_json(
    record_id: str, consultation: CurrentConsultation, client: Search, audit: Audit, settings: AppSettings
) -> dict[str, Any]:
    """The whole record as JSON."""
    record = open_record(client, settings.index_prefix, audit, consultation, record_id)
    if record is None:
        raise HTTPException(404, NOT_VISIBLE)
    return record


@router.get("/records/{record_id}", response_class=HTMLResponse)
def record_page(
    record_id: str,
    request: Request,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
) -> Response:
    """The record's text, identifiers and provenance."""
    record = open_record(client, settings.index_prefix, audit, consultation, record_id)
    if record is None:
        raise HTTPException(404, NOT_VISIBLE)
    context = {"principal": consultation.principal, "record": record, "csrf_token": csrf_token(request)}
    return request.app.state.templates.TemplateResponse(request, "record.html", context)


@router.get("/records/{record_id}/original")
def original(
    record_id: str,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    blobs: Blobs,
    settings: AppSettings,
) -> Response:
    """The original file, as stored under its SHA-256; a download is an audited disclosure."""
    record = open_record(
        client, settings.index_prefix, audit, consultation, record_id, action="disclosure.download"
    )
    sha256 = (record or {}).get("provenance", {}).get("sha256")
    if record is None or not sha256:
        raise HTTPException(404, NOT_VISIBLE if record is None else "this record has no original file")
    if not blobs.exists(sha256):
        raise HTTPException(410, "the original is missing from the blob store; tell an administrator")

    def stream() -> Iterator[bytes]:
        with blobs.open(sha256) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    name = record["provenance"].get("file_name") or sha256
    # Always a download, never rendered inline: a seized HTML file must not run in our origin.
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}",
        "X-Content-SHA256": sha256,
    }
    return StreamingResponse(stream(), media_type="application/octet-stream", headers=headers)


@router.get("/api/records/{record_id}/similar")
def similar_json(
    record_id: str, consultation: CurrentConsultation, client: Search, audit: Audit, settings: AppSettings
) -> list[dict[str, Any]]:
    """Records like this one, among those the user may see."""
    hits = similar_records(client, settings.index_prefix, audit, consultation, record_id)
    if hits is None:
        raise HTTPException(404, NOT_VISIBLE)
    return [asdict(hit) for hit in hits]


@router.get("/records/{record_id}/similar", response_class=HTMLResponse)
def similar_fragment(
    record_id: str,
    request: Request,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
) -> Response:
    """The "more like this" list of the record page, loaded when asked for."""
    hits = similar_records(client, settings.index_prefix, audit, consultation, record_id)
    if hits is None:
        raise HTTPException(404, NOT_VISIBLE)
    return request.app.state.templates.TemplateResponse(request, "_similar.html", {"hits": hits})
