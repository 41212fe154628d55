"""Text and metadata from any file through a Tika server, with OCR chosen explicitly per request.

Tika's recursive endpoint walks containers (archives, mail, Office documents with embedded files) and
answers one metadata item per document: the file first, then its children. This module turns that
answer into a state a clerk can read (ok, encrypted, unsupported, failed) with bounded time and memory:
a per-request time limit, a limit on the number of children and on the text kept (`ChildLimits`).
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import quote

# tika-python would otherwise try to download and start a server jar of its own.
os.environ.setdefault("TIKA_CLIENT_ONLY", "1")

import requests
from tika import tika as tika_module

from ingest.archives import ChildLimits, member_path, select_children

tika_module.TikaClientOnly = True

ENCRYPTED_MARKERS = ("EncryptedDocumentException", "encrypted document", "PasswordException")
# Formats that are encryption by nature: no parser could read them without a key.
ENCRYPTED_TYPES = ("application/pgp-encrypted", "application/x-pgp-encrypted")
EMPTY_PARSER = "org.apache.tika.parser.EmptyParser"
# Tika refuses a per-request time limit below its configured minimum (30 s in Tika 3).
MINIMUM_TIMEOUT_SECONDS = 31
_ENCRYPTED_MEMBER = re.compile(r"stream \((?P<name>[^)]+)\) is encrypted")


class ExtractionUnavailable(RuntimeError):
    """Tika could not be reached or answered 5xx: retry later, the file is not at fault."""


@dataclass
class Part:
    """One document out of a file: the container itself or an embedded item (attachment, member)."""

    text: str
    metadata: dict[str, Any]
    path: str = ""
    status: str = "indexed"  # of an embedded item: indexed, encrypted or failed
    error: str | None = None


@dataclass
class Extraction:
    status: str  # ok | encrypted | unsupported | failed
    error: str | None = None
    container: Part | None = None
    embedded: list[Part] = field(default_factory=list)
    # What the clerk should know about a file that did go in: children cut off, text truncated.
    notes: list[str] = field(default_factory=list)
    timed_out: bool = False

    @property
    def text(self) -> str:
        return self.container.text if self.container else ""


def _exception_of(metadata: dict[str, Any]) -> str | None:
    for key in (
        "X-TIKA:EXCEPTION:container_exception",
        "X-TIKA:EXCEPTION:embedded_exception",
        "X-TIKA:EXCEPTION:runtime",
    ):
        value = metadata.get(key)
        if value:
            return str(value)
    return None


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0][:500] if message.strip() else "no detail"


def _flag(metadata: dict[str, Any], key: str) -> bool:
    value = metadata.get(key)
    values = value if isinstance(value, list) else [value]
    return any(str(item).lower() == "true" for item in values)


def _parsed_by(metadata: dict[str, Any]) -> list[str]:
    value = metadata.get("X-TIKA:Parsed-By") or []
    return [str(item) for item in (value if isinstance(value, list) else [value])]


def _content_type(metadata: dict[str, Any]) -> str:
    value = metadata.get("Content-Type") or ""
    return str(value[0] if isinstance(value, list) and value else value)


def _encrypted(metadata: dict[str, Any], text: str) -> bool:
    """Encrypted and therefore unread: a flag or exception from Tika, or a format that is a cipher."""
    if _content_type(metadata).split(";")[0].strip() in ENCRYPTED_TYPES:
        return True
    problem = _exception_of(metadata) or ""
    # An owner-password PDF is flagged encrypted but reads fine: only an unread file counts.
    return not text and (_flag(metadata, "X-TIKA:encrypted") or any(m in problem for m in ENCRYPTED_MARKERS))


def _part_of(item: dict[str, Any]) -> Part:
    text = str(item.pop("X-TIKA:content", "") or "").strip()
    part = Part(
        text=text, metadata=item, path=member_path(str(item.get("X-TIKA:embedded_resource_path", "")))
    )
    problem = _exception_of(item)
    if _encrypted(item, text):
        part.status, part.error = "encrypted", "the embedded file is encrypted"
    elif problem and not text:
        part.status, part.error = "failed", f"Tika could not parse the embedded file: {_first_line(problem)}"
    return part


def _too_slow(timeout: int) -> Extraction:
    return Extraction("failed", f"extraction did not finish within the limit of {timeout} s", timed_out=True)


def headers_for(
    file_name: str, *, ocr: bool, ocr_languages: str, timeout_seconds: int, limits: ChildLimits
) -> dict[str, str]:
    """The request headers: OCR, time limit and the bounds on children and text, all explicit."""
    return {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file_name)}",
        # OCR is never left to Tika's default (on whenever tesseract is installed): we say which.
        "X-Tika-OCRskipOcr": "false" if ocr else "true",
        "X-Tika-PDFOcrStrategy": "auto" if ocr else "no_ocr",
        "X-Tika-OCRlanguage": ocr_languages,
        # Past this, Tika kills the parse (and its forked JVM) and the file is reported as too slow.
        "X-Tika-Timeout-Millis": str(max(timeout_seconds, MINIMUM_TIMEOUT_SECONDS) * 1000),
        # One more than we keep, so that "more than the limit" is visible in the answer.
        "maxEmbeddedResources": str(limits.max_count + 1),
        "writeLimit": str(limits.max_text_chars),
        "Content-Type": "application/octet-stream",
    }


_SESSIONS: dict[int, requests.Session] = {}
# A kept connection Tika has closed fails within this long of the request's start.
STALE_CONNECTION_SECONDS = 2.0


def _session() -> requests.Session:
    """This process's connections to Tika, kept open from one file to the next: a new connection per file
    cost Tika some 2 ms of processor time a file, and this process half a millisecond. One per process: a
    forked worker never shares its parent's sockets."""
    pid = os.getpid()
    session = _SESSIONS.get(pid)
    if session is None:
        _SESSIONS.clear()
        session = _SESSIONS[pid] = requests.Session()
    return session


