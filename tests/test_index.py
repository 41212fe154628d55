"""The unified index on the real engine: closed mapping, analysers present, rebuild by alias swap."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pydantic_core
import pytest
from opensearchpy import OpenSearch, SerializationError
from opensearchpy.exceptions import RequestError
from pydantic import ValidationError

from ingest.index.admin import (
    concrete_index,
    drop_all,
    ensure_indices,
    reindex_kind,
    template_name,
    write_alias,
)
from ingest.index.bulk import write_records
from ingest.index.client import AnswerSerializer
from ingest.index.mapping import index_template
from ingest.records import Record, index_mapping, record_id
from search_api.routers import json_answer
from search_api.search import Hit, SearchPage

REQUIRED_MODULES = {
    "analysis-common",
    "lang-painless",
    "percolator",
    "reindex",
    "parent-join",
    "mapper-extras",
}
REQUIRED_PLUGINS = {"analysis-icu", "analysis-phonetic"}


@pytest.fixture()
def prefix(search: OpenSearch) -> Iterator[str]:
    name = f"test-index-{uuid.uuid4().hex[:8]}"
    ensure_indices(search, name, kinds=["pv"])
    yield name
    drop_all(search, name)


def pv(number: int) -> Record:
    return Record(
        id=record_id("pv", "AN", number),
        kind="pv",
        source="islp",
        title=f"PV AN.12.L3.{number:06d}/2026",
        text=f"Diefstal uit voertuig, aangifte nummer {number}.",
        recorded_at=datetime.now(UTC),
        register="islp",
    )


def test_node_has_the_modules_and_plugins_the_mapping_needs(search: OpenSearch) -> None:
    nodes = search.nodes.info(metric="plugins")["nodes"]
    for node in nodes.values():
        assert {module["name"] for module in node["modules"]} >= REQUIRED_MODULES
        assert {plugin["name"] for plugin in node["plugins"]} >= REQUIRED_PLUGINS


def test_answers_decode_as_the_json_module_reads_them_and_garbage_is_a_serialization_error() -> None:
    answer = '{"hits": {"total": {"value": 2}, "hits": [{"_score": 1.2345678901234567, "n": "Zoë"}]}}'
    assert AnswerSerializer().loads(answer) == json.loads(answer)
    with pytest.raises(SerializationError):
        AnswerSerializer().loads('{"hits": ')


def test_the_apis_json_answers_are_the_bytes_pydantic_core_wrote() -> None:
    """json_answer moved from pydantic-core to orjson; clients must not see a byte of difference."""
    page = SearchPage(
        query="Vandenbossche",
        page=1,
        total=2,
        total_is_lower_bound=False,
        hits=[
            Hit(id="a", kind="pv", title="PV Zoë", register="islp", source={"n": 1.2345678901}, score=3.5),
            Hit(id="b", kind="plate_read", title="1-ABC-123", register="anpr", source={}, version=2),
        ],
        facets={"kind": [("pv", 1), ("plate_read", 1)], "month": [(1_700_000_000_000, 2)]},
        took_ms=3,
    )
    odd = {
        "at": datetime(2026, 11, 29, 15, 0, 0, 123456, tzinfo=UTC),
        "naive": datetime(2026, 1, 1),
        "day": date(2026, 1, 2),
        "span": timedelta(seconds=90),
        "set": frozenset({"x"}),
        "amount": Decimal("1.50"),
        7: "a number as key",
        "nothing": None,
    }
    for value in (page, odd, [page], {"rows": [odd]}):
        assert json_answer(value).body == pydantic_core.to_json(value)


def test_mapping_is_generated_closed() -> None:
    mapping = index_mapping()
    assert mapping["dynamic"] == "strict"
    assert mapping["properties"]["persons"]["dynamic"] == "strict"
    assert mapping["properties"]["register"] == {"type": "keyword"}


def test_the_engine_rejects_an_unknown_field(search: OpenSearch, prefix: str) -> None:
    document = pv(1).document()
    document["colour_of_car"] = "rood"
    with pytest.raises(RequestError) as refused:
        search.index(index=write_alias(prefix, "pv"), id="x", body=document)
    assert "strict_dynamic_mapping_exception" in str(refused.value)


def test_the_record_model_rejects_an_unknown_field() -> None:
    with pytest.raises(ValidationError):
        Record.model_validate({**pv(1).document(), "colour_of_car": "rood"})


def test_reingest_overwrites(search: OpenSearch, prefix: str) -> None:
    write_records(search, prefix, [pv(7), pv(7)], refresh="wait_for")
    write_records(search, prefix, [pv(7)], refresh="wait_for")
    assert search.count(index=prefix)["count"] == 1


def test_identifier_normalizer_folds_spellings(search: OpenSearch, prefix: str) -> None:
    record = pv(8)
    record.identifiers = ["1ABC123"]
    write_records(search, prefix, [record], refresh="wait_for")
    for spelling in ("1-abc-123", "1 ABC 123", "1.abc.123"):
        found = search.search(index=prefix, body={"query": {"term": {"identifiers": spelling}}})
        assert found["hits"]["total"]["value"] == 1, spelling


def test_reindex_by_alias_swap_keeps_search_answering(search: OpenSearch, prefix: str) -> None:
    write_records(search, prefix, [pv(n) for n in range(2000)], refresh="wait_for")
    old = concrete_index(search, prefix, "pv")
    seen: list[int] = []
    errors: list[Exception] = []
    stop = threading.Event()

    def keep_searching() -> None:
        while not stop.is_set():
            try:
                seen.append(
                    search.count(index=prefix, body={"query": {"match": {"text": "diefstal"}}})["count"]
                )
            except Exception as exc:  # any failure during the swap is what this test looks for
                errors.append(exc)

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        outcome = reindex_kind(search, prefix, "pv")
    finally:
        stop.set()
        searcher.join()
    assert outcome["copied"] == 2000
    assert concrete_index(search, prefix, "pv") == outcome["new"] != old
    assert not search.indices.exists(index=old)
    assert errors == []
    assert len(seen) > 5 and set(seen) == {2000}
    # Writes go to the new index through the write alias.
    write_records(search, prefix, [pv(5000)], refresh="wait_for")
    assert search.count(index=outcome["new"])["count"] == 2001


def test_existing_indices_learn_new_fields_in_place(search: OpenSearch, prefix: str) -> None:
    # Indices made by an older release, whose template lacked a field today's records carry.
    drop_all(search, prefix)
    older = index_template(prefix)
    del older["template"]["mappings"]["properties"]["summary"]
    search.indices.put_index_template(name=template_name(prefix), body=older)
    search.indices.create(
        index=f"{prefix}-pv-older",
        body={"aliases": {prefix: {}, write_alias(prefix, "pv"): {"is_write_index": True}}},
    )
    record = pv(9)
    record.summary = "Samenvatting die de oude mapping niet kende."
    assert write_records(
        search, prefix, [record], refresh="wait_for"
    ).errors  # refused: the mapping is closed
    ensure_indices(search, prefix, kinds=["pv"])
    assert not write_records(search, prefix, [record], refresh="wait_for").errors
