"""Children of a file: archive members, attachments and embedded documents, within limits.

Tika walks the containers (zip, 7z, tar, mail, Office, PDF portfolios, ...); this module decides what of
that walk becomes child records. A seized disk holds zip bombs and self-containing archives
(`droste.zip`, `quine.gz`) as well as honest archives, so the walk is bounded three ways: how deep, how
many children and how many bytes they expand to. What is cut off is said on the parent's ledger entry,
never silently dropped. Member names come from the file, so they are treated as hostile: a child's path
is always a clean relative path inside its parent (no `..`, no absolute or drive paths, no control
characters). Nothing is ever written outside the worker's temporary work folder, which holds only the
original being parsed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

# Windows drive letters and UNC prefixes, which PurePosixPath would keep as ordinary names.
_DRIVE = re.compile(r"^[A-Za-z]:")


@dataclass(frozen=True)
class ChildLimits:
    """How far one file may expand; Tika enforces its own ratio and depth guards as well."""

    max_depth: int = 8
    max_count: int = 1000
    max_expanded_bytes: int = 512 * 1024 * 1024
    # All text of a file and its children together (Tika's write limit), which bounds the memory
    # the worker spends on one file whatever the archive holds.
    max_text_chars: int = 10_000_000


@dataclass
class Selection:
    """The children kept, in walk order, and what was left out and why."""

    kept: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def member_path(raw: str) -> str:
    """A clean relative path for a member name found inside a file: never absolute, never upward."""
    text = unicodedata.normalize("NFC", raw.replace("\\", "/"))
    text = "".join(char for char in text if unicodedata.category(char)[0] != "C")
    parts = []
    for part in PurePosixPath(text).parts:
        part = _DRIVE.sub("", part).strip()
        if part in {"", "/", ".", ".."}:
            continue
        parts.append(part)
    return "/".join(parts) or "unnamed"


def _depth(metadata: dict[str, Any], path: str) -> int:
    value = str(metadata.get("X-TIKA:embedded_depth", ""))
    return int(value) if value.isdigit() else path.count("/") + 1


def _size(metadata: dict[str, Any], text: str) -> int:
    value = metadata.get("Content-Length")
    if isinstance(value, list):
        value = value[0] if value else None
    if value is not None and str(value).isdigit():
        return int(str(value))
    return len(text.encode("utf-8", "replace"))


def select_children(items: list[tuple[str, dict[str, Any], str]], limits: ChildLimits) -> Selection:
    """Choose which (path, metadata, text) children become records, within `limits`."""
    selection = Selection()
    too_deep = too_many = too_large = 0
    expanded = 0
    for position, (path, metadata, text) in enumerate(items):
        if _depth(metadata, path) > limits.max_depth:
            too_deep += 1
            continue
        if len(selection.kept) >= limits.max_count:
            too_many += 1
            continue
        size = _size(metadata, text)
        if expanded + size > limits.max_expanded_bytes:
            too_large += 1
            continue
        expanded += size
        selection.kept.append(position)
    if too_deep:
        selection.notes.append(f"{too_deep} embedded items deeper than {limits.max_depth} levels left out")
    if too_many:
        selection.notes.append(f"{too_many} embedded items past the limit of {limits.max_count} left out")
    if too_large:
        selection.notes.append(
            f"{too_large} embedded items left out: together past {limits.max_expanded_bytes} bytes expanded"
        )
    return selection
