"""Identifier extraction and language detection: pure functions, no services."""

from __future__ import annotations

import pytest

from enrichers.identifiers import extract, extract_from_query
from enrichers.language import detect_language
from ingest.sample_documents import belgian_iban, national_number


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("RRN 85.07.30-033.28 van de verdachte", "nrn", "85073003328"),
        ("rijksregisternummer 85073003328.", "nrn", "85073003328"),
        ("IBAN BE44 0096 1234 5645 gebruikt", "iban", "BE44009612345645"),
        ("compte FR76 3000 6000 0112 3456 7890 189 à Paris", "iban", "FR7630006000011234567890189"),
        ("voertuig 1-ABC-123 geflitst", "plate", "1ABC123"),
        ("oude plaat KBR-412 in de garage", "plate", "KBR412"),
        ("bel 0470 12 34 56 of", "phone", "+32470123456"),
        ("tel. +32 2 555 12 12", "phone", "+3225551212"),
        ("mail naar J.Peeters@Example.be vandaag", "email", "j.peeters@example.be"),
    ],
)
def test_finds_and_normalises(text: str, kind: str, value: str) -> None:
    found = [(item.type, item.value) for item in extract(text)]
    assert (kind, value) in found
    item = next(item for item in extract(text) if item.type == kind)
    assert text[item.start : item.end] == item.raw


@pytest.mark.parametrize(
    "text",
    [
        "RRN 85.07.30-033.29 is fout",  # wrong check digits
        "IBAN BE44 0096 1234 5646",  # wrong IBAN check
        "op 3 mei 123 mensen",  # not a plate
        "artikel 1-abc-123 in kleine letters",  # running text: plates are written in capitals
    ],
)
def test_rejects_invalid_candidates(text: str) -> None:
    assert [item for item in extract(text) if item.type in {"nrn", "iban", "plate"}] == []


def test_query_spelling_of_plates_is_lenient() -> None:
    assert [(f.type, f.value) for f in extract_from_query("1abc123")] == [("plate", "1ABC123")]


def test_sample_generators_make_valid_numbers() -> None:
    assert [f.type for f in extract(national_number("010203", 45))] in (["nrn"], ["bis"])
    assert [f.type for f in extract(belgian_iban(1234567))] == ["iban"]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("De verdachte werd gisteren aangehouden in Gent.", "nl"),
        ("Le suspect a été arrêté hier à Liège.", "fr"),
        ("Der Verdächtige wurde gestern in Eupen festgenommen.", "de"),
        ("The suspect was arrested yesterday in Brussels.", "en"),
        ("", None),
    ],
)
def test_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language
