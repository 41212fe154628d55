"""Entity resolution: one stable, readable id for each person, vehicle, phone, account and organisation,
whichever register or spelling it comes from, so an analyst asking "is this the same person?" finds every
record that says so under one id.

An id is a pure function of the values on one record (never of what else has been ingested): the same
record always gets the same ids, in any order, on any run, and re-ingesting changes nothing.

- person: `person:nrn:<11 digits>` (national register or BIS number: the two never share digits), else
  `person:name:<name key>:<birth date>`; a name without a birth date is too common to be anyone's id.
- vehicle: `vehicle:<country>:<plate>` (`vehicle:BE:1ABC123`, `vehicle:NL:29YGZ8`), else `vehicle:vin:<VIN>`.
- phone: `phone:<E.164>`; account: `account:<IBAN>`.
- organisation: `organisation:<10-digit enterprise number>`, else `organisation:name:<name key>`.

The name key folds what clerks do to a name: case, accents ("Hélène" = "Helene"), particles written apart
or together ("Van den Bossche" = "Vandenbossche" = "VAN DEN BOSSCHE"), hyphens, word order ("PEETERS,
Jan" = "Jan Peeters"), and common spelling variants through a small phonetic rule set (`phonetic`):
Mohamed / Mohammed / Muhammad, Youssef / Joessef, Claeys / Claeijs, Ivanov / Iwanow / Ivanoff,
Shevchenko / Chevtchenko, De Smet / De Smedt. Names that are other names (Giuseppe / Joseph, Jef /
Jozef) are not spelling: they stay apart. What the key gives up, the birth date has to keep apart: word
order (a "Marc Thomas" and a "Thomas Marc") and vowels (Martens / Mertens) do not count.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any

# Words that are part of the surname that follows them: written apart, together or hyphenated.
PARTICLES = frozenset(
    {"van", "von", "de", "den", "der", "des", "del", "della", "di", "da", "dos", "ter", "ten", "te", "vander",
     "vanden", "le", "la", "les", "du", "d", "l", "el", "al", "ben", "bin", "lo", "mac", "mc", "o", "st"}
)  # fmt: skip
# Letters NFKD does not take apart.
_LETTERS = str.maketrans({"ß": "ss", "ı": "i", "ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "þ": "th"})  # noqa: RUF001
_NOT_LETTER = re.compile(r"[^a-z0-9]+")
# Spelling rules, in order: transliterations of one sound first, then single letters (see `phonetic`).
_SPELLING = (
    ("tsch", "s"), ("tsh", "s"), ("tch", "s"), ("sch", "s"), ("sh", "s"), ("ch", "s"), ("ph", "f"),
    ("kh", "k"), ("gh", "g"), ("th", "t"), ("dj", "j"), ("dt", "t"), ("ck", "k"), ("cq", "k"),
    ("q", "k"), ("c", "k"), ("x", "ks"), ("w", "v"), ("z", "s"),
)  # fmt: skip
# A plate in running text says no country: only one in a Belgian format is taken to be Belgian.
_BELGIAN_PLATE = re.compile(r"[1-9][A-Z]{3}\d{3}|[A-Z]{3}\d{3}|\d{3}[A-Z]{3}")
_DOUBLE = re.compile(r"(.)\1+")
_VOWELS = re.compile(r"[aeiou]+")
# Legal forms, left out of an organisation's name key ("Garage Peeters BV" = "Garage Peeters").
_LEGAL_FORMS = frozenset(
    {"bv", "bvba", "nv", "cv", "cvba", "vof", "commv", "vzw", "srl", "sprl", "sa", "sc", "scrl", "snc",
     "scs", "asbl", "gmbh", "ag", "ltd", "llc", "inc", "plc", "sarl", "sas", "ebvba"}
)  # fmt: skip
# Country of registration as the index keeps it (ISO 3166 alpha-2) from the codes plates are listed under.
_COUNTRIES = {
    "B": "BE", "BEL": "BE", "NLD": "NL", "D": "DE", "DEU": "DE", "F": "FR", "FRA": "FR", "L": "LU",
    "LUX": "LU", "GB": "GB", "UK": "GB", "GBR": "GB", "I": "IT", "ITA": "IT", "E": "ES", "ESP": "ES",
    "P": "PT", "PRT": "PT", "A": "AT", "AUT": "AT", "CH": "CH", "CHE": "CH", "POL": "PL", "ROU": "RO",
    "RO": "RO", "BG": "BG", "BGR": "BG", "CZ": "CZ", "CZE": "CZ", "LT": "LT", "LTU": "LT",
}  # fmt: skip


def fold(text: str) -> str:
    """Lower case ASCII letters, digits and spaces: accents, ligatures and punctuation folded away
    ("D'Hondt" → "dhondt", "Jean-Baptiste" → "jean baptiste")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LETTERS))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NOT_LETTER.sub(" ", plain.replace("'", "").replace("\u2019", "")).split())


