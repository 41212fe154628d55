"""Registers connected by YAML mappings: every packaged mapping against its sample on the real engine,
bad rows and bad mappings reported by line, and the transforms each on their own."""

from __future__ import annotations

import gc
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from opensearchpy import OpenSearch
from typer.testing import CliRunner

from ingest.index.admin import drop_all
from ingest.index.bulk import bulk_lines
from ingest.sources import readers
from ingest.sources.engine import Engine, RowError
from ingest.sources.mapping import (
    SAMPLES_DIR,
    Mapping,
    MappingError,
    load_mapping,
    mapping_path,
    packaged_mappings,
)
from ingest.sources.readers import ReadOptions, SourceError, read_rows
from ingest.sources.run import IngestReport, ingest_file, parse_file, parse_lines
from ingest.sources.transforms import (
    TransformError,
    boolean,
    decimal,
    enterprise_number,
    iban,
    national_number,
    person_name,
    phone,
    plate,
    to_date,
    to_datetime,
    vin,
)
from search_api.cli import app

MAPPINGS = packaged_mappings()
BRUSSELS = ZoneInfo("Europe/Brussels")
SUSPECT_NRN = "85073003328"  # Jan Vandenbossche, in ingest/sample_documents.py too


def sample_of(path: Path) -> Path:
    (sample,) = SAMPLES_DIR.glob(f"{path.stem}.*")
    return sample


@pytest.fixture(scope="module")
def prefix(search: OpenSearch) -> Iterator[str]:
    name = f"test-sources-{uuid.uuid4().hex[:8]}"
    yield name
    drop_all(search, name)


# -- the contract every register's mapping keeps -------------------------------------------------
def test_every_register_of_the_design_has_a_mapping_and_a_sample() -> None:
    registers = {path.stem for path in MAPPINGS}
    assert registers >= {
        "islp",
        "pacos",
        "ang",
        "anpr",
        "belvis",
        "raavis",
        "aquatask",
        "aerotask",
        "mercurius",
        "focus",
        "cross_border_exchange",
    }
    for path in MAPPINGS:
        assert sample_of(path).is_file()


@pytest.mark.parametrize("path", MAPPINGS, ids=lambda path: path.stem)
def test_register_contract(path: Path, search: OpenSearch, prefix: str) -> None:
    mapping = load_mapping(path)
    sample = sample_of(path)

    report = IngestReport(mapping.source, str(sample))
    records = list(parse_file(mapping, sample, report=report))
    assert report.error is None
    assert report.rejected == [] and report.warnings == []
    assert report.read == len(records) >= 20
    assert {record.kind for record in records} == set(mapping.kinds)
    assert len({record.id for record in records}) == len(records), "natural keys collide within the sample"
    assert all(record.identifiers for record in records)
    # A second parse gives the same ids: re-ingest overwrites.
    assert [record.id for record in parse_file(mapping, sample)] == [record.id for record in records]

    for _ in range(2):
        ingested = ingest_file(search, prefix, mapping, sample, refresh="wait_for")
        assert ingested.refused == {}, "the index refused records (strict mapping?)"
        assert ingested.ok and ingested.indexed == len(records)
    search.indices.refresh(index=prefix)
    in_index = search.count(index=prefix, body={"query": {"term": {"register": mapping.register_name}}})
    assert in_index["count"] == len(records)

    # Each record is found by each of its identifiers.
    pairs = [(record.id, value) for record in records for value in record.identifiers]
    body: list[dict[str, object]] = []
    for record_id, value in pairs:
        query = {"bool": {"filter": [{"term": {"identifiers": value}}, {"ids": {"values": [record_id]}}]}}
        body += [{"index": prefix}, {"query": query, "size": 0, "track_total_hits": True}]
    responses = search.msearch(body=body)["responses"]
    lost = [
        pair for pair, answer in zip(pairs, responses, strict=True) if answer["hits"]["total"]["value"] != 1
    ]
    assert lost == []


def test_the_same_people_and_vehicles_recur_across_registers() -> None:
    registers_of: dict[str, set[str]] = defaultdict(set)
    for path in MAPPINGS:
        mapping = load_mapping(path)
        for record in parse_file(mapping, sample_of(path)):
            for value in record.identifiers:
                registers_of[value].add(mapping.register_name)
    assert len(registers_of[SUSPECT_NRN]) >= 6
    assert len(registers_of["1ABC123"]) >= 5
    assert len(registers_of["KBR412"]) >= 4


