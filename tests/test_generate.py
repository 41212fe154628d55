"""`speurder generate`: a seeded Belgian world in every register's export format.

The small world is ingested into the real index without a rejected row; its ground truth is checked
against the records the engine builds (ids, and every identifier a record carries) and against the index
(each listed record is found by the entity's identifiers or names); and memory does not grow with the
number of records."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from opensearchpy import OpenSearch
from stdnum import iban as std_iban
from stdnum.be import bis as std_bis
from stdnum.be import nn as std_nn
from stdnum.be import vat as std_vat
from typer.testing import CliRunner

from ingest.generate import FILES, GenerationReport, generate
from ingest.index.admin import drop_all
from ingest.records import Record
from ingest.sources.mapping import load_mapping, mapping_path, packaged_mappings
from ingest.sources.run import IngestReport, ingest_file, parse_file
from ingest.sources.transforms import plate as plate_transform
from search_api.cli import app

SEED = 20260
TOTAL = 3000
ROOT = Path(__file__).resolve().parent.parent
BELGIAN_PLATE = re.compile(r"[12][A-Z]{3}\d{3}|[A-Z]{3}\d{3}|\d{3}[A-Z]{3}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationReport]:
    folder = tmp_path_factory.mktemp("world")
    return folder, generate(folder, seed=SEED, total=TOTAL)


@pytest.fixture(scope="module")
def truth(world: tuple[Path, GenerationReport]) -> list[dict[str, Any]]:
    folder, _ = world
    with (folder / "ground_truth.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


@pytest.fixture(scope="module")
def records(world: tuple[Path, GenerationReport]) -> dict[str, list[Record]]:
    """Every file through its register's mapping, as the engine builds the records (no index)."""
    _, report = world
    built: dict[str, list[Record]] = {}
    for file in report.files:
        mapping = load_mapping(mapping_path(file.register))
        problems = IngestReport(file.register, str(file.path))
        built[file.register] = list(parse_file(mapping, file.path, report=problems))
        assert problems.error is None and problems.rejected == [] and problems.warnings == [], file.register
    return built


@pytest.fixture(scope="module")
def prefix(search: OpenSearch) -> Iterator[str]:
    name = f"test-generate-{uuid.uuid4().hex[:8]}"
    yield name
    drop_all(search, name)


@pytest.fixture(scope="module")
def ingested(
    world: tuple[Path, GenerationReport], search: OpenSearch, prefix: str
) -> dict[str, IngestReport]:
    _, report = world
    reports = {
        file.register: ingest_file(search, prefix, load_mapping(mapping_path(file.register)), file.path)
        for file in report.files
    }
    search.indices.refresh(index=prefix)
    return reports


# -- the files ---------------------------------------------------------------------------------------
def test_every_register_gets_a_file_and_its_share_of_the_total(world: tuple[Path, GenerationReport]) -> None:
    folder, report = world
    assert {file.register for file in report.files} == {path.stem for path in packaged_mappings()}
    assert [name for _, name, _ in FILES] == [file.path.name for file in report.files]
    assert report.rows == TOTAL
    rows = {file.register: file.rows for file in report.files}
    assert rows["anpr"] == max(rows.values()) >= 0.75 * TOTAL, "plate reads dominate"
    assert min(rows.values()) >= 20
    assert (folder / "ground_truth.jsonl").is_file() and report.entities > 100
    assert not [path for path in folder.iterdir() if path.name.startswith(".")], "scratch files are removed"


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_ones(
    world: tuple[Path, GenerationReport], tmp_path: Path
) -> None:
    folder, _ = world
    names = [name for _, name, _ in FILES] + ["ground_truth.jsonl"]
    # Again in another process with another hash seed: nothing may depend on the order of a set.
    again = f"from ingest.generate import generate; generate({str(tmp_path / 'again')!r}, {SEED}, {TOTAL})"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", again], cwd=ROOT, env=env, check=True)
    generate(tmp_path / "other", seed=SEED + 1, total=TOTAL)
    for name in names:
        original = (folder / name).read_bytes()
        assert (tmp_path / "again" / name).read_bytes() == original, f"{name} differs for the same seed"
        assert (tmp_path / "other" / name).read_bytes() != original, f"{name} is the same for another seed"


