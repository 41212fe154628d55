"""Belgian and international identifiers in free text: found, validated, normalised, with offsets.

Validation is python-stdnum's and phonenumbers'; this module only finds candidates and says which form
the index keeps. Each normalised form is the one spelling search looks for, whatever the user typed.
Dates and amounts are found too (analysts filter on them), but they are not identifiers: callers that
fill the `identifiers` group field keep only `IDENTIFIER_TYPES`.

A shape that checks out by chance is the enemy of precision: numbers that need a context to be told
apart (a passport, an identity card that looks like a bank account) are taken only after their label.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import phonenumbers
from stdnum import iban as std_iban
from stdnum import imei as std_imei
from stdnum.be import bis as std_bis
from stdnum.be import eid as std_eid
from stdnum.be import iban as std_be_iban
from stdnum.be import nn as std_nn
from stdnum.be import vat as std_vat
from stdnum.exceptions import ValidationError


@dataclass(frozen=True)
class Found:
    type: str
    raw: str
    value: str
    start: int
    end: int
    country: str | None = None  # plates only: BE unless the text marks another country


IDENTIFIER_TYPES = frozenset(
    {"nrn", "bis", "enterprise", "iban", "id_card", "passport", "pv", "barcode", "imei", "vin", "plate",
     "phone", "email"}
)  # fmt: skip

_SEPARATORS = re.compile(r"[\s.\-/]")
_NON_DIGITS = re.compile(r"\D")
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
# How far before a number its label may stand: "paspoort nr. EH123456", "chassisnummer: ...".
_LABEL_WINDOW = 40
# Most patterns open with a character class and test what stands before it only after its first
# character, "\d(?<![\d.]\d)" or "[A-Z](?<![A-Za-z0-9].)", never "(?<![\d.])\d": the regex engine then
# jumps from one possible first character to the next instead of trying every position of a long text
# (a born-digital document's scan took 4.1 ms instead of 5.9).


def _compact(raw: str) -> str:
    return _SEPARATORS.sub("", raw).upper()


def _label(*words: str) -> re.Pattern[str]:
    # The label closes the window: no other number stands between it and the candidate.
    return re.compile(r"(?i)\b(?:" + "|".join(words) + r")[^\d\n]*\Z")


def _words(*words: str) -> str:
    """Label words, in any case, as a pattern that opens with a character class: the regex engine then
    skips to those letters instead of trying every position of a long text."""
    initials = "".join(sorted({char for word in words for char in (word[0].lower(), word[0].upper())}))
    rest = "|".join(f"(?<={word[0].lower()}){word[1:]}" for word in words)
    return rf"[{initials}](?<!\w.)(?i:{rest})"


def _labelled(label: re.Pattern[str], text: str, start: int) -> bool:
    return label.search(text, max(0, start - _LABEL_WINDOW), start) is not None


# -- persons and organisations ---------------------------------------------------------------------
# National register number: YY.MM.DD-XXX.CC, written with or without dots, dashes or spaces.
_NRN = re.compile(r"\d(?<![\d.]\d)\d[.\s]?\d{2}[.\s]?\d{2}[-\s.]?\d{3}[.\s-]?\d{2}(?!\d)")
# Enterprise (KBO/BCE) and VAT numbers: 0403.170.701, BE 0403 170 701, BE0403170701, BE 403.170.701.
_ENTERPRISE = re.compile(
    r"(?<![\w.])(?P<be>BE\s?)?(?P<digits>[01]?\d{3}(?P<sep>[.\s]?)\d{3}(?P=sep)\d{3})(?![\w]|[.,]\d)"
)
_ENTERPRISE_LABEL = _label(
    "KBO",
    "BCE",
    "KBC-nr",
    "ondernemingsn",
    "n° d'entreprise",
    "numéro d'entreprise",
    "BTW",
    "TVA",
    "VAT",
    "Unternehmensn",
    "MwSt",
    "enterprise",
)
# Belgian eID card: 592-1234567-89, the same shape and check as an old bank account number.
_ID_CARD = re.compile(r"\d(?<![\d.-]\d)\d{2}[-\s.]?\d{7}[-\s.]?\d{2}(?![\d-])")
_ID_CARD_LABEL = _label(
    "identiteitskaart",
    "ID-kaart",
    "eID",
    "kaart",
    "kaartnummer",
    "carte",
    "carte d.identité",
    "Personalausweis",
    "identity card",
)
_PASSPORT = re.compile(
    _words("paspoort", "passeport", "passport", "reisepass", "reispas") + r"[^\n]{0,30}?(?<![A-Za-z0-9])"
    r"(?P<number>[A-Z]{2}\s?\d{6})(?![A-Za-z0-9])"
)


def national_numbers(text: str) -> Iterator[Found]:
    for match in _NRN.finditer(text):
        digits = _NON_DIGITS.sub("", match.group())
        # stdnum checks both centuries: births from 2000 on carry a "2" before the nine digits.
        for kind, module in (("nrn", std_nn), ("bis", std_bis)):
            if module.is_valid(digits):
                yield Found(kind, match.group(), digits, match.start(), match.end())
                break


def enterprise_numbers(text: str) -> Iterator[Found]:
    """Ten digits (0403170701). A bare 04xx number is a mobile unless "BE", dots or a label say so."""
    for match in _ENTERPRISE.finditer(text):
        digits = _NON_DIGITS.sub("", match.group("digits"))
        if not std_vat.is_valid(digits):
            continue
        marked = match.group("be") or _labelled(_ENTERPRISE_LABEL, text, match.start())
        # Unmarked, nine digits are a landline and a bare or spaced 04xx number a mobile.
        if not marked and (len(digits) == 9 or (digits.startswith("04") and match.group("sep") != ".")):
            continue
        yield Found("enterprise", match.group(), std_vat.compact(digits), match.start(), match.end())


def identity_cards(text: str) -> Iterator[Found]:
    for match in _ID_CARD.finditer(text):
        if std_eid.is_valid(match.group()) and _labelled(_ID_CARD_LABEL, text, match.start()):
            yield Found("id_card", match.group(), std_eid.compact(match.group()), match.start(), match.end())


def passports(text: str) -> Iterator[Found]:
    """Belgian passports (EH123456), only after their label: two letters and six digits are common."""
    for match in _PASSPORT.finditer(text):
        raw = match.group("number")
        yield Found("passport", raw, _compact(raw), match.start("number"), match.end("number"))


# -- money -----------------------------------------------------------------------------------------
# IBAN: country, check digits, then up to 30 alphanumerics, often grouped by four.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:\s?[A-Za-z0-9]){10,30}(?![A-Za-z0-9])")
# Belgian account numbers before IBAN: 310-1234567-89 (bare twelve digits only after a label).
_BBAN = re.compile(r"\d(?<![\d.-]\d)(?:\d{2}[-\s.]\d{7}[-\s.]\d{2}|(?P<bare>\d{11}))(?![\d-])")
_BBAN_LABEL = _label("rekening", "compte", "Konto", "account", "rek\\.", "cpte")


def ibans(text: str) -> Iterator[Found]:
    for match in _IBAN.finditer(text):
        raw = match.group()
        # A greedy match may run into the next word; shorten until a valid IBAN is left.
        candidate = raw
        while len(_compact(candidate)) >= 15:
            try:
                value = std_iban.validate(candidate)
            except ValidationError:
                candidate = candidate[:-1].rstrip()
                continue
            yield Found("iban", candidate, value, match.start(), match.start() + len(candidate))
            break


def bbans(text: str) -> Iterator[Found]:
    """Old Belgian account numbers, read as the IBAN they became so both spellings meet."""
    for match in _BBAN.finditer(text):
        if match.group("bare") and not _labelled(_BBAN_LABEL, text, match.start()):
            continue
        bban = _NON_DIGITS.sub("", match.group())
        candidate = f"BE{std_iban.calc_check_digits('BE00' + bban)}{bban}"
        if std_be_iban.is_valid(candidate):  # the account's own mod-97 check, then the IBAN's
            yield Found("iban", match.group(), candidate, match.start(), match.end())


# Amounts: "€ 1.250,50", "1 250,50 EUR", "250 euro", "1.000,- EUR". Belgian texts group thousands with
# dots or spaces and write decimals after a comma.
_NUMBER = r"\d{1,3}(?:[.\u00a0\u202f ]\d{3})+(?:,\d{1,2}|,-)?|\d+(?:[,.]\d{1,2}(?!\d)|,-)?"
_CURRENCY = r"€|\$|£|(?i:EUR|euros?|USD|dollars?|GBP|CHF)"
_AMOUNT = re.compile(
    rf"(?<![\w.,])(?:(?P<before>{_CURRENCY})\s?(?P<n1>{_NUMBER})|(?P<n2>{_NUMBER})\s?(?P<after>{_CURRENCY}))(?!\w)"
)
_THOUSANDS = re.compile(r"[.\u00a0\u202f ](?=\d{3}(?!\d))")
_CURRENCY_CODES = {"€": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "dollar": "USD", "dollars": "USD",
                   "£": "GBP"}  # fmt: skip


def amounts(text: str) -> Iterator[Found]:
    for match in _AMOUNT.finditer(text):
        number = match.group("n1") or match.group("n2")
        currency = match.group("before") or match.group("after")
        integer, _, cents = _THOUSANDS.sub("", number).replace(",-", "").partition(",")
        if not cents and "." in integer:  # "12.5 EUR": a decimal point, not a thousands dot
            integer, _, cents = integer.partition(".")
        value = Decimal(f"{integer}.{cents or '0'}").quantize(Decimal("0.01"))
        code = _CURRENCY_CODES.get(currency.lower(), currency.upper())
        yield Found("amount", match.group(), f"{value} {code}", match.start(), match.end())


# -- vehicles and devices --------------------------------------------------------------------------
# Belgian plates. Since 2010 "1-ABC-123": an index digit, or a letter for a category (M motorcycles,
# O old-timers, T taxis, U temporary, V professional, Y road test, Z trade, G tractors, Q/W trailers).
# 1973-2010 "ABC-123" and 2008-2010 "123-ABC", with a dash or a dot (bare or spaced, six characters are
# too often a word and a number: "250 EUR"); those series never used I, O or Q ("112-BIS"). In running
# text plates are written in capitals: "op 3 mei 123" is no plate.
_PLATE_CURRENT = re.compile(
    r"[1-9GMOQTUVWYZ](?<![A-Za-z0-9-].)(?:(?<=[1-9])[\s.-]?|(?<=[A-Z])-)[A-Z]{3}[\s.-]?\d{3}(?![A-Za-z0-9]|-\w)"
)
_PLATE_OLD = re.compile(
    r"[A-Z\d](?<![A-Za-z0-9-].)(?:(?<=[A-Z])[A-Z]{2}[.-]\d{3}|(?<=\d)\d{2}[.-][A-Z]{3})(?![A-Za-z0-9-])"
)
# Letters that follow a number in running text far more often than they make a plate.
_NOT_PLATE_LETTERS = frozenset(
    {"EUR", "USD", "GBP", "CHF", "JPY", "CNY", "PLN", "CZK", "SEK", "NOK", "DKK", "HUF", "RON", "KMH", "KPH",
     "MPH", "KWH", "MWH", "GWH", "KGS", "LBS", "MBS", "GBS", "BPM", "RPM", "PCS", "STK", "BTW", "TVA", "VAT",
     "JAN", "FEB", "MRT", "MAR", "APR", "MEI", "MAY", "JUN", "JUL", "AUG", "SEP", "OKT", "OCT", "NOV", "DEC",
     "DEZ", "AVR", "MAI", "AOU", "JUI", "FEV"}
)  # fmt: skip
# Personalised plates (1-JOHN, 9-ABC12) and marked foreign plates ("plaque F: AB-123-CD") only after
# a plate label: their shapes alone are everyday words and numbers.
_PLATE_LABEL = _words(
    "nummerplaat",
    "kentekenplaat",
    "kenteken",
    "nrplaat",
    "plaat",
    "plaque",
    "immatriculation",
    "kennzeichen",
    "plate",
)
_PLATE_PERSONAL = re.compile(
    _PLATE_LABEL
    + r"[^\n]{0,20}?(?<![A-Za-z0-9-])(?P<plate>[1-9]-(?=[A-Z0-9]*[A-Z])[A-Z0-9]{2,8})(?![A-Za-z0-9-])"
)
_PLATE_FOREIGN = re.compile(
    _PLATE_LABEL + r"\s*\(?(?P<country>NL|F|FR|D|DE|L|LU|GB|UK|PL|RO|BG|E|ES|I|IT|CH)\)?\s*:?\s+"
    r"(?P<plate>(?=[A-Z0-9 -]*\d)(?=[A-Z0-9 -]*[A-Z])[A-Z0-9]{1,4}(?:[ -][A-Z0-9]{1,5}){1,3})(?![A-Za-z0-9-])"
)
_COUNTRIES = {"F": "FR", "D": "DE", "L": "LU", "UK": "GB", "E": "ES", "I": "IT"}


def plates(text: str) -> Iterator[Found]:
    """Belgian plates written in capitals ("3 mei 123" is not one), and marked foreign plates."""
    for pattern in (_PLATE_CURRENT, _PLATE_OLD):
        for match in pattern.finditer(text):
            raw = match.group()
            value = _compact(raw)
            letters = value.strip(string.digits) if pattern is _PLATE_OLD else ""
            if letters and (letters in _NOT_PLATE_LETTERS or any(char in letters for char in "IOQ")):
                continue
            yield Found("plate", raw, value, match.start(), match.end(), "BE")
    for match in _PLATE_PERSONAL.finditer(text):
        raw = match.group("plate")
        yield Found("plate", raw, _compact(raw), match.start("plate"), match.end("plate"), "BE")
    for match in _PLATE_FOREIGN.finditer(text):
        raw, country = match.group("plate"), match.group("country")
        country = _COUNTRIES.get(country, country)
        yield Found("plate", raw, _compact(raw), match.start("plate"), match.end("plate"), country)


# VIN (ISO 3779): 17 characters without I, O, Q. Position 9 is a check digit in North America; many
# European makers leave it free, so without a valid check we need the label.
_VIN = re.compile(
    r"[A-HJ-NPR-Z0-9](?<![A-Za-z0-9].)(?:(?<=[A-Z])|(?=[A-HJ-NPR-Z0-9]*[A-Z]))[A-HJ-NPR-Z0-9]{16}(?![A-Za-z0-9])"
)
_VIN_LABEL = _label("VIN", "chassis", "châssis", "Fahrgestell", "vehicle identification")
_VIN_VALUES = dict(zip("0123456789ABCDEFGHJKLMNPRSTUVWXYZ", [*range(10), *range(1, 9), *range(1, 6), 7, 9,
                                                                 *range(2, 10)], strict=True))  # fmt: skip
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """The ISO 3779 / North-American check digit (position 9) a VIN should carry."""
    total = sum(_VIN_VALUES[char] * weight for char, weight in zip(vin, _VIN_WEIGHTS, strict=True)) % 11
    return "X" if total == 10 else str(total)


def vins(text: str) -> Iterator[Found]:
    for match in _VIN.finditer(text):
        vin = match.group()
        if vin[8] == vin_check_digit(vin) or _labelled(_VIN_LABEL, text, match.start()):
            yield Found("vin", vin, vin, match.start(), match.end())


# IMEI: 15 digits, grouped 2-6-6-1 or bare, with a Luhn check digit.
_IMEI = re.compile(r"\d(?<![\d.-]\d)\d([\s-]?)\d{6}\1\d{6}\1\d(?![\d-])")


def imeis(text: str) -> Iterator[Found]:
    for match in _IMEI.finditer(text):
        digits = _NON_DIGITS.sub("", match.group())
        if std_imei.is_valid(digits):
            yield Found("imei", match.group(), digits, match.start(), match.end())


# -- police references -----------------------------------------------------------------------------
# ISLP PV number: judicial district, zone, series, serial and year, AN.12.L3.004711/2026; also written
# with spaces or without separators, with a short serial or a two-digit year.
_PV = re.compile(
    r"(?P<district>[A-Z](?<![A-Za-z0-9.].)[A-Z])[.\s](?P<zone>\d{2})[.\s]?(?P<series>L\d)[.\s]?"
    r"(?P<serial>\d{1,6})\s?/\s?(?P<year>\d{4}|\d{2})(?!\d)"
)
# PacOs seizure barcode: PAC, the year, a seven-digit serial (PAC20260100231).
_BARCODE = re.compile(r"(?<![A-Za-z0-9])PAC[\s-]?(?P<year>(?:19|20)\d{2})[\s-]?(?P<serial>\d{7})(?!\d)", re.I)


def pv_numbers(text: str) -> Iterator[Found]:
    for match in _PV.finditer(text):
        district, zone, series, serial, year = match.group("district", "zone", "series", "serial", "year")
        year = year if len(year) == 4 else f"20{year}"
        value = f"{district}.{zone}.{series}.{int(serial):06d}/{year}".upper()
        yield Found("pv", match.group(), value, match.start(), match.end())


def barcodes(text: str) -> Iterator[Found]:
    for match in _BARCODE.finditer(text):
        value = f"PAC{match.group('year')}{match.group('serial')}"
        yield Found("barcode", match.group(), value, match.start(), match.end())


# -- contact ---------------------------------------------------------------------------------------
# A run of digit groups that may hold phone numbers: 0470 12 34 56, 0470/12.34.56, +32 (0)2 555 12 12.
# phonenumbers validates; only runs starting with 0 or + are read (a bare "470 12 34 56" is not).
_PHONE_RUN = re.compile(
    r"[+(\d](?<![\w+/.-].)(?:(?<=\+)\(?\d|(?<=\()\d|(?<=\d))[\d()]*"
    r"(?:(?:[ \t]?[./-][ \t]?|[ \t])\(?\d[\d()]*)*"
)
_PHONE_GROUP = re.compile(r"\+?\(?\d[\d()]*")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")


def _phone(candidate: str, region: str) -> str | None:
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@functools.cache
def _national_lengths(region: str) -> frozenset[int]:
    """How many digits a national number has when written with its trunk 0 (Belgium: 9 or 10)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    lengths = metadata.general_desc.possible_length if metadata and metadata.general_desc else None
    return frozenset(length + 1 for length in lengths or range(7, 15))


