"""Resumable uploads: a large file sent in chunks, each with its own SHA-256, over as many tries as it takes.

A clerk on a slow line sends a 4 GB disk image; the connection drops at 60 %. The chunks already received
stay, each verified against the hash the client sent with it, so the upload resumes where it stopped. When
every chunk is there, the file is streamed into the blob store under its announced SHA-256 (verified
again as a whole) and only then gets its ledger row, like any other upload.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

CHUNK_SIZE = 8 * 1024 * 1024
_SESSION = re.compile(r"^[0-9a-f]{32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ResumableError(ValueError):
    """The request does not fit the session (wrong hash, index, owner): a client error."""


@dataclass
class Session:
    id: str
    owner: str
    file_name: str
    path: str
    size: int
    sha256: str
    chunk_size: int
    batch_id: str
    case_number: str | None = None
    evidence_number: str | None = None
    received: list[int] = field(default_factory=list)

    @property
    def chunks(self) -> int:
        return max(1, -(-self.size // self.chunk_size))

    @property
    def missing(self) -> list[int]:
        return sorted(set(range(self.chunks)) - set(self.received))


class ChainedChunks:
    """The chunks of a session read one after another, as one stream (never all in memory)."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.current: BinaryIO | None = None

    def read(self, size: int = -1) -> bytes:
        while True:
            if self.current is None:
                if not self.files:
                    return b""
                self.current = self.files.pop(0).open("rb")
            data = self.current.read(size)
            if data:
                return data
            self.current.close()
            self.current = None

    def close(self) -> None:
        if self.current is not None:
            self.current.close()


class ResumableUploads:
    """Sessions and their chunks under one folder of the web process's data folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, session_id: str) -> Path:
        if not _SESSION.match(session_id):
            raise ResumableError("no such upload session")
        return self.root / session_id

    def _save(self, session: Session) -> None:
        manifest = self._dir(session.id) / "session.json"
        temporary = manifest.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(session)))
        temporary.replace(manifest)

    def create(
        self,
        owner: str,
        *,
        file_name: str,
        path: str,
        size: int,
        sha256: str,
        batch_id: str,
        case_number: str | None = None,
        evidence_number: str | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> Session:
        sha256 = sha256.lower()
        if not _HEX64.match(sha256):
            raise ResumableError("sha256 must be 64 hexadecimal characters")
        if size < 0 or chunk_size <= 0:
            raise ResumableError("size and chunk size must be positive")
        session = Session(
            uuid.uuid4().hex,
            owner,
            file_name,
            path,
            size,
            sha256,
            chunk_size,
            batch_id,
            case_number,
            evidence_number,
        )
        self._dir(session.id).mkdir(parents=True)
        self._save(session)
        return session

    def get(self, session_id: str, owner: str) -> Session:
        manifest = self._dir(session_id) / "session.json"
        if not manifest.is_file():
            raise ResumableError("no such upload session")
        session = Session(**json.loads(manifest.read_text()))
        if session.owner != owner:
            raise ResumableError("no such upload session")  # someone else's: not even its existence
        # The chunks on disk are the truth (each renamed into place only once verified), so parallel
        # chunk uploads never race over a shared list.
        session.received = sorted(int(chunk.stem) for chunk in manifest.parent.glob("*.chunk"))
        return session

    def put_chunk(self, session_id: str, owner: str, index: int, stream: BinaryIO, sha256: str) -> Session:
        """Store one chunk if its bytes hash to `sha256` and its size fits its place in the file."""
        session = self.get(session_id, owner)
        if not 0 <= index < session.chunks:
            raise ResumableError(f"chunk {index} is outside 0..{session.chunks - 1}")
        expected_size = min(session.chunk_size, session.size - index * session.chunk_size)
        digest = hashlib.sha256()
        target = self._dir(session_id) / f"{index:08d}.chunk"
        temporary = target.parent / f"{target.name}.{uuid.uuid4().hex}.part"
        size = 0
        with temporary.open("wb") as out:
            while data := stream.read(1024 * 1024):
                size += len(data)
                if size > expected_size:
                    break
                digest.update(data)
                out.write(data)
        if size != expected_size or digest.hexdigest() != sha256.lower():
            temporary.unlink(missing_ok=True)
            raise ResumableError(
                f"chunk {index} arrived damaged ({size} bytes, SHA-256 {digest.hexdigest()}); send it again"
            )
        temporary.replace(target)
        return self.get(session_id, owner)

    def chunks_of(self, session: Session) -> ChainedChunks:
        if session.missing:
            raise ResumableError(f"chunks still missing: {session.missing[:20]}")
        return ChainedChunks(
            [self._dir(session.id) / f"{index:08d}.chunk" for index in range(session.chunks)]
        )

    def discard(self, session_id: str) -> None:
        shutil.rmtree(self._dir(session_id), ignore_errors=True)
