"""The first vertical slice, against real OpenSearch, Tika, Redis, Celery, S3 or folder, PostgreSQL or SQLite.

Upload (API and CLI) → blob store under SHA-256 → ledger → worker → Tika → enrichment → index → search.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.sample_documents import SampleDocument
from ingest.settings import Settings
from tests.conftest import ROOT, login, settings_env, upload, wait_for_batch

pytestmark = pytest.mark.slow


def search(client: TestClient, query: str) -> dict[str, Any]:
    response = client.get("/api/search", params={"q": query})
    assert response.status_code == 200, response.text
    return response.json()


def test_api_upload_indexes_pdf_docx_and_email(indexed_samples: dict[str, Any]) -> None:
    assert indexed_samples["counts"] == {"indexed": 3}
    for item in indexed_samples["items"]:
        assert item["record_id"] == item["sha256"]


@pytest.mark.parametrize("position", [0, 1, 2], ids=["pdf", "eml", "docx"])
def test_planted_identifiers_and_words_are_found(
    app_client: TestClient, indexed_samples: dict[str, Any], samples: list[SampleDocument], position: int
) -> None:
    login(app_client)
    doc = samples[position]
    record = app_client.get(f"/api/records/{indexed_samples['items'][position]['record_id']}").json()
    assert set(doc.planted.values()) <= set(record["identifiers"])
    for word in doc.words:
        hits = search(app_client, word)["hits"]
        assert record["id"] in [hit["id"] for hit in hits], word


def test_email_headers_become_fields(app_client: TestClient, indexed_samples: dict[str, Any]) -> None:
    login(app_client)
    record = app_client.get(f"/api/records/{indexed_samples['items'][1]['record_id']}").json()
    mail = record["details"]["document"]
    assert mail["email_from"] == "marc.dubois@police-liege.example.be"
    assert mail["message_id"] == "<20261104091500.4711@police-liege.example.be>"
    assert record["language"] == "fr"


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ("1abc123", 0),
        ("1 abc 123", 0),
        ("1.ABC.123", 0),
        ("be44 0096 1234 5645", 0),
        ("BE44009612345645", 0),
        ("85073003328", 0),
        ("0032 470 12 34 56", 0),
        ("2xyz987", 1),
        ("kbr 412", 2),
    ],
)
def test_identifier_in_any_spelling_ranks_its_document_first(
    app_client: TestClient, indexed_samples: dict[str, Any], query: str, position: int
) -> None:
    login(app_client)
    hits = search(app_client, query)["hits"]
    assert hits, query
    assert hits[0]["id"] == indexed_samples["items"][position]["record_id"]


def test_search_page_shows_an_html_encoded_highlight(
    app_client: TestClient, indexed_samples: dict[str, Any]
) -> None:
    login(app_client)
    page = app_client.get("/search", params={"q": "Vandenbossche"})
    assert page.template.name == "search.html"  # type: ignore[attr-defined]
    assert "<mark>Vandenbossche</mark>" in page.text
    fragment = app_client.get("/search", params={"q": "Vandenbossche"}, headers={"HX-Request": "true"})
    assert fragment.template.name == "_results.html"  # type: ignore[attr-defined]
    assert "<html" not in fragment.text


def test_markup_in_a_document_is_shown_as_text(app_client: TestClient, worker: object) -> None:
    token = login(app_client)
    hostile = b"Verklaring van de getuige: <script>alert('xss')</script> zegt dat de loodgieter kwam.\n"
    answer = upload(app_client, token, [("verklaring.txt", hostile)])
    assert wait_for_batch(app_client, answer["batch"])["counts"] == {"indexed": 1}
    page = app_client.get("/search", params={"q": "loodgieter"})
    assert "<mark>loodgieter</mark>" in page.text
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert" in page.text


def test_same_content_twice_is_one_record_with_both_paths(app_client: TestClient, worker: object) -> None:
    token = login(app_client)
    content = (
        b"Proces-verbaal dubbel: het zelfde bestand werd tweemaal in beslag genomen (zaak dubbelganger).\n"
    )
    first = wait_for_batch(app_client, upload(app_client, token, [("usb/a/pv.txt", content)])["batch"])
    second = wait_for_batch(app_client, upload(app_client, token, [("laptop/b/kopie.txt", content)])["batch"])
    assert first["counts"] == {"indexed": 1}
    assert second["counts"] == {"duplicate": 1}
    hits = search(app_client, "dubbelganger")["hits"]
    assert len(hits) == 1
    record = app_client.get(f"/api/records/{hits[0]['id']}").json()
    assert record["provenance"]["file_paths"] == ["laptop/b/kopie.txt", "usb/a/pv.txt"]


def test_corrupt_pdf_fails_visibly_and_the_worker_goes_on(app_client: TestClient, worker: object) -> None:
    token = login(app_client)
    corrupt = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nendobj\nxref\n0 2\ntrailer broken"
    good = b"Na de kapotte PDF verwerkt de werker gewoon het volgende bestand: zeppelin.\n"
    answer = upload(app_client, token, [("kapot.pdf", corrupt), ("daarna.txt", good)])
    status = wait_for_batch(app_client, answer["batch"])
    states = {item["file"]: item for item in status["items"]}
    assert states["kapot.pdf"]["status"] == "failed"
    assert states["kapot.pdf"]["error"]
    assert states["daarna.txt"]["status"] == "indexed"
    # The failure is data: the file is found by name, with its state.
    hits = search(app_client, "kapot.pdf")["hits"]
    assert hits and hits[0]["source"]["provenance"]["status"] == "failed"
    page = app_client.get(f"/batches/{answer['batch']}")
    assert "failed" in page.text and "kapot.pdf" in page.text


def test_cli_upload_of_a_folder(
    app_client: TestClient,
    indexed_samples: dict[str, Any],
    samples: list[SampleDocument],
    profile: Settings,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "beslag-2026-11"
    folder.mkdir()
    for doc in samples:  # the very files uploaded through the API before
        shutil.copy(doc.path, folder / doc.path.name)
    (folder / "notities.txt").write_text("Ontmoeting met de koerier aan de Groenplaats, code walvis.\n")
    result = subprocess.run(
        [sys.executable, "-m", "search_api.cli", "upload", str(folder), "--uploader", "rechercheur"],
        env=settings_env(profile),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # The samples were indexed before (duplicates); the note is new.
    assert "duplicate=3" in result.stdout and "indexed=1" in result.stdout, result.stdout
    login(app_client)
    hits = search(app_client, "walvis")["hits"]
    assert [hit["source"]["provenance"]["file_name"] for hit in hits] == ["notities.txt"]
