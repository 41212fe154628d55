"""The relevance harness measures what it claims, and the search box keeps the relevance it was chosen for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opensearchpy import OpenSearch

from bench import relevance
from search_api.queries import (
    MAX_QUERY_WORDS,
    TEXT_FIELDS,
    QueryError,
    build_search,
    parse_query,
)


def test_measures_on_a_ranking_worked_by_hand() -> None:
    ranked = ["a", "x", "b", "y", "z"]
    relevant = {"a", "b", "c"}
    # Hits at ranks 1 and 3; the ideal puts three hits at ranks 1, 2, 3.
    ideal = 1 + 1 / 1.584962500721156 + 1 / 2
    assert relevance.ndcg_at(ranked, relevant) == pytest.approx((1 + 1 / 2) / ideal)
    assert relevance.average_precision(ranked, relevant) == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert relevance.precision_at(ranked, relevant) == pytest.approx(2 / 10)
    assert relevance.recall_at(ranked, relevant) == pytest.approx(2 / 3)
    assert relevance.ndcg_at([], relevant) == 0.0


def test_cisi_is_read_whole() -> None:
    cisi = relevance.load_cisi()
    assert len(cisi.documents) == 1460
    assert len(cisi.queries) == 76  # the judged ones; 36 queries have no judgements
    assert sum(len(found) for found in cisi.relevant.values()) == 3114
    title, text = cisi.documents["1"]
    assert title.startswith("18 Editions of the Dewey Decimal Classifications")
    assert "Dewey" in text


def test_a_pasted_statement_is_cut_short_with_a_message_not_an_engine_error() -> None:
    # Every word meets every text field, in up to ~5 pieces: past the node's clause limit the engine
    # would refuse the query.
    assert MAX_QUERY_WORDS * len(TEXT_FIELDS) * 5 <= 8192
    words = " ".join(f"woord{n}" for n in range(MAX_QUERY_WORDS))
    assert parse_query(words).text == words
    with pytest.raises(QueryError, match=f"at most {MAX_QUERY_WORDS} words"):
        parse_query(words + " nog")
    # Field filters do not count as words.
    assert parse_query(words + " type:pv").filters == {"kind": ("pv",)}


def test_short_queries_need_every_word_long_ones_most() -> None:
    body = build_search(parse_query("inbraak Gent"), {"match_all": {}})
    clause = body["query"]["bool"]["should"][0]["simple_query_string"]
    assert clause["minimum_should_match"] == "3<-1 6<2"
    assert clause["default_operator"] == "or"


def test_the_node_takes_the_longest_query_the_box_lets_through(search: OpenSearch) -> None:
    settings = search.cluster.get_settings(include_defaults=True, flat_settings=True)
    merged = {**settings["defaults"], **settings["persistent"], **settings["transient"]}
    assert int(merged["indices.query.bool.max_clause_count"]) >= 8192


@pytest.mark.slow
def test_the_search_box_keeps_its_measured_relevance_on_cisi(search: OpenSearch) -> None:
    """Through the real engine and the product's query path: the figures committed in
    bench/results/relevance-cisi.json are met again (within 5 %), and they beat all-words matching."""
    committed = json.loads((Path(relevance.RESULTS) / "relevance-cisi.json").read_text())
    result = relevance.evaluate(search, relevance.load_cisi(), ["product", "all-words"])
    product, all_words = result["strategies"]["product"], result["strategies"]["all-words"]
    assert product["ndcg10"] >= 0.95 * committed["ndcg10"]
    assert product["map"] >= 0.95 * committed["map"]
    assert product["no_hits"] == 0
    assert product["ndcg10"] > 10 * all_words["ndcg10"]