# -- bad rows --------------------------------------------------------------------------------------
def broken_islp(folder: Path) -> Path:
    """Six ISLP rows; line 3 has a date that does not exist, line 5 lost its last column."""
    lines = sample_of(mapping_path("islp")).read_text(encoding="utf-8-sig").splitlines()[:7]
    lines[2] = lines[2].replace("3-11-2026 14u20", "31-02-2026 14u20")
    lines[4] = lines[4].rsplit(";", 1)[0]
    path = folder / "islp-broken.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_rows_are_reported_by_line_and_the_rest_goes_in(
    search: OpenSearch, prefix: str, tmp_path: Path
) -> None:
    mapping = load_mapping(mapping_path("islp"))
    report = ingest_file(search, prefix, mapping, broken_islp(tmp_path), refresh="wait_for")
    assert [problem.line for problem in report.rejected] == [3, 5]
    first, second = (problem.reason for problem in report.rejected)
    assert "Datum feit/Date des faits" in first and "31-02-2026" in first
    assert "expected 31 columns, found 30" in second
    assert report.read == 6 and report.indexed == 4 and report.refused == {}
    assert report.counts() == {"read": 6, "indexed": 4, "rejected": 2, "refused": 0, "warnings": 0}


def test_records_the_index_refuses_are_reported_by_id(
    search: OpenSearch, prefix: str, tmp_path: Path
) -> None:
    rows = [json.loads(line) for line in sample_of(mapping_path("anpr")).read_text().splitlines()[:3]]
    rows[1]["camera"]["lat"] = 123.4  # a camera off the globe: valid JSON, refused by the geo_point field
    export = tmp_path / "anpr.ndjson"
    export.write_text("".join(json.dumps(row) + "\n" for row in rows))
    mapping = load_mapping(mapping_path("anpr"))
    ids = [record.id for record in parse_file(mapping, export)]
    report = ingest_file(search, prefix, mapping, export, refresh="wait_for")
    assert list(report.refused) == [ids[1]]
    assert "addresses.geo" in report.refused[ids[1]]
    assert report.indexed == 2 and report.rejected == [] and not report.ok


def test_the_ingest_command_reports_lines_and_counts(search: OpenSearch, prefix: str, tmp_path: Path) -> None:
    env = {
        "SPEURDER_ENVIRONMENT": "test",
        "SPEURDER_INDEX_PREFIX": prefix,
        "SPEURDER_AUDIT_DATABASE_URL": f"sqlite:///{tmp_path / 'audit.db'}",
    }
    broken = broken_islp(tmp_path)
    result = CliRunner().invoke(app, ["ingest", "islp", str(broken), "--case", "CASE-2026-007"], env=env)
    assert result.exit_code == 1, result.output
    assert "line 3:" in result.output and "line 5:" in result.output
    assert "read=6 indexed=4 rejected=2 refused=0" in result.output
    search.indices.refresh(index=prefix)
    bound = search.count(index=prefix, body={"query": {"term": {"case_ids": "CASE-2026-007"}}})
    assert bound["count"] == 4

    clean = CliRunner().invoke(
        app, ["ingest", "mercurius", str(sample_of(mapping_path("mercurius")))], env=env
    )
    assert clean.exit_code == 0, clean.output
    assert "read=30 indexed=30 rejected=0 refused=0" in clean.output

    unknown = CliRunner().invoke(app, ["ingest", "nosuchregister", str(broken)], env=env)
    assert unknown.exit_code == 2 and "known: aerotask" in unknown.output


