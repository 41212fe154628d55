"""Belgian and international identifiers in free text: found, validated, normalised, with offsets.

Validation is python-stdnum's and phonenumbers'; this module only finds candidates and says which form
the index keeps. Each normalised form is the one spelling search looks for, whatever the user typed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers
from stdnum import iban as std_iban
from stdnum.be import bis as std_bis
from stdnum.be import nn as std_nn
from stdnum.exceptions import ValidationError


@dataclass(frozen=True)
class Found:
    type: str
    raw: str
    value: str
    start: int
    end: int


# National register number: YY.MM.DD-XXX.CC, written with or without dots, dashes or spaces.
_NRN = re.compile(r"(?<![\d.])\d{2}[.\s]?\d{2}[.\s]?\d{2}[-\s.]?\d{3}[.\s-]?\d{2}(?![\d])")
# IBAN: country, check digits, then up to 30 alphanumerics, often grouped by four.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:\s?[A-Za-z0-9]){10,30}(?![A-Za-z0-9])")
# Belgian plates: since 2010 "1-ABC-123"; 1971-2010 "ABC-123" and "123-ABC" (with a separator,
# or any bare six characters would be a plate).
_PLATE_CURRENT = re.compile(r"(?<![A-Za-z0-9])[1-9][\s.-]?[A-Za-z]{3}[\s.-]?\d{3}(?![A-Za-z0-9])")
_PLATE_OLD = re.compile(r"(?<![A-Za-z0-9-])(?:[A-Za-z]{3}[\s.-]\d{3}|\d{3}[\s.-][A-Za-z]{3})(?![A-Za-z0-9-])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")


def _compact(raw: str) -> str:
    return re.sub(r"[\s.\-/]", "", raw).upper()


def national_numbers(text: str) -> Iterator[Found]:
    for match in _NRN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        for kind, module in (("nrn", std_nn), ("bis", std_bis)):
            if module.is_valid(digits):
                yield Found(kind, match.group(), digits, match.start(), match.end())
                break


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


def plates(text: str) -> Iterator[Found]:
    for pattern in (_PLATE_CURRENT, _PLATE_OLD):
        for match in pattern.finditer(text):
            raw = match.group()
            letters = re.sub(r"[^A-Za-z]", "", raw)
            # In running text a plate is written in capitals; "3 mei 123" is not one.
            if not letters.isupper():
                continue
            yield Found("plate", raw, _compact(raw), match.start(), match.end())


def phones(text: str, region: str = "BE") -> Iterator[Found]:
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        value = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        yield Found("phone", match.raw_string, value, match.start, match.end)


def emails(text: str) -> Iterator[Found]:
    for match in _EMAIL.finditer(text):
        yield Found("email", match.group(), match.group().lower(), match.start(), match.end())


EXTRACTORS: tuple[Callable[[str], Iterator[Found]], ...] = (national_numbers, ibans, plates, phones, emails)


def _overlaps(a: Found, b: Found) -> bool:
    return a.start < b.end and b.start < a.end


def extract(text: str) -> list[Found]:
    """Every identifier in the text, in order; where two overlap the first extractor wins.

    A national number written "85.07.30-033.28" also looks like a phone number to a lenient matcher;
    the order of EXTRACTORS states which reading we trust.
    """
    kept: list[Found] = []
    for extractor in EXTRACTORS:
        for found in extractor(text):
            if not any(_overlaps(found, other) for other in kept):
                kept.append(found)
    return sorted(kept, key=lambda found: found.start)


def extract_from_query(query: str) -> list[Found]:
    """Identifiers in what a user typed: plates in lower case count too."""
    found = extract(query)
    for match in _PLATE_CURRENT.finditer(query):
        candidate = Found("plate", match.group(), _compact(match.group()), match.start(), match.end())
        if not any(_overlaps(candidate, other) for other in found):
            found.append(candidate)
    return sorted(found, key=lambda item: item.start)