def phones(text: str, region: str = "BE") -> Iterator[Found]:
    """National numbers are read in `region`; from each group that may open a number, the longest valid
    reading wins and the search goes on after it."""
    national = _national_lengths(region)
    for run in _PHONE_RUN.finditer(text):
        if text[run.end() : run.end() + 1].isalnum():
            continue  # glued to a word: a reference number, not a phone
        groups = [
            (g.start(), g.end(), sum(map(str.isdigit, g.group())))
            for g in _PHONE_GROUP.finditer(text, run.start(), run.end())
        ]
        first = 0
        while first < len(groups):
            start = groups[first][0]
            opening = text[start : start + 2]
            if opening[0] not in "+0(":
                first += 1
                continue
            trunk = opening != "00" and "0" in opening  # a national number: only its own lengths
            digits, readings = 0, []
            for last in range(first, len(groups)):
                digits += groups[last][2]
                if digits > 15:
                    break
                if (digits in national) if trunk else digits >= 8:
                    readings.append(last)
            for last in reversed(readings):
                raw = text[start : groups[last][1]]
                value = _phone(raw, region)
                if value:
                    yield Found("phone", raw, value, start, groups[last][1])
                    first = last
                    break
            first += 1


def emails(text: str) -> Iterator[Found]:
    if "@" not in text:  # most texts hold no address: a substring test is far cheaper than the scan
        return
    for match in _EMAIL.finditer(text):
        yield Found("email", match.group(), match.group().lower(), match.start(), match.end())


