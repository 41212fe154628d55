"""Text and metadata from any file through a Tika server, with OCR chosen explicitly per request."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, BinaryIO

# tika-python would otherwise try to download and start a server jar of its own.
os.environ.setdefault("TIKA_CLIENT_ONLY", "1")

import requests
from tika import parser as tika_parser
from tika import tika as tika_module

tika_module.TikaClientOnly = True

ENCRYPTED_MARKERS = ("EncryptedDocumentException", "encrypted document", "PasswordException")


class ExtractionUnavailable(RuntimeError):
    """Tika could not be reached or answered 5xx: retry later, the file is not at fault."""


@dataclass
class Part:
    """One document out of a file: the container itself or an embedded item (attachment, member)."""

    text: str
    metadata: dict[str, Any]
    path: str = ""


@dataclass
class Extraction:
    status: str  # ok | encrypted | unsupported | failed
    error: str | None = None
    container: Part | None = None
    embedded: list[Part] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.container.text if self.container else ""


def _exception_of(metadata: dict[str, Any]) -> str | None:
    for key in ("X-TIKA:EXCEPTION:container_exception", "X-TIKA:EXCEPTION:runtime"):
        value = metadata.get(key)
        if value:
            return str(value)
    return None


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0][:500] if message.strip() else "no detail"


def extract(
    stream: BinaryIO,
    *,
    tika_url: str,
    file_name: str,
    ocr: bool,
    ocr_languages: str,
    timeout_seconds: int,
) -> Extraction:
    """Parse one file with Tika's recursive endpoint; a bad file becomes a status, never an exception."""
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{requests.utils.quote(file_name)}",
        # OCR is never left to Tika's default (on whenever tesseract is installed): we say which.
        "X-Tika-OCRskipOcr": "false" if ocr else "true",
        "X-Tika-PDFOcrStrategy": "auto" if ocr else "no_ocr",
        "X-Tika-OCRlanguage": ocr_languages,
        "Content-Type": "application/octet-stream",
    }
    try:
        status, body = tika_parser.from_buffer(
            stream,
            serverEndpoint=tika_url,
            headers=headers,
            requestOptions={"timeout": timeout_seconds + 10},
            raw_response=True,
        )
    except requests.RequestException as exc:
        raise ExtractionUnavailable(f"Tika at {tika_url} did not answer: {exc}") from exc
    if status in {502, 503, 504}:
        raise ExtractionUnavailable(f"Tika at {tika_url} answered {status}")
    if status == 415:
        return Extraction("unsupported", f"Tika has no parser for {file_name}")
    if status != 200:
        detail = _first_line(str(body))
        if any(marker in str(body) for marker in ENCRYPTED_MARKERS):
            return Extraction("encrypted", f"the file is encrypted ({detail})")
        return Extraction("failed", f"Tika could not parse the file (HTTP {status}): {detail}")
    try:
        items: list[dict[str, Any]] = json.loads(body)
    except (TypeError, json.JSONDecodeError):
        return Extraction("failed", "Tika answered with something that is not JSON")
    if not items:
        return Extraction("failed", "Tika returned no document")
    container_meta = items[0]
    problem = _exception_of(container_meta)
    if problem and any(marker in problem for marker in ENCRYPTED_MARKERS):
        return Extraction("encrypted", f"the file is encrypted ({_first_line(problem)})")
    parts = [
        Part(
            text=str(item.pop("X-TIKA:content", "") or "").strip(),
            metadata=item,
            path=str(item.get("X-TIKA:embedded_resource_path", "")),
        )
        for item in items
    ]
    container = parts[0]
    if problem and not container.text:
        return Extraction("failed", f"Tika could not parse the file: {_first_line(problem)}", container)
    return Extraction("ok", None, container, parts[1:])
