"""Named entities with the real Frog and the real French model: what an investigator's statement names."""

from __future__ import annotations

import os
import signal

import pytest

from enrichers.frog import FrogError, FrogProcess
from enrichers.ner import Entity, entities, entities_many, pipeline

DUTCH = "Jan Peeters werd op 3 mei in Antwerpen gehoord door de lokale politie Antwerpen."
FRENCH = "Jean Dupont a été entendu le 3 mai à Bruxelles par la police fédérale."


def found(result: list[Entity]) -> set[tuple[str, str]]:
    return {(entity.label, entity.text) for entity in result}


def assert_offsets(text: str, result: list[Entity]) -> None:
    for entity in result:
        assert text[entity.start : entity.end] == entity.text, entity


@pytest.fixture(scope="module")
def frog() -> FrogProcess:
    # The one Frog of this process: the Dutch pipeline is built once for the whole module.
    component = pipeline("nl").get_pipe("frog")
    process: FrogProcess = component.frog
    return process


def test_dutch_statement_names_person_and_place(frog: FrogProcess) -> None:
    result = entities(DUTCH, "nl")
    assert {("PER", "Jan Peeters"), ("LOC", "Antwerpen")} <= found(result)
    assert ("ORG", "lokale politie Antwerpen") in found(result)
    assert_offsets(DUTCH, result)
    assert {e.source for e in result if e.text == "Jan Peeters"} == {"frog"}


def test_dutch_offsets_survive_quotes_newlines_and_control_characters(frog: FrogProcess) -> None:
    text = "Verklaring van \u2018Marie Dubois\u2019:\n\n\x0cZij zag Pieter de Vries in Gent bij KBC Bank NV."
    result = entities(text, "nl")
    assert_offsets(text, result)
    assert {("PER", "Marie Dubois"), ("LOC", "Gent")} <= found(result)


def test_french_statement_names_person_and_place() -> None:
    result = entities(FRENCH, "fr")
    assert {("PER", "Jean Dupont"), ("LOC", "Bruxelles")} <= found(result)
    assert ("ORG", "police fédérale") in found(result)
    assert_offsets(FRENCH, result)


def test_french_company_and_police_zone_come_from_the_patterns() -> None:
    text = "Les fonds ont transité par Transports Lambert SPRL, selon la zone de police Bruxelles-Ixelles."
    result = entities(text, "fr")
    assert ("ORG", "Transports Lambert SPRL") in found(result)
    assert ("ORG", "zone de police Bruxelles-Ixelles") in found(result)
    assert_offsets(text, result)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("de", "Herr Müller von der Staatsanwaltschaft Aachen traf Peter Schmidt in Köln.",
         {("PER", "Müller"), ("ORG", "Staatsanwaltschaft Aachen"), ("PER", "Peter Schmidt"),
          ("LOC", "Köln")}),
        ("de", "Die Zahlung ging an die Müller Bau GmbH in Eupen.",
         {("ORG", "Müller Bau GmbH"), ("LOC", "Eupen")}),
        ("en", "Mrs Smith met John Taylor of the Metropolitan Police in London about Acme Ltd.",
         {("PER", "Smith"), ("PER", "John Taylor"), ("ORG", "Metropolitan Police"), ("LOC", "London")}),
    ],
)  # fmt: skip
def test_german_and_english_rely_on_rules(language: str, text: str, expected: set[tuple[str, str]]) -> None:
    result = entities(text, language)
    assert expected <= found(result)
    assert_offsets(text, result)
    assert {e.source for e in result} <= {"patterns", "gazetteers"}


def test_unknown_language_is_detected() -> None:
    assert ("LOC", "Bruxelles") in found(entities(FRENCH, None))


def test_batches_keep_texts_apart(frog: FrogProcess) -> None:
    texts = [DUTCH, "", "Er gebeurde niets.", "Marie Dubois woont in Luik."]
    results = entities_many(texts, "nl", batch_size=3)
    assert len(results) == 4
    assert ("PER", "Jan Peeters") in found(results[0])
    assert results[1] == [] and results[2] == []
    assert ("LOC", "Luik") in found(results[3])
    for text, result in zip(texts, results, strict=True):
        assert_offsets(text, result)


def test_frog_is_one_long_lived_process_restarted_when_killed(frog: FrogProcess) -> None:
    entities(DUTCH, "nl")
    pid = frog.pid
    assert pid is not None
    entities_many([DUTCH, FRENCH], "nl")
    assert frog.pid == pid

    os.kill(pid, signal.SIGKILL)
    assert ("PER", "Jan Peeters") in found(entities(DUTCH, "nl"))
    assert frog.pid not in (None, pid)


def test_missing_frog_is_a_clear_error() -> None:
    with pytest.raises(FrogError, match="not installed"):
        FrogProcess("frog-that-is-not-installed").start()