# -- dates -----------------------------------------------------------------------------------------
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "januari jan janvier janv januar jänner january",
            "februari feb février fevrier févr fevr fév fev februar february",
            "maart mrt mars märz maerz march mar",
            "april apr avril avr",
            "mei mai may",
            "juni jun juin june",
            "juli jul juillet juil july",
            "augustus aug août aout august",
            "september sep sept septembre",
            "oktober okt octobre oct october",
            "november nov novembre",
            "december dec décembre decembre déc dezember dez",
        ),
        start=1,
    )
    for name in names.split()
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_NUMERIC = re.compile(
    r"(?P<d>\d(?<![\d./-].)(?:(?<=[0-3])\d)?)(?P<sep>[/.-])(?P<m>[01]?\d)(?P=sep)(?P<y>(?:19|20)\d{2})(?!\d)"
)
_DATE_ISO = re.compile(r"(?P<y>[12](?<![\d./-].)(?:(?<=1)9|(?<=2)0)\d{2})-(?P<m>[01]\d)-(?P<d>[0-3]\d)(?!\d)")
_DATE_WORDS = re.compile(
    rf"(?P<d>\d(?<![\w.].)(?:(?<=[0-3])\d)?)(?:er|\.)?\s(?P<m>(?i:{_MONTH_NAMES}))\.?\s(?P<y>(?:19|20)\d{{2}})(?!\d)"
)


