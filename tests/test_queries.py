"""The query builder is a pure function: its bodies are compared as dicts, without a cluster."""

from __future__ import annotations

import pytest

from case_store.users import Entitlements
from search_api.access import access_filter
from search_api.queries import MAX_QUERY_CHARS, QueryError, build_search, parse_query
from ui.helpers import highlight

PRINCIPAL = Entitlements(
    "jan", "Jan", "investigator", "PZ Gent", 2, frozenset({"islp", "ges"}), frozenset({"C-1"})
)


def test_access_filter_is_the_rule() -> None:
    assert access_filter(PRINCIPAL) == {
        "bool": {
            "filter": [
                {"range": {"classification": {"lte": 2}}},
                {
                    "bool": {
                        "should": [
                            {"terms": {"register": ["ges", "islp"]}},
                            {"terms": {"case_ids": ["C-1"]}},
                        ],
                        "minimum_should_match": 1,
                    }
                },
            ]
        }
    }


def test_no_grants_sees_nothing() -> None:
    nobody = Entitlements("x", "x", "analyst", "u", 3, frozenset(), frozenset())
    assert access_filter(nobody) == {"match_none": {}}


def test_every_body_carries_the_access_filter() -> None:
    access = access_filter(PRINCIPAL)
    for raw in ["", "fiets", "1abc123", "type:pv diefstal", "bron:islp"]:
        body = build_search(parse_query(raw), access)
        assert body["query"]["bool"]["filter"][0] == access


def test_identifier_typed_becomes_an_exact_boosted_term() -> None:
    body = build_search(parse_query("1-abc-123"), access_filter(PRINCIPAL))
    should = body["query"]["bool"]["should"]
    assert should[0] == {"term": {"identifiers": {"value": "1ABC123", "boost": 50}}}
    assert body["query"]["bool"]["minimum_should_match"] == 1


def test_field_filters_in_three_languages() -> None:
    parsed = parse_query('type:pv bron:islp dossier:"C 1" diefstal')
    assert parsed.filters == {"kind": ("pv",), "register": ("islp",), "case_ids": ("C 1",)}
    assert parsed.text == "diefstal"


def test_unknown_field_stays_text() -> None:
    assert parse_query("http:foo").text == "http:foo"
    # A field name in prose, followed by a space, is a word: Dutch "lang" (long), "naam", "type".
    assert parse_query("de wachttijd is te lang: drie uur").text == "de wachttijd is te lang: drie uur"


def test_overlong_query_is_refused_with_a_reason() -> None:
    with pytest.raises(QueryError, match="at most"):
        parse_query("x" * (MAX_QUERY_CHARS + 1))


def test_highlight_keeps_only_marks() -> None:
    engine_output = "a &lt;script&gt;alert(1)&lt;/script&gt; <mark>loods</mark> <b>x</b>"
    assert str(highlight(engine_output)) == (
        "a &lt;script&gt;alert(1)&lt;/script&gt; <mark>loods</mark> &lt;b&gt;x&lt;/b&gt;"
    )
    assert str(highlight("<mark>open")) == "<mark>open</mark>"


def test_rate_limiter_counts_per_key_and_says_when() -> None:
    from search_api.ratelimit import RateLimited, RateLimiter

    limiter = RateLimiter(limit=2, window=60)
    limiter.hit("a")
    limiter.hit("a")
    limiter.hit("b")
    limiter.check("b")
    with pytest.raises(RateLimited) as refused:
        limiter.hit("a")
    assert 0 < refused.value.retry_after <= 61


def test_identifier_fields_in_three_languages_take_any_spelling() -> None:
    parsed = parse_query("kenteken:1-abc-123 plaque:1.ABC.123 nrn:85.07.30-033.28 iban:BE44009612345645")
    assert parsed.filters["identifiers"][3] == "BE44009612345645"
    assert parsed.filters["identifiers"][:3] == ("1ABC123", "1ABC123", "85073003328")
    parsed = parse_query('rekening:"BE44 0096 1234 5645" tel:0475/12.34.56 plate:F-AB-123-CD')
    assert parsed.filters["identifiers"] == ("BE44009612345645", "+32475123456", "FAB123CD")
    body = build_search(parsed, access_filter(PRINCIPAL))
    assert {"term": {"identifiers": "+32475123456"}} in body["query"]["bool"]["filter"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("nrn:85.07.30-033.29", "not a valid national number"),  # checksum fails
        ("iban:BE68539007547035", "not a valid IBAN"),
        ("telefoon:12", "not a valid phone number"),
        ('diefstal "fiets', "quotation mark is not closed"),
        ('type:""', "needs a value"),
        ("date:gisteren", "is not a date"),
    ],
)
def test_bad_syntax_gets_a_message_naming_the_problem(raw: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        build_search(parse_query(raw), access_filter(PRINCIPAL))


def test_exclusions_and_boolean_words() -> None:
    parsed = parse_query('diefstal -fiets -"Gent centrum" auto OR moto 1-ABC-123')
    assert parsed.excluded == ("fiets", '"Gent centrum"')
    assert parsed.text == "diefstal auto | moto 1-ABC-123"  # a dash inside a word is not an exclusion
    body = build_search(parsed, access_filter(PRINCIPAL))
    excluded = [clause["simple_query_string"]["query"] for clause in body["query"]["bool"]["must_not"]]
    assert excluded == ["fiets", '"Gent centrum"']


def test_name_filter_matches_every_spelling_form() -> None:
    parsed = parse_query('naam:"Van den Bossche" nom:Mohamed')
    assert parsed.filters["names"] == ("Van den Bossche", "Mohamed")
    clause = build_search(parsed, access_filter(PRINCIPAL))["query"]["bool"]["filter"][1]
    fields = {next(iter(next(iter(q.values())))) for q in clause["bool"]["should"]}
    assert fields == {"names", "names.compact", "names.joined", "names.phonetic"}


def test_a_query_error_is_english_text_and_a_template_to_translate() -> None:
    from ui import i18n

    with pytest.raises(QueryError) as refused:
        parse_query("nrn:85.07.30-033.29 date:gisteren")
    error = refused.value
    assert str(error) == "nrn:85.07.30-033.29 is not a valid national number"  # the API and the logs
    assert error.message == "%(field)s:%(value)s is not a valid %(label)s"
    assert error.params == {"field": "nrn", "value": "85.07.30-033.29", "label": "national number"}
    for code, text in [
        ("nl", "nrn:85.07.30-033.29 is niet geldig als rijksregisternummer"),
        ("fr", "nrn:85.07.30-033.29 : numéro de registre national non valide"),
        ("en", "nrn:85.07.30-033.29 is not a valid national number"),
    ]:
        token = i18n._language.set(code)
        try:
            assert error.translated() == text
        finally:
            i18n._language.reset(token)
    with pytest.raises(QueryError) as refused:
        build_search(parse_query("date:gisteren"), access_filter(PRINCIPAL))
    assert str(refused.value) == "'gisteren' is not a date; write 2026, 2026-03 or 2026-03-15"
    token = i18n._language.set("nl")
    try:
        assert refused.value.translated() == "'gisteren' is geen datum; schrijf 2026, 2026-03 of 2026-03-15"
    finally:
        i18n._language.reset(token)