# -- mapping validation ----------------------------------------------------------------------------
MINIMAL = """\
source: test_register
kinds: [pv]
format: csv
keys: [Nummer]
record:
  title: Nummer
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "register.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unknown_record_field_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "  colour_of_car: Kleur\n")
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    (problem,) = error.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), 7, "record.colour_of_car")
    assert f"{path}:7: record.colour_of_car: unknown field of Record" in str(error.value)


def test_every_problem_of_a_mapping_is_named_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL
        + "  persons:\n"
        + "    - name: Naam\n"
        + "      nationl_number: RRN\n"  # line 9
        + "  occurred_at: {path: Datum, transform: datum}\n"  # line 10
        + "details:\n"
        + "  fine:\n"  # line 12
        + "    amount: Bedrag\n",
    )
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    found = {(problem.line, problem.field) for problem in error.value.problems}
    assert (9, "record.persons[0].nationl_number") in found
    assert (10, "record.occurred_at.transform[0]") in found
    assert "unknown transform 'datum'" in str(error.value)
    # Kinds and details must agree: checked once the shape is right.
    fixed = path.read_text().replace("nationl_number", "national_number").replace("datum}", "datetime}")
    path.write_text(fixed)
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    assert [(p.line, p.field) for p in error.value.problems] == [(12, "details.fine")]


def test_broken_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "  text: [unclosed\n")
    with pytest.raises(MappingError) as error:
        load_mapping(path)
    assert error.value.problems[0].line >= 7
    assert "not valid YAML" in str(error.value)


def test_a_row_choosing_a_kind_not_in_the_mapping_is_rejected() -> None:
    mapping = Mapping.model_validate(
        {
            "source": "x",
            "kinds": ["pv", "fine"],
            "format": "ndjson",
            "kind": {"path": "t", "map": {"PV": "pv", "OI": "fine"}},
            "keys": ["n"],
            "record": {"title": "n"},
        }
    )
    engine = Engine(mapping)
    assert engine.build({"t": "OI", "n": "1"}).record.kind == "fine"
    with pytest.raises(RowError, match="'HEARING' is not one of the mapped values"):
        engine.build({"t": "HEARING", "n": "2"})
    with pytest.raises(RowError, match="a natural key is empty"):
        engine.build({"t": "PV", "n": ""})


# -- the engine on its own -------------------------------------------------------------------------
def test_aliases_and_repeated_parts_become_persons_and_names() -> None:
    mapping = Mapping.model_validate(
        {
            "source": "x",
            "kinds": ["alert"],
            "format": "json",
            "keys": ["id"],
            "record": {
                "title": {"template": "Alert {id}"},
                "persons": [
                    {"each": "subjects", "name": "name", "national_number": "nrn", "aliases": "aka"},
                ],
                "phones": [{"path": "gsm", "on_error": "drop"}, "landline"],
            },
        }
    )
    built = Engine(mapping).build(
        {
            "id": "A1",
            "subjects": [
                {"name": "VANDENBOSSCHE, Jan", "nrn": "85.07.30-033.28", "aka": ["Johnny VDB"]},
                {"name": "PEETERS Sofie"},
            ],
            "gsm": "not a number",
            "landline": "03 223 45 67",
        },
        case="CASE-1",
    )
    record = built.record
    assert [(p.name, p.role) for p in record.persons] == [
        ("Jan Vandenbossche", None),
        ("Johnny Vdb", "alias"),  # capitals are a register habit, recased
        ("Sofie Peeters", None),
    ]
    assert record.persons[1].national_number == SUSPECT_NRN
    assert record.names == ["Jan Vandenbossche", "Johnny Vdb", "Sofie Peeters"]
    assert record.phones == ["+3232234567"]
    assert record.identifiers == ["+3232234567", SUSPECT_NRN]
    assert record.case_ids == ["CASE-1"]
    assert built.warnings and "not a number" in built.warnings[0]


# -- readers ---------------------------------------------------------------------------------------
def test_json_records_stream_with_their_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "CHUNK_CHARS", 5)  # records cut across every read
    path = tmp_path / "export.json"
    path.write_text(
        '{"meta": {"n": [1, {"x": "]"}]},\n "data": {"items": [\n  {"id": 1, "s": "a\\"b"},\n'
        '  {"id": 2,\n   "k": [1, 2.5]},\n  7,\n  {"id": 3}\n]}}\n'
    )
    rows = list(read_rows(path, ReadOptions("json", record_path="data.items")))
    assert [(row.line, row.data) for row in rows] == [
        (3, {"id": 1, "s": 'a"b'}),
        (4, {"id": 2, "k": [1, 2.5]}),
        (6, None),
        (7, {"id": 3}),
    ]
    assert rows[2].error == "expected a JSON object, found int"


def test_broken_xml_stops_with_its_line_after_what_came_before(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<E xmlns="urn:x">\n <I id="1"><N>a</N></I>\n <I id="2"><N>b</N></I>\n'
        " <I id='3'><N>c</I>\n</E>\n"
    )
    seen = []
    with pytest.raises(SourceError) as error:
        for row in read_rows(path, ReadOptions("xml", record_path="E/I")):
            seen.append((row.line, row.data))
    assert seen == [(3, {"@id": "1", "N": "a"}), (4, {"@id": "2", "N": "b"})]
    assert error.value.line == 5


def test_ndjson_and_csv_rows_that_cannot_be_read_are_rows_with_errors(tmp_path: Path) -> None:
    ndjson = tmp_path / "x.ndjson"
    ndjson.write_text('{"a": 1}\n\n{"a": \n[1]\n{"a": 2}\n')
    rows = list(read_rows(ndjson, ReadOptions("ndjson")))
    assert [(row.line, row.error is None) for row in rows] == [(1, True), (3, False), (4, False), (5, True)]
    table = tmp_path / "x.csv"
    table.write_text('a;b\n1;"two\nlines"\n3\n4;5\n', encoding="utf-8")
    rows = list(read_rows(table, ReadOptions("csv", delimiter=";")))
    assert [(row.line, row.data, row.error) for row in rows] == [
        (2, {"a": "1", "b": "two\nlines"}, None),
        (4, None, "expected 2 columns, found 1"),
        (5, {"a": "4", "b": "5"}, None),
    ]


def test_half_a_surrogate_pair_is_a_bad_row_not_the_end_of_the_ingest(
    search: OpenSearch, prefix: str, tmp_path: Path
) -> None:
    """JSON can escape half a surrogate pair, which no UTF-8 can hold: that row is rejected with its line
    and the reason, the rest goes in. A whole pair (an emoji, escaped) is one character and goes in."""
    rows = sample_of(mapping_path("focus")).read_text().splitlines()[:3]
    rows[1] = rows[1].replace('"description": "', '"description": "\\ud800 ', 1)
    rows[2] = rows[2].replace('"description": "', '"description": "\\ud83d\\ude93 ', 1)
    export = tmp_path / "focus.ndjson"
    export.write_text("\n".join(rows) + "\n")
    report = ingest_file(search, prefix, load_mapping(mapping_path("focus")), export, refresh="wait_for")
    assert [(problem.line, problem.reason) for problem in report.rejected] == [
        (2, "text with half a surrogate pair (\\ud800): not valid Unicode")
    ]
    assert report.indexed == 2 and report.refused == {}
    array = tmp_path / "export.json"
    array.write_text('[{"a": "ok"},\n {"b": ["x", "\\uDC01"]},\n {"\\udbff": 1},\n {"c": "\\ud83d\\ude93"}]')
    read = list(read_rows(array, ReadOptions("json")))
    assert [(row.line, row.error) for row in read] == [
        (1, None),
        (2, "text with half a surrogate pair (\\udc01): not valid Unicode"),
        (3, "text with half a surrogate pair (\\udbff): not valid Unicode"),
        (4, None),
    ]
    assert read[3].data == {"c": "\U0001f693"}


def test_ndjson_rows_read_as_the_json_module_reads_them(tmp_path: Path) -> None:
    """Lines are decoded by orjson, and by the json module where orjson refuses: the values are the
    json module's, and so are the reasons a line is bad."""
    lines = [
        '{"plate": "1-ABC-123", "speed": 87.5, "lane": 2, "ok": true, "none": null}',
        '{"barcode": 123456789012345678901234567890, "tiny": 1e-320, "huge": 1E400}',
        '{"reading": NaN, "nested": {"a": [1, {"b": "\\u00e9\\ud83d\\ude93"}]}}',
        '{"same": 1, "same": 2, "caf\u00e9": "\u20ac"}',
        '{"plate": "1-ABC-123",}',
        '{"plate": ',
        "[1, 2]",
        '"text"',
    ]
    export = tmp_path / "reads.ndjson"
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = list(read_rows(export, ReadOptions("ndjson")))
    expected = []
    for line, text in enumerate(lines, start=1):
        try:
            value = json.loads(text + "\n")  # a line as the file gives it
        except json.JSONDecodeError as exc:
            expected.append((line, None, f"not JSON: {exc.msg} at column {exc.colno}"))
            continue
        if isinstance(value, dict):
            expected.append((line, value, None))
        else:
            expected.append((line, None, f"expected a JSON object, found {type(value).__name__}"))
    got = [(row.line, row.data, row.error) for row in rows]
    assert repr(got) == repr(expected)  # repr: NaN is not equal to itself