def test_every_export_ingests_without_a_rejected_row(
    world: tuple[Path, GenerationReport], ingested: dict[str, IngestReport], search: OpenSearch, prefix: str
) -> None:
    _, report = world
    for file in report.files:
        result = ingested[file.register]
        assert result.error is None, (file.register, result.error)
        assert result.rejected == [] and result.warnings == [], (file.register, result.rejected[:3])
        assert result.refused == {}, (file.register, list(result.refused.items())[:3])
        assert result.read == result.indexed == file.rows, file.register
    # Natural keys never collide: every row is a record of its own.
    assert search.count(index=prefix)["count"] == TOTAL


def test_the_ingest_command_takes_a_generated_file(
    world: tuple[Path, GenerationReport], prefix: str, tmp_path: Path
) -> None:
    folder, _ = world
    env = {
        "SPEURDER_ENVIRONMENT": "test",
        "SPEURDER_INDEX_PREFIX": prefix,
        "SPEURDER_AUDIT_DATABASE_URL": f"sqlite:///{tmp_path / 'audit.db'}",
    }
    result = CliRunner().invoke(app, ["ingest", "belvis", str(folder / "belvis.xml")], env=env)
    assert result.exit_code == 0, result.output
    assert re.search(r"read=(\d+) indexed=\1 rejected=0 refused=0 warnings=0", result.output)


def test_the_generate_command_writes_the_files_and_reports_them(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["generate", str(tmp_path / "out"), "--seed", "7", "--total", "400"])
    assert result.exit_code == 0, result.output
    assert "anpr.ndjson" in result.output and "ground_truth.jsonl" in result.output
    assert "400 records in" in result.output
    assert (tmp_path / "out" / "islp.csv").read_bytes().startswith(b"\xef\xbb\xbfType;")


# -- the ground truth --------------------------------------------------------------------------------
def test_the_ground_truth_names_the_records_the_engine_builds(
    truth: list[dict[str, Any]], records: dict[str, list[Record]]
) -> None:
    built = {
        (register, record.source_ref, record.id) for register, rows in records.items() for record in rows
    }
    listed = {tuple(reference) for entity in truth for reference in entity["records"]}
    assert listed <= built, sorted(listed - built)[:5]
    # Nearly every record holds a true entity (an alert on a stolen painting holds none).
    assert len(listed) >= 0.98 * TOTAL
    assert len({entity["id"] for entity in truth}) == len(truth)


def test_every_identifier_in_a_record_belongs_to_an_entity_listing_it(
    truth: list[dict[str, Any]], records: dict[str, list[Record]]
) -> None:
    known: dict[str, set[str]] = defaultdict(set)  # record id -> identifiers of its true entities
    for entity in truth:
        for _, _, record_id in entity["records"]:
            known[record_id].update(entity["identifiers"].values())
    orphans = []
    for rows in records.values():
        for record in rows:
            found = {person.national_number for person in record.persons if person.national_number}
            found |= {vehicle.plate for vehicle in record.vehicles if vehicle.plate}
            found |= set(record.phones) | set(record.ibans) | {mention.value for mention in record.mentions}
            caller = record.details.incident.caller_phone if record.details.incident else None
            found |= {caller} if caller else set()
            orphans += [(record.id, value) for value in found - known[record.id]]
    assert orphans == []


def test_identifiers_in_the_ground_truth_are_valid(truth: list[dict[str, Any]]) -> None:
    kinds = Counter(entity["kind"] for entity in truth)
    assert set(kinds) >= {"person", "vehicle", "phone", "bank_account"}
    born_since_2000 = bis = 0
    for entity in truth:
        ids = entity["identifiers"]
        if "national_number" in ids:
            assert std_nn.is_valid(ids["national_number"]), entity["id"]
            born_since_2000 += entity["birth_date"] >= "2000"
        if "bis_number" in ids:
            assert std_bis.is_valid(ids["bis_number"]), entity["id"]
            bis += 1
        if "iban" in ids:
            assert std_iban.is_valid(ids["iban"]), entity["id"]
        if "phone" in ids:
            assert phonenumbers.is_valid_number(phonenumbers.parse(ids["phone"])), entity["id"]
        if "enterprise_number" in ids:
            assert std_vat.is_valid(ids["enterprise_number"]), entity["id"]
        if "identity_card" in ids:
            digits = ids["identity_card"]
            assert (int(digits[:10]) % 97 or 97) == int(digits[10:]), entity["id"]
        if entity["kind"] == "vehicle":
            assert all(plate_transform(spelling) == ids["plate"] for spelling in entity["written"])
            if entity["country"] == "BE":
                assert BELGIAN_PLATE.fullmatch(ids["plate"]), ids["plate"]
            assert re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", ids["vin"])
    assert born_since_2000 > 0 and bis > 0, "births from 2000 (the '2' check rule) and BIS numbers occur"