def name_words(name: str) -> list[str]:
    """A name's words, folded, each particle joined to the word after it ("Van den Bossche" →
    ["vandenbossche"]); a particle with nothing after it stays a word."""
    words: list[str] = []
    pending = ""
    for word in fold(name).split():
        if word in PARTICLES:
            pending += word
            continue
        words.append(pending + word)
        pending = ""
    if pending:
        words.append(pending)
    return words


@lru_cache(maxsize=1 << 14)
def phonetic(word: str) -> str:
    """A folded word as it sounds, roughly, across the ways registers transliterate it.

    Digraphs of one sound become one letter (sch/sh/ch/tch → s, ph → f, kh → k, dt → t, ck/cq/q/c → k,
    w → v, z → s, x → ks); a silent final e goes, a final d or v is voiced as t or f; y and j are vowels
    except in front of a vowel at the start (Youssef = Joessef, Meryem = Mariam, Katrijn = Katrien);
    double letters are single; every run of vowels is one "a" (Mohamed = Muhammad, Peeters = Peters).
    Consonants and the places of vowels stay, so Daniel and Daniela, or Jan and Anne, stay apart.
    """
    start = ""
    if len(word) > 1 and word[0] in "jy" and word[1] in "aeiou":
        start, word = "j", word[1:]
    word = word.replace("ij", "i")
    for written, sound in _SPELLING:
        word = word.replace(written, sound)
    word = word.replace("y", "i").replace("j", "i").replace("h", "")
    if len(word) > 3 and word.endswith("e") and word[-2] not in "aeiou":
        word = word[:-1]
    if word.endswith("d"):
        word = word[:-1] + "t"
    elif word.endswith("v"):
        word = word[:-1] + "f"
    word = _DOUBLE.sub(r"\1", start + word)
    return _VOWELS.sub("a", word)


@lru_cache(maxsize=1 << 16)
def name_key(name: str) -> str:
    """The words of a name by sound, in alphabetical order: one key for every spelling of it."""
    return " ".join(sorted(phonetic(word) for word in name_words(name)))


# -- ids -------------------------------------------------------------------------------------------
def _digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value))


def _day(value: Any) -> str | None:
    if isinstance(value, date):  # a datetime is a date too: its day is what counts
        return value.isoformat()[:10]
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    return None


def person_id(
    name: str | None, birth_date: date | str | None = None, national_number: str | None = None
) -> str | None:
    """The national number when there is one; else the name key with the birth date; else None."""
    if national_number:
        digits = _digits(national_number)
        if len(digits) == 11:
            return f"person:nrn:{digits}"
    day = _day(birth_date)
    if not name or day is None:
        return None
    key = name_key(name)
    return f"person:name:{key}:{day}" if key else None


def country_code(country: str | None) -> str:
    """A plate's country as ISO alpha-2; a plate without a country is taken to be Belgian."""
    code = (country or "BE").strip().upper()
    return _COUNTRIES.get(code, code) or "BE"


def vehicle_id(plate: str | None, country: str | None = None, vin: str | None = None) -> str | None:
    """The plate with its country (`vehicle:BE:1ABC123`); a vehicle without a plate by its VIN."""
    if plate:
        compact = re.sub(r"[^0-9A-Za-z]", "", plate).upper()
        if compact:
            return f"vehicle:{country_code(country)}:{compact}"
    if vin:
        compact = re.sub(r"[^0-9A-Za-z]", "", vin).upper()
        if compact:
            return f"vehicle:vin:{compact}"
    return None


def phone_id(number: str | None) -> str | None:
    """A phone number already in E.164 (the engine's and the extractor's form)."""
    if not number:
        return None
    compact = re.sub(r"[^\d+]", "", number)
    return f"phone:{compact}" if compact else None


def account_id(iban: str | None) -> str | None:
    if not iban:
        return None
    compact = re.sub(r"[^0-9A-Za-z]", "", iban).upper()
    return f"account:{compact}" if compact else None


