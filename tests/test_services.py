"""The real engines: Tika with OCR on and off, Frog, the blob stores, and clear start-up errors."""

from __future__ import annotations

import gc
import io
import os
import shutil
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from ingest.blobs import BlobError, FolderBlobStore, make_blob_store
from ingest.tika import extract
from search_api.services.base import ProcessService, ServiceContext, ServiceError, pid_alive
from search_api.services.maven import require_java
from tests.conftest import base_settings

# The shared test material lies beside the checkout (and beside CI's clone).
FORMATS = Path(__file__).resolve().parents[2] / "shared" / "data" / "formats-tika" / "files"


def tika(path: Path, *, ocr: bool) -> object:
    settings = base_settings()
    with path.open("rb") as stream:
        return extract(
            stream,
            tika_url=settings.tika_url,
            file_name=path.name,
            ocr=ocr,
            ocr_languages="nld+fra+deu+eng",
            timeout_seconds=120,
        )


def test_ocr_is_chosen_explicitly() -> None:
    image = FORMATS / "ocr" / "testOCR.jpg"
    with_ocr = tika(image, ocr=True)
    without = tika(image, ocr=False)
    assert "OCR Testing" in with_ocr.text  # type: ignore[attr-defined]
    assert "OCR Testing" not in without.text  # type: ignore[attr-defined]


def test_encrypted_pdf_is_reported_as_encrypted() -> None:
    # A user password: nothing can be read without it (an owner password alone still lets Tika read).
    outcome = tika(FORMATS / "pdf" / "testPDF_no_extract_no_accessibility_owner_user.pdf", ocr=False)
    assert outcome.status == "encrypted", outcome  # type: ignore[attr-defined]
    assert tika(FORMATS / "pdf" / "testPDF_protected.pdf", ocr=False).status == "ok"  # type: ignore[attr-defined]


