"""A large upload interrupted halfway and resumed: chunks verified one by one, the file whole at the end."""

from __future__ import annotations

import hashlib
import io
import random
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.resumable import ResumableError, ResumableUploads
from tests.conftest import login, wait_for_batch

pytestmark = pytest.mark.slow

CHUNK = 64 * 1024


def seized_text(marker: str) -> bytes:
    """About 200 kB of a statement, with a word to find it by near the end (so only the whole file has it)."""
    rng = random.Random(4)
    words = ["verdachte", "woning", "voertuig", "getuige", "verhoor", "beslag", "rekening", "gsm", "nacht"]
    body = " ".join(rng.choice(words) for _ in range(26000))
    return f"Proces-verbaal van verhoor.\n{body}\nSlotverklaring: {marker}.\n".encode()


def put_chunk(
    client: TestClient, token: str, session: str, index: int, data: bytes, digest: str | None = None
) -> Any:
    return client.put(
        f"/api/uploads/{session}/chunks/{index}",
        content=data,
        headers={"X-CSRF-Token": token, "X-Chunk-SHA256": digest or hashlib.sha256(data).hexdigest()},
    )


def test_upload_interrupted_halfway_resumes_and_is_indexed(app_client: TestClient, worker: object) -> None:
    token = login(app_client)
    content = seized_text("zeemeeuw")
    sha256 = hashlib.sha256(content).hexdigest()
    chunks = [content[start : start + CHUNK] for start in range(0, len(content), CHUNK)]
    assert len(chunks) >= 3
    started = app_client.post(
        "/api/uploads",
        json={
            "file_name": "verhoor.txt",
            "path": "schijf-E/verhoren/verhoor.txt",
            "size": len(content),
            "sha256": sha256,
            "chunk_size": CHUNK,
            "evidence": "PACOS-2026-0042",
        },
        headers={"X-CSRF-Token": token},
    )
    assert started.status_code == 201, started.text
    session = started.json()["session"]
    half = len(chunks) // 2
    for index in range(half):
        assert put_chunk(app_client, token, session, index, chunks[index]).status_code == 200
    # A chunk damaged on the way is refused and not kept.
    damaged = put_chunk(
        app_client, token, session, half, chunks[half][:-1] + b"X", hashlib.sha256(chunks[half]).hexdigest()
    )
    assert damaged.status_code == 422
    # Completing too early says what is missing.
    early = app_client.post(f"/api/uploads/{session}/complete", headers={"X-CSRF-Token": token})
    assert early.status_code == 409

    # The connection dropped; the clerk signs in again and asks where it stopped.
    token = login(app_client)
    status = app_client.get(f"/api/uploads/{session}").json()
    assert status["received"] == list(range(half))
    assert status["missing"] == list(range(half, len(chunks)))
    for index in status["missing"]:
        assert put_chunk(app_client, token, session, index, chunks[index]).status_code == 200
    done = app_client.post(f"/api/uploads/{session}/complete", headers={"X-CSRF-Token": token})
    assert done.status_code == 202, done.text
    assert done.json()["sha256"] == sha256
    batch = wait_for_batch(app_client, done.json()["batch"])
    assert batch["counts"] == {"indexed": 1}, batch
    record = app_client.get(f"/api/records/{sha256}").json()
    assert record["provenance"]["evidence_number"] == "PACOS-2026-0042"
    assert record["provenance"]["file_paths"] == ["schijf-E/verhoren/verhoor.txt"]
    hits = app_client.get("/api/search", params={"q": "zeemeeuw"}).json()["hits"]
    assert [hit["id"] for hit in hits] == [sha256]
    # The session is gone once the file is in.
    assert app_client.get(f"/api/uploads/{session}").status_code == 404


def test_a_session_belongs_to_its_owner_and_checks_sizes(tmp_path: Any) -> None:
    uploads = ResumableUploads(tmp_path)
    data = b"abc" * 100
    session = uploads.create(
        "rechercheur",
        file_name="x.txt",
        path="x.txt",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        batch_id="b",
        chunk_size=128,
    )
    with pytest.raises(ResumableError):
        uploads.get(session.id, "iemand-anders")
    with pytest.raises(ResumableError):  # a chunk longer than its place in the file
        uploads.put_chunk(
            session.id, "rechercheur", 2, io.BytesIO(data[:128]), hashlib.sha256(data[:128]).hexdigest()
        )
    with pytest.raises(ResumableError):
        uploads.get("../../etc", "rechercheur")
    for index in range(3):
        part = data[index * 128 : (index + 1) * 128]
        uploads.put_chunk(
            session.id, "rechercheur", index, io.BytesIO(part), hashlib.sha256(part).hexdigest()
        )
    stream = uploads.chunks_of(uploads.get(session.id, "rechercheur"))
    assert b"".join(iter(lambda: stream.read(50), b"")) == data