def test_an_anpr_export_is_read_one_line_at_a_time() -> None:
    sample = sample_of(mapping_path("anpr"))
    first = next(read_rows(sample, ReadOptions("ndjson")))
    assert first.line == 1
    assert first.data == json.loads(sample.read_text().splitlines()[0])


# -- transforms ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("03/11/2026", datetime(2026, 11, 3, tzinfo=BRUSSELS)),
        ("3-11-2026 14u20", datetime(2026, 11, 3, 14, 20, tzinfo=BRUSSELS)),
        ("3.11.2026 om 14h20", datetime(2026, 11, 3, 14, 20, tzinfo=BRUSSELS)),
        ("03/11/2026 14:20:05", datetime(2026, 11, 3, 14, 20, 5, tzinfo=BRUSSELS)),
        ("2026-11-03T14:20:00+01:00", datetime(2026, 11, 3, 13, 20, tzinfo=ZoneInfo("UTC"))),
        ("2026-11-03 13:20Z", datetime(2026, 11, 3, 13, 20, tzinfo=ZoneInfo("UTC"))),
        ("20261103142000", datetime(2026, 11, 3, 14, 20, tzinfo=BRUSSELS)),
    ],
)
def test_dates_as_belgian_registers_write_them(raw: str, expected: datetime) -> None:
    assert to_datetime(raw) == expected