def test_entities_recur_across_registers_under_other_spellings(truth: list[dict[str, Any]]) -> None:
    registers = {entity["id"]: {reference[0] for reference in entity["records"]} for entity in truth}
    people = [entity for entity in truth if entity["kind"] == "person"]
    assert max(len(registers[person["id"]]) for person in people) >= 4
    assert any(len(person["names"]) > 1 for person in people), "some people are written several ways"
    assert any(len({re.sub(r"\W", "", name).lower() for name in person["names"]}) > 1 for person in people), (
        "and not only in case and spacing"
    )
    vehicles = [entity for entity in truth if entity["kind"] == "vehicle"]
    assert any({"anpr", "islp"} <= registers[vehicle["id"]] for vehicle in vehicles)
    assert any(len(vehicle["written"]) > 1 for vehicle in vehicles), "1-ABC-123 and 1ABC123"
    phones = [entity for entity in truth if entity["kind"] == "phone"]
    assert any(len(registers[phone["id"]]) >= 2 for phone in phones)


def test_ground_truth_links_are_found_in_the_index(
    truth: list[dict[str, Any]], ingested: dict[str, IngestReport], search: OpenSearch, prefix: str
) -> None:
    """A sample of entities of every kind: each listed record is found by the entity's identifiers, or
    (where a register records no identifier, as Aquatask and the Cross Border Exchange) by its names."""
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entity in truth:
        by_kind[entity["kind"]].append(entity)
    checks: list[tuple[str, str]] = []
    body: list[dict[str, Any]] = []
    for entities in by_kind.values():
        for entity in entities[:: max(1, len(entities) // 25)]:
            should: list[dict[str, Any]] = [{"terms": {"identifiers": list(entity["identifiers"].values())}}]
            if entity["kind"] == "person":
                should.append({"terms": {"names.compact": entity["names"]}})
            if entity["kind"] == "organisation":
                should.append({"match_phrase": {"text": entity["name"]}})
            for _, _, record_id in entity["records"][:40]:
                query = {
                    "bool": {
                        "filter": [{"ids": {"values": [record_id]}}],
                        "should": should,
                        "minimum_should_match": 1,
                    }
                }
                body += [{"index": prefix}, {"query": query, "size": 0, "track_total_hits": True}]
                checks.append((entity["id"], record_id))
    assert len(checks) > 200
    responses = [
        answer
        for start in range(0, len(body), 400)
        for answer in search.msearch(body=body[start : start + 400])["responses"]
    ]
    lost = [
        check
        for check, answer in zip(checks, responses, strict=True)
        if answer["hits"]["total"]["value"] != 1
    ]
    assert lost == []


# -- memory ------------------------------------------------------------------------------------------
PEAK = """
import resource, sys
from ingest.generate import generate
report = generate(sys.argv[1], seed=3, total=int(sys.argv[2]))
print(report.rows, report.appearances, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
SIZES = (20_000, 200_000)


@pytest.fixture(scope="module", autouse=True)
def memory_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, subprocess.Popen[str]]]:
    """Both runs start with the module, in processes of their own (a clean peak each), so they work
    while the other tests wait on the index; the memory test at the end collects them."""
    folder = tmp_path_factory.mktemp("memory")
    runs = {
        total: subprocess.Popen(
            [sys.executable, "-c", PEAK, str(folder / str(total)), str(total)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for total in SIZES
    }
    yield runs
    for process in runs.values():
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_memory_does_not_grow_with_the_number_of_records(
    memory_runs: dict[int, subprocess.Popen[str]],
) -> None:
    """Ten times the records, about the same peak: nothing is held per record (the caches are bounded,
    the ground truth is sorted on disk). Holding 200,000 records would take hundreds of megabytes."""
    measured = {}
    for total, process in memory_runs.items():
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0
        rows, appearances, peak_kib = (int(part) for part in output.split())
        assert rows == total
        measured[total] = (appearances, peak_kib)
    small, large = (measured[total] for total in SIZES)
    assert large[0] > 9 * small[0], "ten times the work was done"
    growth_mib = (large[1] - small[1]) / 1024
    assert growth_mib < 32, f"peak RSS grew by {growth_mib:.0f} MiB"
