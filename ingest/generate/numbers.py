"""Belgian (and neighbouring) identifiers, made valid and unique by construction.

Uniqueness never needs memory: every identifier is a function of an entity's index through `Slots`, a
bijection of a numbered space (national numbers by birth year, day and serial; accounts by bank and
number; plates by format), so two entities never share a number however many there are. Check digits
are computed as the registers compute them; python-stdnum validates every kind (see the tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


MASK64 = (1 << 64) - 1


def mix64(value: int) -> int:
    """64 well-mixed bits from an integer (splitmix64's finaliser)."""
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


class Slots:
    """A fixed bijection of [0, size): index -> slot, an affine map with a multiplier prime to `size`.

    The multiplier is near size/φ, so neighbouring indices land far apart (no visible runs of
    consecutive plates or account numbers), and the map is inverted without a table.
    """

    def __init__(self, size: int, salt: int) -> None:
        self.size = size
        multiplier = max(1, int(size * 0.6180339887)) | 1
        while math.gcd(multiplier, size) != 1:
            multiplier += 2
        self.multiplier = multiplier
        self.offset = mix64(salt) % size  # scrambled: spaces of one world do not start side by side
        self.inverse_multiplier = pow(multiplier, -1, size) if size > 1 else 0

    def __call__(self, index: int) -> int:
        if not 0 <= index < self.size:
            raise ValueError(f"index {index} outside a space of {self.size}")
        return (self.multiplier * index + self.offset) % self.size

    def inverse(self, slot: int) -> int:
        return ((slot - self.offset) * self.inverse_multiplier) % self.size


# -- national register and BIS numbers ----------------------------------------------------------------
def _with_check(birth: date, month_field: int, serial: int) -> str:
    base = f"{birth.year % 100:02d}{month_field:02d}{birth.day:02d}{serial:03d}"
    # Births from 2000 on: the check is computed over "2" followed by the nine digits.
    checked = int(("2" if birth.year >= 2000 else "") + base)
    return f"{base}{97 - checked % 97:02d}"


def national_number(birth: date, serial: int) -> str:
    """Eleven digits: YYMMDD, a serial (odd for men, even for women), two check digits."""
    return _with_check(birth, birth.month, serial)


def bis_number(birth: date, serial: int, sex_known: bool = True) -> str:
    """A BIS number (people not in the national register): the month plus 40, or plus 20 if the sex is
    unknown."""
    return _with_check(birth, birth.month + (40 if sex_known else 20), serial)


def format_national_number(digits: str) -> str:
    """85073003328 -> 85.07.30-033.28, as registers print it."""
    return f"{digits[0:2]}.{digits[2:4]}.{digits[4:6]}-{digits[6:9]}.{digits[9:11]}"


@dataclass(frozen=True)
class BirthSpace:
    """Birth dates by year with realistic weights, each day with a run of serials: a numbered space
    whose slot i is one (birth date, serial) pair, so national numbers drawn through `Slots` never
    repeat."""

    years: tuple[int, ...]
    serials: tuple[int, ...]  # serials used per year, by weight
    starts: tuple[int, ...]  # first slot of each year
    size: int

    @classmethod
    def around(cls, reference: date, weights: dict[range, float]) -> BirthSpace:
        years, serials, starts = [], [], []
        start = 0
        for ages, weight in weights.items():
            for age in ages:
                year = reference.year - age
                used = max(2, int(998 * weight))
                years.append(year)
                serials.append(used)
                starts.append(start)
                start += (366 if year % 4 == 0 else 365) * used
        return cls(tuple(years), tuple(serials), tuple(starts), start)

    def birth(self, slot: int) -> tuple[date, int]:
        """The birth date and serial (1..998; odd: man) of a slot."""
        low, high = 0, len(self.starts) - 1
        while low < high:  # the last year starting at or before the slot
            middle = (low + high + 1) // 2
            if self.starts[middle] <= slot:
                low = middle
            else:
                high = middle - 1
        within = slot - self.starts[low]
        used = self.serials[low]
        day, serial = divmod(within, used)
        return date(self.years[low], 1, 1) + timedelta(days=day), serial + 1


# -- accounts ---------------------------------------------------------------------------------------
# Bank codes (first three BBAN digits) of real Belgian banks, as stdnum's bank table knows them.
BELGIAN_BANKS = ("001", "068", "063", "091", "310", "363", "735", "737", "751", "973", "979", "103", "651")
ACCOUNTS_PER_BANK = 10_000_000


def _iban(country: str, bban: str) -> str:
    """Country, ISO 7064 mod 97-10 check digits, BBAN (letters count as 10..35)."""
    tail = f"{int(country[0], 36)}{int(country[1], 36)}00"
    digits = bban + tail if bban.isdigit() else "".join(str(int(char, 36)) for char in bban) + tail
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def belgian_iban(slot: int) -> str:
    """A Belgian IBAN, compact: bank code, seven digits, the BBAN's mod-97 check, the IBAN's check."""
    bank = BELGIAN_BANKS[slot // ACCOUNTS_PER_BANK % len(BELGIAN_BANKS)]
    account = f"{bank}{slot % ACCOUNTS_PER_BANK:07d}"
    bban = f"{account}{int(account) % 97 or 97:02d}"
    return _iban("BE", bban)


FOREIGN_BANKS = {
    "NL": ("ABNA", "INGB", "RABO", "SNSB", "TRIO", "ASNB", "KNAB"),
    "FR": ("30004", "30003", "30002", "10278", "20041", "16006"),
    "DE": ("37040044", "10070000", "50010517", "39050000", "37050198", "30020900"),
    "LU": ("001", "002", "003", "014", "019"),
}


def foreign_iban(country: str, slot: int) -> str:
    banks = FOREIGN_BANKS[country]
    bank = banks[slot % len(banks)]
    number = slot // len(banks)
    if country == "NL":
        bban = f"{bank}{number:010d}"
    elif country == "FR":
        branch, account = f"{10000 + number % 90000:05d}", f"{number:011d}"
        key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97  # the RIB key
        bban = f"{bank}{branch}{account}{key:02d}"
    elif country == "DE":
        bban = f"{bank}{number:010d}"
    else:
        bban = f"{bank}{number:013d}"
    return _iban(country, bban)


def format_iban(compact: str) -> str:
    """BE44009612345645 -> BE44 0096 1234 5645."""
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


# -- phones -----------------------------------------------------------------------------------------
MOBILE_PREFIXES = (
    "470", "471", "472", "473", "474", "475", "476", "477", "478", "479", "484", "485", "486", "487",
    "488", "489", "491", "492", "493", "494", "495", "496", "497", "498", "499", "456", "460", "465",
    "466", "467", "468",
)  # fmt: skip
MOBILES_PER_PREFIX = 1_000_000
LANDLINES = 700_000
# First digit of a seven-digit subscriber number, per one-digit zone (what the numbering plan allows).
_LEADS = {"2": "2345678", "3": "2345678", "4": "23", "9": "234"}


def mobile_number(slot: int) -> str:
    """National digits of a Belgian mobile number: 0470123456."""
    prefix = MOBILE_PREFIXES[slot // MOBILES_PER_PREFIX % len(MOBILE_PREFIXES)]
    return f"0{prefix}{slot % MOBILES_PER_PREFIX:06d}"


def landline_number(area: str, slot: int) -> str:
    """National digits of a fixed line in a zone (area code without the 0): 092351234."""
    subscriber = f"{200_000 + slot % LANDLINES:06d}"
    if len(area) == 1:  # Brussels, Antwerp, Liège, Ghent: seven-digit subscribers
        leads = _LEADS[area]
        subscriber = leads[slot % len(leads)] + subscriber
    return f"0{area}{subscriber}"


def e164(national: str) -> str:
    return "+32" + national[1:]


def format_phone(national: str, style: int) -> str:
    """A number as people write it: 0470 12 34 56, 0470/12.34.56, +32 470 12 34 56, 0032470123456."""
    mobile = national.startswith("04") and len(national) == 10
    if mobile:
        head, rest = national[:4], national[4:]
    elif national[1] in "2349":
        head, rest = national[:2], national[2:]
    else:
        head, rest = national[:3], national[3:]
    groups = [rest[:-4], rest[-4:-2], rest[-2:]]
    if style == 0:
        return f"{head} {' '.join(groups)}"
    if style == 1:
        return f"{head}/{'.'.join(groups)}"
    if style == 2:
        return f"+32 {head[1:]} {' '.join(groups)}"
    if style == 3:
        return e164(national)
    if style == 4:
        return "0032" + national[1:]
    return national


# Zone (area code without the leading 0) of a postcode, by range: close enough for fixed lines.
AREA_CODES = (
    (1000, "2"), (1300, "10"), (1400, "67"), (1500, "2"), (2000, "3"), (2300, "14"), (2500, "3"),
    (2800, "15"), (2900, "3"), (3000, "16"), (3500, "11"), (3600, "89"), (3700, "12"), (3800, "11"),
    (4000, "4"), (4700, "87"), (4750, "80"), (4800, "87"), (4950, "80"), (5000, "81"), (5500, "82"),
    (6000, "71"), (6600, "61"), (6700, "63"), (6800, "61"), (6900, "84"), (7000, "65"), (7500, "69"),
    (7700, "56"), (7800, "68"), (8000, "50"), (8400, "59"), (8500, "56"), (8600, "58"), (8700, "51"),
    (8900, "57"), (9000, "9"), (9100, "3"), (9200, "52"), (9300, "53"), (9500, "54"), (9600, "55"),
    (9800, "9"),
)  # fmt: skip


def area_code(postcode: str) -> str:
    code = "2"
    number = int(postcode)
    for start, area in AREA_CODES:
        if number >= start:
            code = area
    return code


# -- plates -----------------------------------------------------------------------------------------
PLATE_SPACE = {"current": 2 * 26**3 * 1000, "old": 26**3 * 1000, "transition": 26**3 * 1000}


def _letters(number: int, count: int) -> str:
    out = ""
    for _ in range(count):
        number, rest = divmod(number, 26)
        out = LETTERS[rest] + out
    return out


def belgian_plate(style: str, slot: int) -> str:
    """A Belgian plate as printed: 1-ABC-123 (since 2010), ABC-123 (1973-2008), 123-ABC (2008-2010)."""
    digits, rest = slot % 1000, slot // 1000
    letters = _letters(rest % 26**3, 3)
    if style == "current":
        return f"{1 + rest // 26**3}-{letters}-{digits:03d}"
    if style == "old":
        return f"{letters}-{digits:03d}"
    return f"{digits:03d}-{letters}"


GERMAN_CITIES = ("K", "AC", "D", "TR", "MG", "BN", "DN", "HS")
# Each neighbour's plate format is a mixed-radix number: the slot is decoded digit by digit, so the
# map from slot to plate is one-to-one within the country's space.
FOREIGN_PLATE_SPACE = {
    "NL": 100 * 26**3 * 10,
    "FR": 26**2 * 1000 * 26**2,
    "DE": len(GERMAN_CITIES) * 26**2 * 9000,
    "LU": 26**2 * 9000,
    "PL": 26**2 * 90000,
}


def foreign_plate(country: str, slot: int) -> str:
    """Plates of the neighbours, as printed: NL 85-XKL-3, FR AB-123-CD, DE K-AB 1234, LU AB 1234,
    PL WA 12345."""
    if country == "NL":
        slot, last = divmod(slot, 10)
        first, letters = divmod(slot, 26**3)
        return f"{first:02d}-{_letters(letters, 3)}-{last}"
    if country == "FR":
        slot, tail = divmod(slot, 26**2)
        head, digits = divmod(slot, 1000)
        return f"{_letters(head, 2)}-{digits:03d}-{_letters(tail, 2)}"
    if country == "DE":
        slot, number = divmod(slot, 9000)
        city, letters = divmod(slot, 26**2)
        return f"{GERMAN_CITIES[city]}-{_letters(letters, 2)} {1000 + number}"
    if country == "LU":
        letters, number = divmod(slot, 9000)
        return f"{_letters(letters, 2)} {1000 + number}"
    letters, number = divmod(slot, 90000)
    return f"{_letters(letters, 2)} {10000 + number}"


def plate_compact(plate: str) -> str:
    return plate.replace("-", "").replace(" ", "").upper()


# -- vehicles, companies, documents ------------------------------------------------------------------
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_VALUES = {**{str(d): d for d in range(10)},
               **dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ",
                          [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8,
                           9], strict=True))}  # fmt: skip
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_SPACE = 33 * 33 * 1_000_000


def vin(wmi: str, descriptor: str, slot: int) -> str:
    """A 17-character VIN: maker, model descriptor, check digit, year and plant, then a serial; the
    slot fills the last eight places, so two vehicles never share one."""
    year, rest = divmod(slot, 33 * 1_000_000)
    plant, serial = divmod(rest, 1_000_000)
    body = f"{wmi}{descriptor}0{VIN_CHARS[year % 33]}{VIN_CHARS[plant]}{serial:06d}"
    check = sum(_VIN_VALUES[c] * w for c, w in zip(body, _VIN_WEIGHTS, strict=True)) % 11
    return body[:8] + ("X" if check == 10 else str(check)) + body[9:]


def enterprise_number(slot: int) -> str:
    """A KBO/BCE number, ten digits: 0, seven digits, 97 minus the first eight modulo 97.

    From 0500 on: numbers from 0400 to 0499 read as mobile phone numbers (0493.740.292 is also
    +32 493 74 02 92), and the text extractor takes them for phones."""
    base = f"0{5_000_000 + slot % 4_000_000:07d}"
    return f"{base}{97 - int(base) % 97:02d}"


def format_enterprise_number(digits: str) -> str:
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


def identity_card(slot: int) -> str:
    """A Belgian eID card number: 591, seven digits, and the first ten modulo 97 (591-1234567-89)."""
    base = 5_910_000_000 + slot % 10_000_000
    return f"{base:010d}{base % 97 or 97:02d}"


def licence_number(slot: int) -> str:
    return f"1{slot % 1_000_000_000:09d}"


def imo_number(slot: int) -> str:
    """An IMO ship number: six digits and a check digit weighted 7..2."""
    digits = f"{9_000_000 // 10 + slot % 100_000:06d}"
    check = sum(int(d) * w for d, w in zip(digits, range(7, 1, -1), strict=True)) % 10
    return f"{digits}{check}"


def document_number(pattern: str, slot: int) -> str:
    """A travel document number from a pattern (L: letter, #: digit, else kept): the digits hold the
    slot's low part, the letters its high part, so different slots give different numbers."""
    digit_count = pattern.count("#")
    low, high = slot % 10**digit_count, slot // 10**digit_count
    digits = f"{low:0{digit_count}d}"
    out, d = [], 0
    letters = _letters(high, pattern.count("L")) if "L" in pattern else ""
    l_index = 0
    for char in pattern:
        if char == "#":
            out.append(digits[d])
            d += 1
        elif char == "L":
            out.append(letters[l_index])
            l_index += 1
        else:
            out.append(char)
    return "".join(out)