def test_dates_that_are_not_dates() -> None:
    assert to_date("30/07/1985") == date(1985, 7, 30)
    assert to_date("1985-07-30T00:00:00") == date(1985, 7, 30)
    assert to_date("31.12.2026", format="%d.%m.%Y") == date(2026, 12, 31)
    for raw in ("31/02/2026", "03/11/26", "gisteren", "2026-13-01"):
        with pytest.raises(TransformError):
            to_date(raw)
    # Summer time is Brussels' too.
    assert to_datetime("01/07/2026 12:00").utcoffset().total_seconds() == 7200  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("VANDENBOSSCHE, Jan", "Jan Vandenbossche"),
        ("VAN DEN BOSSCHE, Pieter", "Pieter Van den Bossche"),
        ("D'HONDT, MARIE-CLAIRE", "Marie-Claire D'Hondt"),
        ("PEETERS Sofie Maria", "Sofie Maria Peeters"),
        ("EL AMRANI Karim", "Karim El Amrani"),
        ("Jan Peeters", "Jan Peeters"),
        ("  DUBOIS ,  Marc ", "Marc Dubois"),
        ("McAllister, Ian", "Ian McAllister"),
    ],
)
def test_person_names(raw: str, expected: str) -> None:
    assert person_name(raw) == expected


def test_identifiers_are_validated_and_normalised() -> None:
    assert national_number("85.07.30-033.28") == SUSPECT_NRN
    assert national_number("91232212328") == "91232212328"  # a BIS number
    with pytest.raises(TransformError):
        national_number("85.07.30-033.29")
    assert iban("be44 0096 1234 5645") == "BE44009612345645"
    with pytest.raises(TransformError):
        iban("BE45 0096 1234 5645")
    assert phone("0470 12 34 56") == "+32470123456"
    assert phone("06 12 34 56 78", region="FR") == "+33612345678"
    with pytest.raises(TransformError):
        phone("12")
    assert plate("1-abc-123") == "1ABC123"
    assert plate("KBR-412") == "KBR412"
    assert plate("K-AB 1234") == "KAB1234"
    with pytest.raises(TransformError):
        plate("not a plate at all")
    assert enterprise_number("BE 0403.170.701") == "0403170701"
    with pytest.raises(TransformError):
        enterprise_number("0403.170.702")
    assert vin("WBA8E9C50GK123456") == "WBA8E9C50GK123456"
    with pytest.raises(TransformError):
        vin("WBA8E9C50GK12345O")


def test_numbers_and_yes_no() -> None:
    assert decimal("1.234,56") == 1234.56
    assert decimal("€ 58,00") == 58.0
    assert decimal("58.00") == 58.0
    assert decimal("1.234.567") == 1234567.0
    with pytest.raises(TransformError):
        decimal("veel")
    assert boolean("J") is True and boolean("non") is False and boolean("1") is True
    with pytest.raises(TransformError):
        boolean("misschien")


# -- the compiled engine and the overlapping writer ------------------------------------------------
NUMBERS = {
    "source": "x",
    "kinds": ["plate_read"],
    "format": "ndjson",
    "keys": ["id"],
    "record": {
        "title": "id",
        "vehicles": [{"plate": "plate"}],
        "addresses": [{"geo": {"lat": "lat", "lon": "lon"}}],
    },
    "details": {"plate_read": {"speed": "speed", "lane": "lane"}},
}