def dates(text: str) -> Iterator[Found]:
    """03/05/2024, 3.5.2024, 3 mei 2024, 3 mai 2024, 2024-05-03: the ISO date."""
    # An ISO date needs a dash: without one, its scan (a pattern that tries every position) is skipped.
    for pattern in (_DATE_ISO, _DATE_NUMERIC, _DATE_WORDS) if "-" in text else (_DATE_NUMERIC, _DATE_WORDS):
        for match in pattern.finditer(text):
            year, month, day = match.group("y", "m", "d")
            try:
                value = date(int(year), _MONTHS.get(month.lower()) or int(month), int(day))
            except ValueError:
                continue
            yield Found("date", match.group(), value.isoformat(), match.start(), match.end())


# Where two readings overlap, the first extractor wins; this order is the one place that says which
# reading we trust. References with letters (PV, barcode) and IBANs first: their digits alone would read
# as other numbers. Then check-digit numbers, strictest first: national numbers (11 digits, the date
# inside must exist), enterprise numbers before anything phone-like (0450.681.695 is a valid enterprise
# number and a valid mobile number; registers print enterprises with dots), labelled identity cards
# before the bank accounts of the same shape, IMEIs, VINs. Labelled passports and plates next. Dates and
# amounts come before phones, which phonenumbers accepts most loosely (03/11/2026 reads as an Antwerp
# number, 0450681695 as a mobile): a phone is what no stricter reading claimed.
EXTRACTORS: tuple[Callable[[str], Iterator[Found]], ...] = (
    pv_numbers,
    barcodes,
    ibans,
    national_numbers,
    enterprise_numbers,
    identity_cards,
    bbans,
    imeis,
    vins,
    passports,
    plates,
    emails,
    dates,
    amounts,
    phones,
)


