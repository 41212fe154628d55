"""The format corpus through the real pipeline, and the limits on what a file may expand to.

A clerk's seized disk holds every format, encrypted files and hostile archives: each file must end in a
final ledger state with its reason, children linked to their parent, and nothing walks out of bounds.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from bench.formats_tika import CORPUS, ingest_corpus, summarise
from case_store.db import make_engine, make_sessionmaker
from case_store.models import FINAL_STATES
from ingest.archives import ChildLimits, member_path
from ingest.blobs import make_blob_store
from ingest.celery_app import make_celery
from ingest.index.client import make_search_client
from ingest.settings import Settings
from ingest.tika import Extraction, extract
from tests.conftest import login

pytestmark = pytest.mark.slow

# The full corpus runs in `python -m bench.formats_tika` (about 20 minutes on two cores); the suite takes
# the files named for a reason (hostile archives, encryption, broken and unsupported files) and one or two
# of each other family, and a second path to one of them.
SUBSET = [
    "pkg/droste.zip",
    "pkg/quine.gz",
    "pkg/bob.gz",
    "pkg/test-zip-of-zip.zip",
    "pkg/testZipEncrypted.zip",
    "pkg/full_encrypted.7z",
    "pkg/test7Z_protected_passTika.7z",
    "pkg/test-documents-enc.rar",
    "pkg/test-nested-tarball.tar",
    "pkg/test-documents-spanned.z01",
    "microsoft/testWORD_protected_passtika.docx",
    "microsoft/testEXCEL_protected_passtika.xls",
    "microsoft/testWORD_truncated.docx",
    "miscoffice/testODTEncrypted.odt",
    "miscoffice/testODTnotaZipFile.odt",
    "integration/testPGPEncrypted.gpg",
    "integration/testLotus123.wk1",
    "pdf/testPDF_bad_page_303226.pdf",
    "mail/headers.mbox",
    "text/russian.cp866.txt",
    "html/testHTML_charset_utf16le.html",
]
ENCRYPTED = {
    "pkg/full_encrypted.7z",
    "pkg/test7Z_protected_passTika.7z",
    "pkg/test-documents-enc.rar",
    "microsoft/testWORD_protected_passtika.docx",
    "microsoft/testEXCEL_protected_passtika.xls",
    "miscoffice/testODTEncrypted.odt",
    "integration/testPGPEncrypted.gpg",
}


@pytest.fixture(scope="module")
def corpus_run(
    profile: Settings, app_client: TestClient, worker: object, tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    root = tmp_path_factory.mktemp("seized")
    for name in SUBSET:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((CORPUS / name).read_bytes())
    # The same zip found a second time elsewhere on the disk.
    (root / "kopie").mkdir()
    (root / "kopie" / "zip-in-zip.zip").write_bytes((CORPUS / "pkg/test-zip-of-zip.zip").read_bytes())
    files = sorted(path for path in root.rglob("*") if path.is_file())
    engine = make_engine(profile.resolved_database_url)
    search = make_search_client(profile)
    try:
        return ingest_corpus(
            files,
            root=root,
            blobs=make_blob_store(profile),
            sessions=make_sessionmaker(engine),
            celery=make_celery(profile),
            uploader="rechercheur",
            timeout=1500,
            search=search,
            index_prefix=profile.index_prefix,
        )
    finally:
        search.close()
        engine.dispose()


@pytest.mark.parametrize("profile", ["embedded"], indirect=True)
def test_every_corpus_file_ends_in_a_final_state_with_its_reason(corpus_run: list[dict[str, Any]]) -> None:
    summary = summarise(corpus_run)
    assert summary["files"] == len(SUBSET) + 1
    assert summary["terminal"] == summary["files"], [e for e in corpus_run if e["status"] not in FINAL_STATES]
    states = {entry["file"]: entry for entry in corpus_run}
    for name in ENCRYPTED:
        assert states[name]["status"] == "encrypted", states[name]
    assert states["integration/testLotus123.wk1"]["status"] == "unsupported"
    assert states["microsoft/testWORD_truncated.docx"]["status"] == "failed"
    for entry in corpus_run:
        if entry["status"] in {"failed", "encrypted", "unsupported"}:
            assert entry["reason"], entry
    # Self-containing archives end (indexed with their children cut off, or failed), never loop.
    assert states["pkg/droste.zip"]["status"] in {"indexed", "failed"}
    assert states["pkg/quine.gz"]["status"] in {"indexed", "failed"}
    assert {states["pkg/test-zip-of-zip.zip"]["status"], states["kopie/zip-in-zip.zip"]["status"]} <= {
        "indexed",
        "duplicate",
    }


@pytest.mark.parametrize("profile", ["embedded"], indirect=True)
def test_archive_members_are_children_of_their_parent_and_copies_one_record(
    corpus_run: list[dict[str, Any]], app_client: TestClient, search: OpenSearch, profile: Settings
) -> None:
    login(app_client)
    parent = (CORPUS / "pkg/test-zip-of-zip.zip").read_bytes()

    parent_id = hashlib.sha256(parent).hexdigest()
    record = app_client.get(f"/api/records/{parent_id}").json()
    assert sorted(record["provenance"]["file_paths"]) == ["kopie/zip-in-zip.zip", "pkg/test-zip-of-zip.zip"]
    children = search.search(
        index=f"{profile.index_prefix}-document",
        body={"query": {"term": {"provenance.parent_id": parent_id}}, "size": 50},
    )["hits"]["hits"]
    names = sorted(hit["_source"]["provenance"]["file_name"] for hit in children)
    assert names == ["html-within-zip.zip", "text.html"]
    droste = hashlib.sha256((CORPUS / "pkg/droste.zip").read_bytes()).hexdigest()
    nested = search.search(
        index=f"{profile.index_prefix}-document",
        body={"query": {"term": {"provenance.parent_id": droste}}, "size": 1000},
    )["hits"]["hits"]
    limit = ChildLimits().max_depth
    for hit in nested:
        member = hit["_source"]["provenance"]["file_paths"][0].split("!", 1)[1]
        assert not member.startswith("/") and ".." not in member.split("/")
        assert member.count("/") < limit


def test_member_names_never_leave_their_parent() -> None:
    assert member_path("../../etc/passwd") == "etc/passwd"
    assert member_path("/absolute/x.txt") == "absolute/x.txt"
    assert member_path("C:\\Windows\\system32\\x.dll") == "Windows/system32/x.dll"
    assert member_path("a/./b/../c\x00.txt") == "a/b/c.txt"
    assert member_path("..") == "unnamed"


def test_hostile_archive_is_bounded_in_depth_count_and_text(profile: Settings, tmp_path: Path) -> None:
    """A zip slip, a zip bomb and a too-deep nesting, through the real Tika with small limits."""
    inner = b""
    for level in range(6):  # six zips, each inside the next
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"niveau-{level}.txt", f"verborgen op niveau {level}")
            if inner:
                archive.writestr(f"binnen-{level}.zip", inner)
        inner = buf.getvalue()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("../../buiten/ontsnapt.txt", "een pad naar boven")
        archive.writestr("diep.zip", inner)
        for number in range(12):
            archive.writestr(f"veel/{number}.txt", f"bestand {number}")
    limits = ChildLimits(max_depth=3, max_count=10, max_expanded_bytes=10**9, max_text_chars=1_000_000)

    def parse(content: bytes) -> Extraction:
        return extract(
            io.BytesIO(content),
            tika_url=profile.tika_url,
            file_name="beslag.zip",
            ocr=False,
            ocr_languages=profile.ocr_languages,
            timeout_seconds=60,
            limits=limits,
        )

    extraction = parse(buf.getvalue())
    assert extraction.status == "ok", extraction.error
    assert 0 < len(extraction.embedded) <= 10
    assert all(
        not part.path.startswith("/") and ".." not in part.path.split("/") for part in extraction.embedded
    )
    assert any(part.path.endswith("ontsnapt.txt") for part in extraction.embedded)
    depths = [int(part.metadata.get("X-TIKA:embedded_depth", 0)) for part in extraction.embedded]
    assert max(depths) <= 3
    assert any("deeper than 3 levels" in note for note in extraction.notes), extraction.notes
    assert any("stopped after 10" in note for note in extraction.notes), extraction.notes

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bom/nullen.txt", b"0" * (30 * 1024 * 1024))
    extraction = parse(bomb.getvalue())
    total_text = len(extraction.text) + sum(len(part.text) for part in extraction.embedded)
    assert total_text <= 1_000_000
    assert any("cut off" in note for note in extraction.notes), extraction.notes
    # Nothing was written next to the test's folder by the walk.
    assert not (tmp_path.parent / "buiten").exists()