def extract(
    stream: BinaryIO,
    *,
    tika_url: str,
    file_name: str,
    ocr: bool,
    ocr_languages: str,
    timeout_seconds: int,
    limits: ChildLimits | None = None,
) -> Extraction:
    """Parse one file with Tika's recursive endpoint; a bad file becomes a status, never an exception."""
    limits = limits or ChildLimits()
    timeout = max(timeout_seconds, MINIMUM_TIMEOUT_SECONDS)
    headers = headers_for(
        file_name, ocr=ocr, ocr_languages=ocr_languages, timeout_seconds=timeout_seconds, limits=limits
    )
    headers["Accept"] = "application/json"
    start = stream.tell() if stream.seekable() else None

    def put() -> tuple[int, str]:
        return tika_module.callServer(  # type: ignore[no-any-return]
            "put",
            tika_url,
            "/rmeta/text",
            stream,
            headers,
            False,
            httpVerbs={"put": _session().put},
            requestOptions={"timeout": timeout + 30},
        )

    started = time.monotonic()
    try:
        try:
            status, body = put()
        except requests.ConnectionError:
            # A kept connection that Tika closed just as it was reused fails as the file is sent: once
            # more, on a new connection and from the start of the file. Tika away altogether fails again
            # at once; a connection lost later, in the middle of a parse, is not sent again here.
            if start is None or time.monotonic() - started >= STALE_CONNECTION_SECONDS:
                raise
            stream.seek(start)
            status, body = put()
    except requests.RequestException as exc:
        if time.monotonic() - started >= timeout:
            return _too_slow(timeout)
        raise ExtractionUnavailable(f"Tika at {tika_url} did not answer: {exc}") from exc
    if status in {500, 502, 503, 504} and time.monotonic() - started >= timeout:
        # Tika stopped a parse that ran past the limit: the file is at fault, not the service.
        return _too_slow(timeout)
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
    return classify(items, file_name, limits)


def classify(items: list[dict[str, Any]], file_name: str, limits: ChildLimits) -> Extraction:
    """Tika's answer (the file first, then its children) as a state, a container and kept children."""
    parts = [_part_of(item) for item in items]
    container, children = parts[0], parts[1:]
    meta = container.metadata
    problem = _exception_of(meta)
    kind = _content_type(meta) or "an unknown type"
    if _encrypted(meta, container.text):
        detail = f" ({_first_line(problem)})" if problem else f" ({kind})"
        return Extraction("encrypted", f"the file is encrypted{detail}", container)
    if not children and not container.text and _parsed_by(meta)[-1:] == [EMPTY_PARSER]:
        return Extraction("unsupported", f"Tika has no parser for {kind}", container)
    notes = []
    if _flag(meta, "X-TIKA:EXCEPTION:write_limit_reached"):
        notes.append(f"text cut off after {limits.max_text_chars} characters")
    if _flag(meta, "X-TIKA:EXCEPTION:embedded_resource_limit_reached"):
        notes.append(f"Tika stopped after {limits.max_count} embedded items")
    stream_problem = str(meta.get("X-TIKA:EXCEPTION:embedded_stream_exception") or "")
    for match in _ENCRYPTED_MEMBER.finditer(stream_problem):
        # A member Tika could not even open (e.g. an encrypted entry of a zip): a child all the same.
        children.append(
            Part("", {}, member_path(match.group("name")), "encrypted", "the embedded file is encrypted")
        )
    selection = select_children([(p.path, p.metadata, p.text) for p in children], limits)
    notes += selection.notes
    kept = [children[position] for position in selection.kept]
    if problem and not container.text and not kept:
        return Extraction("failed", f"Tika could not parse the file: {_first_line(problem)}", container)
    if problem:
        notes.append(f"partly read: {_first_line(problem)}")
    return Extraction("ok", None, container, kept, notes)