def _overlaps(a: Found, b: Found) -> bool:
    return a.start < b.end and b.start < a.end


def extract(text: str) -> list[Found]:
    """Every identifier, date and amount in the text, in order; where two overlap the first extractor
    wins (see EXTRACTORS)."""
    kept: list[Found] = []  # in text order, never overlapping: a reading meets only its neighbours
    starts: list[int] = []
    for extractor in EXTRACTORS:
        for found in extractor(text):
            at = bisect.bisect_left(starts, found.start)
            if (at and kept[at - 1].end > found.start) or (at < len(kept) and kept[at].start < found.end):
                continue
            kept.insert(at, found)
            starts.insert(at, found.start)
    return kept


def extract_from_query(query: str) -> list[Found]:
    """Identifiers in what a user typed: plates and VINs in lower case count too ("1abc123")."""
    found = extract(query)
    upper = query.translate(_ASCII_UPPER)  # same length, so offsets hold
    for extractor in (pv_numbers, plates, vins):
        for candidate in extractor(upper):
            raw = query[candidate.start : candidate.end]
            # "3 mei 123" typed in lower case with spaces is a date, not a plate.
            if raw != candidate.raw and " " in raw:
                continue
            candidate = dataclasses.replace(candidate, raw=raw)
            if not any(_overlaps(candidate, other) for other in found):
                found.append(candidate)
    return sorted(found, key=lambda item: item.start)