def test_frog_is_installed_and_answers_in_dutch(tmp_path: Path) -> None:
    frog = shutil.which("frog")
    assert frog, "Frog is missing: apt-get install frog frogdata uctodata"
    sample = tmp_path / "zin.txt"
    sample.write_text("Jan Peeters woont in Antwerpen.\n")
    result = subprocess.run(
        [frog, "-t", str(sample), "--skip=mp", "-o", str(tmp_path / "out.tsv")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "OMP_THREAD_LIMIT": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    columns = [line.split("\t") for line in (tmp_path / "out.tsv").read_text().splitlines() if line.strip()]
    entities = {row[1]: row[6] for row in columns if len(row) > 6}
    assert entities["Antwerpen"].endswith("LOC")
    assert entities["Jan"].endswith("PER")


@pytest.mark.parametrize("backend", ["folder", "s3"])
def test_blob_store_keeps_content_under_its_hash(backend: str, tmp_path: Path) -> None:
    settings = base_settings(blob_backend=backend, data_dir=tmp_path, s3_bucket="test-blobs")
    store = make_blob_store(settings)
    content = b"inbeslagname 2026/4711: usb-stick" * 1000
    stored = store.put(io.BytesIO(content))
    again = store.put(io.BytesIO(content))
    assert stored == again
    assert store.exists(stored.sha256)
    with store.open(stored.sha256) as handle:
        assert handle.read() == content
    with pytest.raises(BlobError, match="differs"):
        store.put(io.BytesIO(b"other"), expected_sha256=stored.sha256)


def test_folder_blob_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path)
    with pytest.raises(BlobError):
        store.put(io.BytesIO(b"x"), expected_sha256="0" * 64)
    assert list((tmp_path / "tmp").iterdir()) == []


class _Listener(ProcessService):
    name = "test-listener"

    def __init__(self, ctx: ServiceContext, port: int) -> None:
        super().__init__(ctx)
        self._port = port

    @property
    def port(self) -> int:
        return self._port


def test_a_port_in_use_gives_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        service = _Listener(ServiceContext(base_settings(data_dir=tmp_path)), holder.getsockname()[1])
        with pytest.raises(ServiceError) as refused:
            service.up()
    message = str(refused.value)
    assert "already in use" in message and "\n" not in message


class _Sleeper(_Listener):
    """A server of our own: it listens on its port until it is stopped."""

    name = "test-sleeper"

    def command(self) -> list[str]:
        serve = f"import socket, time; s = socket.create_server(('127.0.0.1', {self.port})); time.sleep(120)"
        return [sys.executable, "-c", serve]


def test_a_service_started_here_leaves_no_open_handle_behind(tmp_path: Path) -> None:
    """Tests start the services themselves when they are down: the start must not leave an open log file
    or a running child's collected Popen behind, which warn (and fail the test, warnings being errors)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    service = _Sleeper(ServiceContext(base_settings(data_dir=tmp_path)), port)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        try:
            service.up()
            pid = service.pid()
            gc.collect()
        finally:
            service.down()
        gc.collect()
    assert pid is not None and not pid_alive(pid)
    assert not Path(f"/proc/{pid}").exists()  # stopped and reaped, not left a zombie


def test_missing_java_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServiceError, match="install Java 17"):
        require_java()


def test_extractions_keep_one_connection_to_tika(monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import tika as tika_client

    monkeypatch.setattr(tika_client, "_SESSIONS", {})
    first = tika(FORMATS / "ocr" / "testOCR.jpg", ocr=False)
    second = tika(FORMATS / "ocr" / "testOCR.jpg", ocr=False)
    assert first.status == second.status  # type: ignore[attr-defined]
    pools = tika_client._session().get_adapter(base_settings().tika_url).poolmanager.pools
    # One pool, one connection: the second file went over the first file's connection.
    assert [pools[key].num_connections for key in pools.keys()] == [1]  # noqa: SIM118 (no iteration)


def _answer(status: str, content_type: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


def _extract_from_server(
    tmp_path: Path, body: bytes, answers: list[bytes | None]
) -> tuple[object, list[bytes]]:
    """`extract` against a small server that reads each request whole and gives the next of `answers`
    on a connection of its own (None: closes the connection without a word)."""
    import threading

    received: list[bytes] = []
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        for answer in answers:
            connection, _ = server.accept()
            with connection:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += connection.recv(65536)
                head, _, rest = data.partition(b"\r\n\r\n")
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))  # fmt: skip
                while len(rest) < length:
                    rest += connection.recv(65536)
                received.append(rest)
                if answer is not None:
                    connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    path = tmp_path / "pv.pdf"
    path.write_bytes(body)
    with path.open("rb") as stream:
        extraction = extract(
            stream,
            tika_url=f"http://127.0.0.1:{server.getsockname()[1]}",
            file_name=path.name,
            ocr=False,
            ocr_languages="nld",
            timeout_seconds=31,
        )
    thread.join(timeout=10)
    server.close()
    return extraction, received


def test_a_connection_dropped_by_tika_is_tried_once_more_from_the_start(tmp_path: Path) -> None:
    """The first connection is closed with no answer, as Tika may close a kept connection just as it is
    reused; the file is sent again, whole, on a new one."""
    import json

    body = b"%PDF-1.4 de inhoud van het bestand " * 200
    answer = json.dumps([{"X-TIKA:content": "de inhoud", "Content-Type": "application/pdf"}]).encode()
    extraction, received = _extract_from_server(
        tmp_path, body, [None, _answer("200 OK", "application/json", answer)]
    )
    assert extraction.status == "ok" and extraction.text == "de inhoud"  # type: ignore[attr-defined]
    assert received == [body, body]


def test_a_refusal_by_tika_is_reported_by_its_first_line_as_text(tmp_path: Path) -> None:
    trace = "org.apache.tika.exception.TikaException: Unexpected RuntimeException from PDFParser\n\tat org.x"
    extraction, _ = _extract_from_server(
        tmp_path, b"%PDF-1.4", [_answer("422 Unprocessable Entity", "text/plain", trace.encode())]
    )
    assert extraction.status == "failed"  # type: ignore[attr-defined]
    assert extraction.error == (  # type: ignore[attr-defined]
        "Tika could not parse the file (HTTP 422): "
        "org.apache.tika.exception.TikaException: Unexpected RuntimeException from PDFParser"
    )