def test_numbers_held_as_numbers_read_as_their_text_reads() -> None:
    engine = Engine(Mapping.model_validate(NUMBERS))
    row = {"id": "R1", "plate": "1-abc-123", "lat": 50.9312, "lon": 4, "speed": 105, "lane": " 2 "}
    record = engine.build(row).record
    assert record.addresses[0].geo is not None
    assert (record.addresses[0].geo.lat, record.addresses[0].geo.lon) == (50.9312, 4.0)
    assert record.details.plate_read is not None
    assert (record.details.plate_read.speed, record.details.plate_read.lane) == (105, 2)
    # What the text of a value says decides, as it did when every value went through its text.
    for change, reason in [
        ({"speed": True}, "'True' is not a whole number"),
        ({"speed": 1.5}, "'1.5' is not a whole number"),
        ({"lat": 1e20}, "'1e+20' is not an amount"),
        ({"lat": float("nan")}, "'nan' is not an amount"),
    ]:
        with pytest.raises(RowError, match=re.escape(reason)):
            engine.build({**row, **change})


def test_a_value_that_fails_its_transform_fails_every_time_it_comes() -> None:
    engine = Engine(Mapping.model_validate(NUMBERS))
    row = {"id": "R1", "plate": "1-abc-123", "lat": 50.9, "lon": 4.3}
    for _ in range(3):  # transforms remember their results, never their failures
        assert engine.build(row).record.vehicles[0].plate == "1ABC123"
        with pytest.raises(RowError, match="'not a plate at all' is not a number plate"):
            engine.build({**row, "plate": "not a plate at all"})


def test_a_large_export_goes_in_chunk_after_chunk_with_refusals_by_id(
    search: OpenSearch, prefix: str, tmp_path: Path
) -> None:
    rows = [json.loads(line) for line in sample_of(mapping_path("anpr")).read_text().splitlines()]
    export = tmp_path / "anpr.ndjson"
    with export.open("w") as out:
        for n in range(2_600):  # several chunks, two of them on their way while the next is made
            row = {**rows[n % len(rows)], "readId": f"AMS-TEST-{n:06d}"}
            if n == 1_234:
                row["camera"] = {**row["camera"], "lat": 123.4}
            out.write(json.dumps(row) + "\n")
    mapping = load_mapping(mapping_path("anpr"))
    ids = [record.id for record in parse_file(mapping, export)]
    report = ingest_file(search, prefix, mapping, export, refresh="wait_for")
    assert report.read == 2_600 and report.indexed == 2_599 and report.rejected == []
    assert list(report.refused) == [ids[1_234]]
    found = search.count(index=prefix, body={"query": {"prefix": {"source_ref": "AMS-TEST-"}}})
    assert found["count"] == 2_599


def test_rows_go_in_batches_yet_bad_rows_come_out_in_line_order(tmp_path: Path) -> None:
    rows = [json.loads(line) for line in sample_of(mapping_path("anpr")).read_text().splitlines()]
    lines = []
    for n in range(250):  # three batches of rows
        row = {**rows[n % len(rows)], "readId": f"AMS-TEST-{n:06d}"}
        lines.append(json.dumps(row))
    # In one batch a row pydantic refuses (line 11) before a row the mapping refuses (line 12) and one the
    # reader cannot read (line 13); another batch's bad row on the last line of its batch (line 200).
    lines[10] = json.dumps({**json.loads(lines[10]), "direction": 5})
    lines[11] = json.dumps({**json.loads(lines[11]), "ts": "31/02/2026"})
    lines[12] = "{not json"
    lines[199] = json.dumps({**json.loads(lines[199]), "speed": "snel"})
    export = tmp_path / "anpr.ndjson"
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = load_mapping(mapping_path("anpr"))
    threshold, now = gc.get_threshold(), datetime(2026, 11, 29, 12, 0, tzinfo=ZoneInfo("UTC"))

    report = IngestReport(mapping.source, str(export))
    written = list(parse_lines(mapping, export, "x", report=report, now=now))

    assert [problem.line for problem in report.rejected] == [11, 12, 13, 200]
    reasons = [problem.reason for problem in report.rejected]
    assert "details.plate_read.direction: Input should be a valid string" in reasons[0]
    assert "'31/02/2026' is not a date" in reasons[1]
    assert reasons[2].startswith("not JSON") and "'snel' is not a whole number" in reasons[3]
    assert report.read == 250 and report.parsed == 246 == len(written)
    # The very lines the records of `parse_file` give, in the rows' order.
    assert written == [bulk_lines("x", record) for record in parse_file(mapping, export, now=now)]
    assert gc.get_threshold() == threshold  # the collector as it was before the export
