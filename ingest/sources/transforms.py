"""Named transforms a mapping applies to a source value: dates, names, numbers, identifiers.

Each transform takes the stripped source string (and keyword options from the mapping) and returns the
value the record keeps, or raises `TransformError` with a reason a clerk can act on. Identifiers are
validated and normalised by `enrichers.identifiers` and python-stdnum, never by rules of our own, so a
value from a register and the same value found in a document meet in the `identifiers` group field.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import phonenumbers
from stdnum import iban as std_iban
from stdnum.be import bis as std_bis
from stdnum.be import nn as std_nn
from stdnum.be import vat as std_vat
from stdnum.exceptions import ValidationError

from enrichers import identifiers


class TransformError(ValueError):
    """A source value a transform cannot turn into what the record needs."""


Transform = Callable[..., Any]
TRANSFORMS: dict[str, Transform] = {}
F = TypeVar("F", bound=Transform)


def transform(name: str) -> Callable[[F], F]:
    def register(function: F) -> F:
        TRANSFORMS[name] = function
        return function

    return register


def options_of(name: str) -> set[str]:
    """The keyword options a transform accepts (checked when a mapping is loaded)."""
    parameters = inspect.signature(TRANSFORMS[name]).parameters.values()
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


# -- text ------------------------------------------------------------------------------------------
@transform("upper")
def upper(value: str) -> str:
    return value.upper()


@transform("lower")
def lower(value: str) -> str:
    return value.lower()


@transform("collapse")
def collapse(value: str) -> str:
    """Runs of white space (line breaks in a cell, say) become one space."""
    return " ".join(value.split())


@transform("compact")
def compact(value: str) -> str:
    """An identifier without separators, in capitals: the form the index's `identifier` normalizer keeps."""
    return re.sub(r"[\s.\-/_]", "", value).upper()


# -- numbers ---------------------------------------------------------------------------------------
@transform("integer")
def integer(value: str) -> int:
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", value)
    if not re.fullmatch(r"[+-]?\d+", cleaned):
        raise TransformError(f"{value!r} is not a whole number")
    return int(cleaned)


