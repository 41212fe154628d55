"""Identifier extraction and language detection: pure functions, no services."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from stdnum import luhn

from enrichers.identifiers import IDENTIFIER_TYPES, extract, extract_from_query, phones, vin_check_digit
from enrichers.language import detect_language
from ingest.documents import enrich
from ingest.generate import numbers as num
from ingest.generate.cases import parquet_number, pv_number
from ingest.generate.places import municipalities
from ingest.records import Record
from ingest.sample_documents import belgian_iban, national_number

SAMPLES = Path(__file__).resolve().parent.parent / "ingest" / "sources" / "samples"


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


# -- numbers as the generator writes them: what registers print, the extractor must read ------------
def _types(text: str) -> list[tuple[str, str]]:
    return [(item.type, item.value) for item in extract(text)]


@pytest.mark.parametrize("birth", [date(1985, 7, 30), date(2000, 1, 1), date(2003, 4, 5), date(2019, 12, 31)])
def test_national_and_bis_numbers_of_every_century(birth: date) -> None:
    nrn, bis = num.national_number(birth, 17), num.bis_number(birth, 18)
    for digits, kind in ((nrn, "nrn"), (bis, "bis")):
        text = f"betrokkene {num.format_national_number(digits)} verhoord"
        assert _types(text) == [(kind, digits)]
    if birth.year >= 2000:  # the check is over "2" + nine digits: the 1900s reading must not be it
        assert int(nrn[9:]) != 97 - int(nrn[:9]) % 97


def test_national_number_shapes_that_fail_the_check() -> None:
    digits = num.national_number(date(2003, 4, 5), 17)
    wrong = f"{digits[:9]}{(int(digits[9:]) + 1) % 100:02d}"
    assert _types(f"RRN {num.format_national_number(wrong)}") == []


@pytest.mark.parametrize(
    "text",
    ["KBO 0450.681.695", "onderneming 0450.681.695 te Gent", "BTW BE 0450 681 695", "BE0450681695",
     "TVA BE 450.681.695", "ondernemingsnummer: 0450681695"],
)  # fmt: skip
def test_enterprise_numbers_win_over_phones(text: str) -> None:
    # The same digits are a valid Belgian mobile: the test fails if the phone reading wins.
    assert [found.value for found in phones("0450681695")] == ["+32450681695"]
    assert _types(text) == [("enterprise", "0450681695")]


def test_enterprise_numbers_of_the_generator_and_a_bare_mobile() -> None:
    digits = num.enterprise_number(12345)
    assert _types(f"firma {num.format_enterprise_number(digits)}") == [("enterprise", digits)]
    assert _types("0403.170.701") == [("enterprise", "0403170701")]
    assert _types("0403.170.702") == []  # check digits off by one
    assert _types("bel 0450681695 of 0450 68 16 95") == [("phone", "+32450681695")] * 2


@pytest.mark.parametrize("slot", [0, 7, 123_456, 9_999_999])
def test_old_account_numbers_become_their_iban(slot: int) -> None:
    iban = num.belgian_iban(slot)
    bban = iban[4:]
    text = f"storting op {bban[:3]}-{bban[3:10]}-{bban[10:]} gisteren"
    assert _types(text) == [("iban", iban)]
    assert _types(f"rekening {bban}") == [("iban", iban)]
    assert _types(f"referentie {bban}") == []  # twelve bare digits need the label


def test_identity_cards_only_after_their_label() -> None:
    card = num.identity_card(7)
    written = f"{card[:3]}-{card[3:10]}-{card[10:]}"
    assert _types(f"identiteitskaart nr. {written}") == [("id_card", card)]
    assert _types(f"carte d'identité {written}") == [("id_card", card)]
    # Unlabelled, the shape is a bank account's (591 is a bank code): read as such, never as a card.
    assert [kind for kind, _ in _types(f"zie {written}")] == ["iban"]
    wrong = f"{written[:-2]}{(int(card[10:]) % 97) + 1:02d}"
    assert _types(f"identiteitskaart {wrong}") == []


def test_passports_only_after_their_label() -> None:
    assert _types("paspoortnummer: EH123456") == [("passport", "EH123456")]
    assert _types("passeport n° EH 123456 délivré") == [("passport", "EH123456")]
    assert _types("Reisepass Nr. EH123456") == [("passport", "EH123456")]
    assert _types("code EH123456 in het register") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("wagen 1.ABC.123 gezien", "1ABC123"),
        ("wagen 1 ABC 123 gezien", "1ABC123"),
        ("wagen 2-XYZ-789", "2XYZ789"),
        ("handelaarsplaat Z-ABC-123", "ZABC123"),
        ("oude handelaarsplaat ZAA-123", "ZAA123"),
        ("tijdelijke plaat U-ABC-123", "UABC123"),
        ("oldtimer O-ABC-123", "OABC123"),
        ("plaat 412-KBR (2008-2010)", "412KBR"),
        ("zag 412-KBR rijden", "412KBR"),
        ("VAN 250-KBR", "250KBR"),
        ("gepersonaliseerde nummerplaat 1-JOHN", "1JOHN"),
    ],
)
def test_belgian_plates(text: str, value: str) -> None:
    assert ("plate", value) in _types(text)


@pytest.mark.parametrize("style", ["current", "old", "transition"])
def test_plates_as_the_generator_writes_them(style: str) -> None:
    for slot in (0, 4711, 17_575_999):
        plate = num.belgian_plate(style, slot)
        letters = plate.replace("-", "").strip("0123456789")
        if any(char in letters for char in "IOQ") and style != "current":
            continue  # the 1973-2010 series never used I, O or Q
        assert _types(f"voertuig {plate} gezien") == [("plate", num.plate_compact(plate))]


@pytest.mark.parametrize(
    "text",
    ["boete van 250 EUR", "snelheid 100 KMH gemeten", "Kerkstraat 112 BIS", "op 3 mei 123 mensen",
     "AB-123-CD in Frankrijk", "1-JOHN zonder label", "prijs 250 eur", "limiet 100-KMH", "TOTAAL 250-EUR",
     "RAPPORT KBR 412"],
)  # fmt: skip
def test_not_plates(text: str) -> None:
    assert [value for kind, value in _types(text) if kind == "plate"] == []


def test_marked_foreign_plates_keep_their_country() -> None:
    found = extract("plaque F: AB-123-CD et kenteken NL 85-XKL-3")
    assert [(item.value, item.country) for item in found] == [("AB123CD", "FR"), ("85XKL3", "NL")]
    assert extract("1-ABC-123")[0].country == "BE"


def test_vins() -> None:
    vin = num.vin("WVW", "ZZZ1K", 12_345)
    assert vin[8] == vin_check_digit(vin)
    assert _types(f"voertuig {vin} teruggevonden") == [("vin", vin)]
    assert _types("VIN 1M8GDM9AXKP042788") == [("vin", "1M8GDM9AXKP042788")]  # the ISO 3779 example
    wrong = vin[:8] + ("0" if vin[8] != "0" else "1") + vin[9:]
    assert _types(f"voertuig {wrong} teruggevonden") == []  # bad check digit, no label
    assert _types(f"chassisnummer: {wrong}") == [("vin", wrong)]  # European VINs carry no check digit
    assert _types(f"numéro de châssis {wrong}") == [("vin", wrong)]
    assert _types(f"code {wrong[:8]}I{wrong[9:]}") == []  # I, O and Q never occur


def test_imeis() -> None:
    body = "35209900176148"
    imei = body + luhn.calc_check_digit(body)
    assert _types(f"toestel {imei}") == [("imei", imei)]
    assert _types(f"IMEI {imei[:2]}-{imei[2:8]}-{imei[8:14]}-{imei[14]}") == [("imei", imei)]
    assert _types(f"toestel {body}{(int(imei[-1]) + 1) % 10}") == []  # Luhn fails


@pytest.mark.parametrize("style", range(6))
def test_phones_as_people_write_them(style: int) -> None:
    for national in (num.mobile_number(4711), num.landline_number("9", 12), num.landline_number("50", 3)):
        written = num.format_phone(national, style)
        assert _types(f"bel {written} morgen") == [("phone", num.e164(national))], written


def test_phones_international_and_with_trunk_in_brackets() -> None:
    assert _types("tel. +32 (0)2 555 12 12") == [("phone", "+3225551212")]
    assert _types("Tel.: +33 1 42 68 53 00") == [("phone", "+33142685300")]
    assert _types("Tel.: +31 20 624 1111") == [("phone", "+31206241111")]
    assert _types("ref 470 12 34 56") == []  # no trunk 0, no country code


def test_pv_numbers_as_the_generator_writes_them() -> None:
    for place in municipalities()[::40]:
        pv = pv_number(place, 4711, 2026)
        assert _types(f"PV {pv} opgesteld") == [("pv", pv)]
        assert _types(f"verhoor {pv}/V1") == [("pv", pv)]
        spaced = pv.replace(".", " ", 1).replace(".", " ")
        assert _types(f"PV {spaced}") == [("pv", pv)]
    assert _types("PV BR.30.L1.4711/26") == [("pv", "BR.30.L1.004711/2026")]
    assert _types(f"notitie {parquet_number('AN', 12_345, 2026)}") == []  # the prosecutor's number


def test_barcodes_as_the_generator_writes_them() -> None:
    written = re.findall(r'barcode="([^"]+)"', (SAMPLES / "pacos.xml").read_text(encoding="utf-8"))
    assert len(written) > 5
    for barcode in written:
        assert _types(f"overtuigingsstuk {barcode} in bewaring") == [("barcode", barcode)]
    assert _types("stuk pac 2026 0100231") == [("barcode", "PAC20260100231")]
    assert _types("stuk PAC2026010023") == []  # one digit short


@pytest.mark.parametrize(
    ("text", "value"),
    [("03/05/2024", "2024-05-03"), ("3.5.2024", "2024-05-03"), ("3-5-2024", "2024-05-03"),
     ("3 mei 2024", "2024-05-03"), ("3 mai 2024", "2024-05-03"), ("1er mai 2024", "2024-05-01"),
     ("1. März 2024", "2024-03-01"), ("2024-05-03", "2024-05-03"),
     ("donderdag 8 oktober 2026", "2026-10-08")],
)  # fmt: skip
def test_dates(text: str, value: str) -> None:
    assert _types(f"feiten van {text} 's nachts") == [("date", value)]


def test_impossible_dates_are_not_dates() -> None:
    assert [kind for kind, _ in _types("op 31/02/2024 en 2024-13-01")] == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("€ 1.250,50", "1250.50 EUR"), ("1 250,50 EUR", "1250.50 EUR"), ("250 euro", "250.00 EUR"),
     ("1.000,- EUR", "1000.00 EUR"), ("10.000 euros", "10000.00 EUR"), ("EUR 99,9", "99.90 EUR"),
     ("250€", "250.00 EUR")],
)  # fmt: skip
def test_amounts(text: str, value: str) -> None:
    assert _types(f"bedrag {text} betaald") == [("amount", value)]


def test_dates_and_amounts_are_not_identifiers() -> None:
    assert {"date", "amount"}.isdisjoint(IDENTIFIER_TYPES)
    assert {"nrn", "bis", "enterprise", "iban", "plate", "vin", "imei", "pv", "barcode"} <= IDENTIFIER_TYPES
    record = Record(
        id="x", kind="document", source="upload", title="t", recorded_at=datetime.now(UTC), register="upload"
    )
    text = "Op 3 mei 2024 betaalde 1-ABC-123 (VIN 1M8GDM9AXKP042788) 250 EUR; plaque F: AB-123-CD."
    enrich(record, text)
    named = {"person", "organisation", "location"}  # what NER adds beside the identifiers
    assert {m.type for m in record.mentions} - named == {"plate", "vin"}  # dates identify nobody
    assert record.identifiers == ["1ABC123", "1M8GDM9AXKP042788", "AB123CD"]
    assert {(v.plate, v.country, v.vin) for v in record.vehicles} == {
        ("1ABC123", "BE", None), ("AB123CD", "FR", None), (None, None, "1M8GDM9AXKP042788")
    }  # fmt: skip


@pytest.mark.parametrize(
    ("query", "kind", "value"),
    [("1-abc-123", "plate", "1ABC123"), ("1.abc.123", "plate", "1ABC123"), ("kbr-412", "plate", "KBR412"),
     ("an.12.l3.004711/2026", "pv", "AN.12.L3.004711/2026"),
     ("vin 1m8gdm9axkp042788", "vin", "1M8GDM9AXKP042788"),
     ("BE 0403.170.701", "enterprise", "0403170701")],
)  # fmt: skip
def test_queries_in_any_case(query: str, kind: str, value: str) -> None:
    found = extract_from_query(query)
    assert [(item.type, item.value) for item in found] == [(kind, value)]
    assert all(query[item.start : item.end] == item.raw for item in found)


def test_queries_in_lower_case_with_spaces_are_not_plates() -> None:
    assert extract_from_query("3 mei 123") == []


def test_overlaps_are_resolved_by_extractor_order() -> None:
    text = "PV AN.12.L3.004711/2026 op 03/11/2026 om 14:20, RRN 85.07.30-033.28, GSM 0470 12 34 56"
    found = extract(text)
    assert [item.type for item in found] == ["pv", "date", "nrn", "phone"]
    assert [item.start for item in found] == sorted(item.start for item in found)
    assert all(text[item.start : item.end] == item.raw for item in found)


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


def test_a_document_names_its_people_firms_and_places_through_real_ner() -> None:
    """Dutch goes through Frog, French through fr_core_news_sm; both land on the record."""
    record = Record(
        id="ner",
        kind="document",
        source="upload",
        title="t",
        recorded_at=datetime.now(UTC),
        register="upload",
    )
    text = "Jan Peeters werd op 3 mei in Antwerpen gehoord door de lokale politie over de diefstal."
    enrich(record, text)
    assert record.language == "nl"
    assert ("Jan Peeters", "mentioned") in {(p.name, p.role) for p in record.persons}
    assert "Jan Peeters" in record.names
    places = [m for m in record.mentions if m.type == "location"]
    assert [text[m.start : m.end] for m in places] == ["Antwerpen"]
    assert not any(entity.startswith("person:") for entity in record.entity_ids)  # a name is nobody's id

    record = Record(
        id="ner-fr",
        kind="document",
        source="upload",
        title="t",
        recorded_at=datetime.now(UTC),
        register="upload",
    )
    enrich(record, "Marie Dubois a été entendue à Bruxelles par la police locale au sujet du vol.")
    assert record.language == "fr"
    assert "Marie Dubois" in {p.name for p in record.persons}
    assert "Bruxelles" in {m.value for m in record.mentions if m.type == "location"}