def organisation_key(name: str) -> str:
    """An organisation's name folded, without its legal form; word order kept ("Garage Peeters BV" →
    "garage peeters")."""
    return " ".join(word for word in fold(name).split() if word not in _LEGAL_FORMS)


def organisation_id(name: str | None, enterprise_number: str | None = None) -> str | None:
    if enterprise_number:
        digits = _digits(enterprise_number)
        if len(digits) == 9:  # the old nine-digit numbers took a leading zero
            digits = "0" + digits
        if len(digits) == 10:
            return f"organisation:{digits}"
    if not name:
        return None
    key = organisation_key(name)
    return f"organisation:name:{key}" if key else None


# -- a record's ids --------------------------------------------------------------------------------
_MEMO_SIZE = 1 << 16


def _memoised(function: Callable[..., str | None]) -> Callable[..., str | None]:
    """`function` of a few plain values, its results kept: a plate passes a hundred cameras and a person
    recurs in every register, so a record's ids are mostly looked up. Values that cannot be a key (a
    list where a text belongs: the record fails validation anyway) are computed, never kept or raised on.
    """
    cache: dict[tuple[Any, ...], str | None] = {}

    def call(*values: Any) -> str | None:
        try:
            return cache[values]
        except KeyError:
            pass
        except TypeError:
            return function(*map(_text, values))
        result = function(*map(_text, values))
        if len(cache) >= _MEMO_SIZE:
            cache.clear()
        cache[values] = result
        return result

    return call


def _text(value: Any) -> Any:
    # Only a text (or, for a birth date, a date) says anything: other values make no id.
    return value if isinstance(value, str | date) and value else None


_person = _memoised(person_id)
_organisation = _memoised(organisation_id)
_vehicle = _memoised(vehicle_id)
_phone = _memoised(phone_id)
_account = _memoised(account_id)


def _is_part(item: Any) -> bool:
    return type(item) is dict or isinstance(item, Mapping)


def record_entity_ids(
    persons: Iterable[Mapping[str, Any]] = (),
    organisations: Iterable[Mapping[str, Any]] = (),
    vehicles: Iterable[Mapping[str, Any]] = (),
    phones: Iterable[str] = (),
    ibans: Iterable[str] = (),
) -> list[str]:
    """The ids of every entity on a record (its parts as plain dicts), each once, in order of appearance.
    Never raises: a value of the wrong type makes no id.

    A person listed again under an alias (role "alias", as the mapping engine adds them) is the person
    before it: the alias spelling makes no id of its own.
    """
    # Runs for every row of every export: plain loops, and nothing at all for what a record lacks.
    found: list[str | None] = []
    if persons:
        for person in persons:
            if _is_part(person) and person.get("role") != "alias":
                found.append(
                    _person(person.get("name"), person.get("birth_date"), person.get("national_number"))
                )
    if organisations:
        for item in organisations:
            if _is_part(item):
                found.append(_organisation(item.get("name"), item.get("enterprise_number")))
    if vehicles:
        for item in vehicles:
            if _is_part(item):
                found.append(_vehicle(item.get("plate"), item.get("country"), item.get("vin")))
    if phones:
        found += map(_phone, phones)
    if ibans:
        found += map(_account, ibans)
    if len(found) == 1:
        return [found[0]] if found[0] else []
    return list(dict.fromkeys(entity for entity in found if entity))


def identifier_entity_ids(found: Iterable[tuple[str, str]]) -> list[str]:
    """The ids of the entities that identifiers found in a text name, from (type, normalised value)
    pairs (`enrichers.identifiers.Found.type` and `.value`), each once: a national or BIS number is a
    person, a plate in a Belgian format a Belgian vehicle (a plate in another says no country), a VIN a
    vehicle, a phone a phone, an IBAN an account, an enterprise number an organisation. Other types
    (emails, dates, amounts, case numbers) name no entity here."""
    ids: list[str | None] = []
    for kind, value in found:
        if kind == "nrn" or kind == "bis":
            ids.append(_person(None, None, value))
        elif kind == "plate":
            ids.append(_vehicle(value, "BE", None) if _BELGIAN_PLATE.fullmatch(value) else None)
        elif kind == "vin":
            ids.append(_vehicle(None, None, value))
        elif kind == "phone":
            ids.append(_phone(value))
        elif kind == "iban":
            ids.append(_account(value))
        elif kind == "enterprise":
            ids.append(_organisation(None, value))
    return list(dict.fromkeys(entity for entity in ids if entity))