@transform("decimal")
def decimal(value: str) -> float:
    """Amounts as Belgians write them: "1.234,56", "58,00", "€ 58" and "58.00" are all read."""
    cleaned = re.sub(r"[\s\u00a0\u202f€$£]|EUR", "", value)
    if "," in cleaned:
        # The comma is the decimal mark; dots before it group thousands.
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"[+-]?\d{1,3}(\.\d{3}){2,}", cleaned):
        cleaned = cleaned.replace(".", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise TransformError(f"{value!r} is not an amount")
    return float(cleaned)


_TRUE = {"1", "true", "yes", "y", "ja", "j", "oui", "o", "x", "waar", "vrai"}
_FALSE = {"0", "false", "no", "n", "nee", "non", "onwaar", "faux"}


@transform("boolean")
def boolean(value: str) -> bool:
    folded = value.strip().lower()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise TransformError(f"{value!r} is not yes or no (ja/nee, oui/non, true/false, 1/0)")


# -- dates -----------------------------------------------------------------------------------------
# 03/11/2026, 3-11-2026, 3.11.2026, optionally with a time 14:20, 14:20:05, 14u20 or 14h20.
_BELGIAN = re.compile(
    r"(?P<d>\d{1,2})(?P<sep>[/.-])(?P<m>\d{1,2})(?P=sep)(?P<y>\d{2,4})"
    r"(?:(?:\s+|\s*(?:om|à|a|at)\s+|T)(?P<H>\d{1,2})[:uUhH.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?)?"
)
_COMPACT = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?")


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _parse_moment(value: str, format: str | None) -> datetime | date:
    text = value.strip()
    if format:
        try:
            parsed = datetime.strptime(text, format)
        except ValueError as exc:
            raise TransformError(f"{value!r} does not match the format {format!r}") from exc
        has_time = any(code in format for code in ("%H", "%I", "%M", "%S"))
        return parsed if has_time else parsed.date()
    if text[4:5] == "-" and text[:4].isdigit():
        # Four digits and a dash open neither a Belgian nor a compact date: straight to ISO (most
        # machine exports write their moments so, one per row).
        return _parse_iso(value, text)
    match = _BELGIAN.fullmatch(text) or _COMPACT.fullmatch(text)
    if match:
        parts = match.groupdict()
        if len(parts["y"]) != 4:
            raise TransformError(f"{value!r}: a two-digit year is ambiguous; write the year in full")
        try:
            day = date(int(parts["y"]), int(parts["m"]), int(parts["d"]))
            if parts["H"] is None:
                return day
            moment = time(int(parts["H"]), int(parts["M"]), int(parts["S"] or 0))
        except ValueError as exc:
            raise TransformError(f"{value!r} is not a date: {exc}") from exc
        return datetime.combine(day, moment)
    return _parse_iso(value, text)


def _parse_iso(value: str, text: str) -> datetime | date:
    try:  # ISO 8601: 2026-11-03, 2026-11-03T14:20:00+01:00, 2026-11-03 14:20Z
        if len(text) == 10 and _ISO_DAY.fullmatch(text):  # a day alone; a moment is longer
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise TransformError(
            f"{value!r} is not a date (expected 03/11/2026, 3-11-2026 14u20 or ISO)"
        ) from exc


@transform("date")
def to_date(value: str, *, format: str | None = None) -> date:
    """A calendar day; a moment's own day when the source carries a time too."""
    moment = _parse_moment(value, format)
    return moment.date() if isinstance(moment, datetime) else moment


@transform("datetime")
def to_datetime(value: str, *, format: str | None = None, timezone: str = "Europe/Brussels") -> datetime:
    """A moment with its zone: local Belgian time unless the source says otherwise; a day starts at 0:00."""
    moment = _parse_moment(value, format)
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment


# -- names -----------------------------------------------------------------------------------------
_PARTICLES = {
    "van",
    "de",
    "den",
    "der",
    "des",
    "du",
    "la",
    "le",
    "ter",
    "ten",
    "vande",
    "vanden",
    "von",
    "d'",
}


def _recase_word(word: str, first: bool) -> str:
    if not (word.isupper() or word.islower()):
        return word  # mixed case ("McAllister", "DeSmet") was written on purpose
    lowered = word.lower()
    if not first and lowered in _PARTICLES:
        return lowered
    # D'HONDT -> D'Hondt, VAN-DAMME -> Van-Damme
    return re.sub(r"[^\W\d_]+", lambda m: m.group().capitalize(), lowered)


def _recase(words: list[str]) -> list[str]:
    return [_recase_word(word, index == 0) for index, word in enumerate(words)]


@transform("person_name")
def person_name(value: str) -> str:
    """One display form for a person: "VANDENBOSSCHE, Jan" and "VAN DEN BOSSCHE Jan" become
    "Jan Vandenbossche" and "Jan Van den Bossche"; a name already written "Jan Peeters" stays so."""
    text = " ".join(value.replace("\u00a0", " ").split())
    if "," in text:
        surname, given = (part.strip() for part in text.split(",", 1))
    else:
        words = text.split(" ")
        # Registers print the surname first, in capitals: "PEETERS Sofie Maria".
        caps = 0
        while caps < len(words) and words[caps].isupper() and len(re.sub(r"\W", "", words[caps])) > 1:
            caps += 1
        if 0 < caps < len(words):
            surname, given = " ".join(words[:caps]), " ".join(words[caps:])
        else:
            return " ".join(_recase(words))
    if not surname:
        raise TransformError(f"{value!r} has no surname before the comma")
    given_words = [_recase_word(word, True) for word in given.split()]
    return " ".join([*given_words, *_recase(surname.split())])


# -- identifiers -----------------------------------------------------------------------------------
def _whole(found: list[identifiers.Found], value: str) -> identifiers.Found | None:
    """The one identifier that is the whole value (not one found inside a longer text)."""
    stripped = value.strip()
    for item in found:
        if item.raw.strip() == stripped:
            return item
    return None


@transform("national_number")
def national_number(value: str) -> str:
    """A Belgian national register or BIS number, as eleven digits."""
    digits = re.sub(r"[\s.\-/]", "", value)
    for module in (std_nn, std_bis):
        try:
            return str(module.validate(digits))
        except ValidationError:
            continue
    raise TransformError(f"{value!r} is not a valid national register or BIS number")


@transform("iban")
def iban(value: str) -> str:
    try:
        return str(std_iban.validate(value))
    except ValidationError as exc:
        raise TransformError(f"{value!r} is not a valid IBAN: {exc}") from exc


@transform("enterprise_number")
def enterprise_number(value: str) -> str:
    """A Belgian enterprise (KBO/BCE) number, as ten digits."""
    try:
        return str(std_vat.validate(value))
    except ValidationError as exc:
        raise TransformError(f"{value!r} is not a valid enterprise number: {exc}") from exc


@transform("phone")
def phone(value: str, *, region: str = "BE") -> str:
    """A phone number in E.164 (+32470123456); national numbers are read in `region`."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise TransformError(f"{value!r} is not a phone number: {exc}") from exc
    if not phonenumbers.is_valid_number(number):
        raise TransformError(f"{value!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@transform("email")
def email(value: str) -> str:
    found = _whole(list(identifiers.emails(value)), value)
    if found is None:
        raise TransformError(f"{value!r} is not an e-mail address")
    return found.value


@transform("plate")
def plate(value: str) -> str:
    """A number plate without separators: Belgian plates as the text extractor reads them, foreign ones
    (NL "12-XKL-3", FR "AB-123-CD", DE "K-AB 1234") compacted alike."""
    found = _whole(list(identifiers.plates(value.upper())), value.upper())
    if found is not None:
        return found.value
    compacted = compact(value)
    if not re.fullmatch(r"[A-Z0-9]{2,10}", compacted):
        raise TransformError(f"{value!r} is not a number plate")
    return compacted


@transform("vin")
def vin(value: str) -> str:
    compacted = compact(value)
    if not re.fullmatch(r"[A-HJ-NPR-Z0-9]{17}", compacted):
        raise TransformError(f"{value!r} is not a vehicle identification number (17 characters, no I, O, Q)")
    return compacted
