"""Originals, stored under their SHA-256: a local folder (embedded default) or S3 (production).

A file is streamed to a temporary place while it is hashed; it is kept only if the hash is the one the
sender announced (when they did), and only then moved under its name. Storing the same content twice
costs nothing and changes nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from minio import Minio
from minio.error import S3Error

from ingest.settings import Settings

CHUNK = 1024 * 1024


class BlobError(RuntimeError):
    pass


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int
    key: str


def blob_key(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class BlobStore(Protocol):
    def put(self, stream: BinaryIO, expected_sha256: str | None = None) -> StoredBlob: ...

    @contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]: ...

    def exists(self, sha256: str) -> bool: ...


@contextmanager
def _hashed_spool(
    stream: BinaryIO, directory: Path, expected_sha256: str | None
) -> Iterator[tuple[Path, str, int]]:
    """Copy a stream to a temporary file while hashing it; the file is removed on leaving."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, name = tempfile.mkstemp(dir=directory, prefix=".incoming-")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        sha256 = digest.hexdigest()
        if expected_sha256 and expected_sha256.lower() != sha256:
            raise BlobError(f"content hash {sha256} differs from the announced {expected_sha256.lower()}")
        yield path, sha256, size
    finally:
        path.unlink(missing_ok=True)


def _verify(stream: BinaryIO, sha256: str) -> None:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    if digest.hexdigest() != sha256:
        raise BlobError(f"stored copy of {sha256} reads back as {digest.hexdigest()}")


class FolderBlobStore:
    """Content-addressed files under one folder; written by rename, so never half there."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, sha256: str) -> Path:
        return self.root / blob_key(sha256)

    def put(self, stream: BinaryIO, expected_sha256: str | None = None) -> StoredBlob:
        with _hashed_spool(stream, self.root / "tmp", expected_sha256) as (temp, sha256, size):
            target = self._path(sha256)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(temp, target)
                target.chmod(0o440)
            with target.open("rb") as stored:
                _verify(stored, sha256)
        return StoredBlob(sha256, size, blob_key(sha256))

    @contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]:
        try:
            handle = self._path(sha256).open("rb")
        except FileNotFoundError as exc:
            raise BlobError(f"no original stored under {sha256}") from exc
        with handle:
            yield handle

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()


class S3BlobStore:
    """Content-addressed objects in one bucket of any S3 server, through the minio client."""

    def __init__(self, client: Minio, bucket: str, spool_dir: Path) -> None:
        self.client = client
        self.bucket = bucket
        self.spool_dir = spool_dir

    def ensure_bucket(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            self.client.make_bucket(self.bucket)

    def put(self, stream: BinaryIO, expected_sha256: str | None = None) -> StoredBlob:
        with _hashed_spool(stream, self.spool_dir, expected_sha256) as (temp, sha256, size):
            key = blob_key(sha256)
            if not self.exists(sha256):
                self.client.fput_object(self.bucket, key, str(temp), metadata={"x-amz-meta-sha256": sha256})
            with self.open(sha256) as stored:
                _verify(stored, sha256)
        return StoredBlob(sha256, size, key)

    @contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]:
        try:
            response = self.client.get_object(self.bucket, blob_key(sha256))
        except S3Error as exc:
            raise BlobError(f"no original stored under {sha256}: {exc.code}") from exc
        try:
            yield response  # type: ignore[misc]
        finally:
            response.close()
            response.release_conn()

    def exists(self, sha256: str) -> bool:
        try:
            self.client.stat_object(self.bucket, blob_key(sha256))
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchObject", "NotFound"}:
                return False
            raise
        return True


def make_blob_store(settings: Settings) -> BlobStore:
    """The one blob-store factory."""
    if settings.blob_backend == "folder":
        return FolderBlobStore(settings.blob_dir.resolve())
    endpoint = settings.s3_endpoint
    secure = endpoint.startswith("https://")
    client = Minio(
        endpoint.split("://", 1)[-1],
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=secure,
    )
    store = S3BlobStore(client, settings.s3_bucket, (settings.data_dir / "spool").resolve())
    store.ensure_bucket()
    return store


def copy_to(store: BlobStore, sha256: str, target: Path) -> None:
    """Write an original to a local file (Tika reads a file handle; never the whole file in memory)."""
    with store.open(sha256) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, CHUNK)
