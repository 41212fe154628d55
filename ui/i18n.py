"""The interface's languages: Dutch, French and English, chosen per user, with English as the fallback.

Message ids are English. The Dutch and French catalogues are the `.po` files under `ui/locales`, compiled
in memory on first use, so there is no build step and no binary file in the repository. The language of
the request being served lives in a context variable: the middleware sets it, and `gettext` (for routers)
and the template globals read it. FastAPI runs sync endpoints in a thread pool that copies the context,
so each request sees its own language.

Extract new strings with `pybabel extract -F babel.cfg -o var/messages.pot .`, then merge them with
`pybabel update -i var/messages.pot -d ui/locales` and translate what is new (see docs/operating.md).
A message written where no request is at hand (a query error, a label table) is marked with `N_` for the
extraction and translated where it is shown.
"""

from __future__ import annotations

import gettext as _gettext
import io
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel import Locale
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOCALES_DIR = Path(__file__).parent / "locales"
COOKIE = "speurder_lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
DEFAULT = "nl"
# Each language under its own name, the way a speaker of it looks for it on the switch.
LANGUAGES = {"nl": "Nederlands", "fr": "Français", "en": "English"}
CATALOGUED = ("nl", "fr")  # English is the message ids themselves
# Belgian conventions for numbers and dates (1.234 in Dutch, 1 234 in French).
FORMAT_LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "en": "en"}

_language: ContextVar[str] = ContextVar("speurder_language", default=DEFAULT)
_QUALITY = re.compile(r"^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$")


@cache
def catalogues() -> dict[str, _gettext.NullTranslations]:
    """Every language's translations, compiled from the .po files once per process."""
    compiled: dict[str, _gettext.NullTranslations] = {"en": _gettext.NullTranslations()}
    for code in CATALOGUED:
        with (LOCALES_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as po:
            catalog = read_po(po, locale=code)
        mo = io.BytesIO()
        write_mo(mo, catalog)  # fuzzy entries are left out: they fall back to English
        mo.seek(0)
        compiled[code] = Translations(mo)
    return compiled


def current_language() -> str:
    return _language.get()


def gettext(message: str, **values: Any) -> str:
    """`message` in the request's language; `%(name)s` placeholders are filled from `values`."""
    text = catalogues()[_language.get()].gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, num: int, **values: Any) -> str:
    """The singular or plural form for `num`; `%(num)s` is the number written the language's way."""
    text = catalogues()[_language.get()].ngettext(singular, plural, num)
    return text % {"num": format_number(num), **values}


def N_(message: str) -> str:
    """Marks an English message for `pybabel extract` where it is written; it is translated where shown."""
    return message


class Label(str):
    """A message's parameter that is a message id itself (a field's name): translated with the message."""


def translate(message: str, params: Mapping[str, object]) -> str:
    """A message marked with `N_`, filled from `params`, in the request's language; `Label`s too."""
    values = {name: gettext(value) if isinstance(value, Label) else value for name, value in params.items()}
    return gettext(message, **values)


# What the kinds of records (ingest.records.KINDS) and of entities (search_api.entities.ENTITY_KINDS) are
# called on badges, facets and the graph's switches. A kind without a label here shows its code.
KIND_LABELS: dict[str, str] = {
    "document": N_("Document"),
    "pv": N_("Police report"),
    "fine": N_("Fine"),
    "hearing": N_("Hearing"),
    "information": N_("Information"),
    "seizure": N_("Seizure"),
    "alert": N_("Alert"),
    "plate_read": N_("Plate read"),
    "visa_check": N_("Visa check"),
    "admin_report": N_("Administrative report"),
    "border_check": N_("Border check"),
    "licence_status": N_("Driving licence status"),
    "bank_account": N_("Bank account"),
    "incident": N_("Incident"),
    "briefing": N_("Briefing"),
    "person": N_("Person"),
    "vehicle": N_("Vehicle"),
    "phone": N_("Phone"),
    "account": N_("Bank account"),
    "organisation": N_("Organisation"),
    "address": N_("Address"),
}
# Registers are proper names, the same in every language: each as its owners write it (docs/registers.md).
# A register not named here (an upload's, say) shows its code.
REGISTER_NAMES = {
    "islp": "ISLP",
    "pacos": "PacOs",
    "ang": "ANG",
    "anpr": "ANPR",
    "belvis": "Belvis",
    "raavis": "Raavis",
    "aquatask": "Aquatask",
    "aerotask": "Aerotask",
    "mercurius": "Mercurius",
    "focus": "FOCUS@GPI",
    "cross_border_exchange": "Cross Border Exchange",
}


# What an identifier or a named entity found in a text is, in words (enrichers/identifiers.py, ner.py).
IDENTIFIER_LABELS: dict[str, str] = {
    "nrn": N_("National register number"),
    "bis": N_("BIS number"),
    "enterprise": N_("Enterprise number"),
    "iban": N_("IBAN"),
    "id_card": N_("Identity card"),
    "passport": N_("Passport"),
    "pv": N_("PV number"),
    "barcode": N_("Seizure barcode"),
    "imei": N_("IMEI"),
    "vin": N_("Chassis number (VIN)"),
    "plate": N_("Plate"),
    "phone": N_("Phone"),
    "email": N_("E-mail address"),
    "person": N_("Person"),
    "organisation": N_("Organisation"),
    "location": N_("Place"),
}


def identifier_label(kind: str) -> str:
    """What a found identifier or entity is, in the request's language: `nrn` is "Rijksregisternummer"."""
    label = IDENTIFIER_LABELS.get(kind)
    return gettext(label) if label else kind


# What the kind-specific fields (ingest.records.Details, one sub-model per kind) are called on result cards
# and record pages: every field name of every sub-model, each once. A field without a label shows its name.
DETAIL_LABELS: dict[str, str] = {
    # document
    "mime_type": N_("File type"),
    "author": N_("Author"),
    "created": N_("Created"),
    "modified": N_("Modified"),
    "page_count": N_("Pages"),
    "email_from": N_("Sender"),
    "email_to": N_("Recipients"),
    "email_cc": N_("Cc"),
    "email_subject": N_("E-mail subject"),
    "email_date": N_("Sent"),
    "message_id": N_("Message ID"),
    # pv
    "pv_number": N_("Police report number"),
    "offence": N_("Offence"),
    "offence_code": N_("Offence code"),
    "legal_basis": N_("Legal basis"),
    "parquet_number": N_("Prosecutor's notice number"),
    "status": N_("Status"),
    # fine
    "fine_number": N_("Fine number"),
    "amount": N_("Amount"),
    "currency": N_("Currency"),
    "country": N_("Country"),
    "paid": N_("Paid"),
    "payment_status": N_("Payment status"),
    "measured_speed": N_("Measured speed"),
    "speed_limit": N_("Speed limit"),
    # hearing
    "hearing_type": N_("Hearing type"),
    "salduz_category": N_("Salduz category"),
    "interpreter": N_("Interpreter"),
    "hearing_language": N_("Language of the hearing"),
    "duration_minutes": N_("Duration (minutes)"),
    # information
    "information_number": N_("Information number"),
    "information_type": N_("Information type"),
    "reliability": N_("Reliability"),
    "source_evaluation": N_("Source evaluation"),
    # seizure
    "barcode": N_("Barcode"),
    "item": N_("Item"),
    "item_category": N_("Item category"),
    "quantity": N_("Quantity"),
    "seizure_number": N_("Seizure number"),
    "storage_location": N_("Storage location"),
    # alert
    "alert_number": N_("Alert number"),
    "alert_type": N_("Alert type"),
    "measure": N_("Measure to take"),
    "instruction": N_("Instruction"),
    "reason": N_("Reason"),
    "issuing_authority": N_("Issuing authority"),
    "dangerous": N_("Dangerous"),
    # plate_read
    "read_id": N_("Read ID"),
    "camera_id": N_("Camera ID"),
    "camera_location": N_("Camera location"),
    "direction": N_("Direction"),
    "lane": N_("Lane"),
    "speed": N_("Speed"),
    "trajectory_id": N_("Section control"),
    "average_speed": N_("Average speed"),
    "confidence": N_("Read confidence"),
    "hit_list": N_("Hit list"),
    # visa_check
    "visa_number": N_("Visa number"),
    "visa_type": N_("Visa type"),
    "travel_document_number": N_("Travel document number"),
    "nationality": N_("Nationality"),
    "check_location": N_("Place of check"),
    "afis_result": N_("AFIS result"),
    "sis_result": N_("SIS result"),
    "ang_result": N_("ANG result"),
    "interpol_result": N_("Interpol result"),
    "decision": N_("Decision"),
    # admin_report
    "report_number": N_("Report number"),
    "immigration_reference": N_("Immigration Office reference"),
    "residence_status": N_("Residence status"),
    "detention": N_("Detention"),
    # border_check
    "flight_or_vessel": N_("Flight or vessel"),
    "carrier": N_("Carrier"),
    "border_post": N_("Border post"),
    "role": N_("Role"),
    "gendec": N_("GenDec"),
    "origin": N_("Origin"),
    "destination": N_("Destination"),
    "result": N_("Result"),
    # licence_status
    "licence_number": N_("Licence number"),
    "categories": N_("Categories"),
    "ban_reason": N_("Reason for the ban"),
    "ban_authority": N_("Ban imposed by"),
    "ban_reference": N_("Ban reference"),
    # bank_account
    "iban": N_("IBAN"),
    "bic": N_("BIC"),
    "bank": N_("Bank"),
    "contract_type": N_("Contract type"),
    "holder_role": N_("Holder's capacity"),
    "opened": N_("Opened"),
    "closed": N_("Closed"),
    "requisition": N_("Requisition"),
    "provider_reference": N_("CAP reference"),
    # incident
    "incident_number": N_("Incident number"),
    "incident_type": N_("Incident type"),
    "priority": N_("Priority"),
    "caller_phone": N_("Caller's phone"),
    "dispatched_unit": N_("Dispatched unit"),
    # briefing
    "briefing_number": N_("Briefing number"),
    "briefing_type": N_("Briefing type"),
    "audience": N_("Intended for"),
}


def detail_label(field: str) -> str:
    """A kind-specific field's name in the request's language: `parquet_number` is "Notitienummer parket"."""
    label = DETAIL_LABELS.get(field)
    return gettext(label) if label else field.replace("_", " ")


def language_label(code: str) -> str:
    """A language's name in the request's language (CLDR, through Babel): `fr` is "Frans" in Dutch."""
    name = Locale.parse(current_language()).languages.get(code)
    return name if name else code


def kind_label(kind: str) -> str:
    """A record's or an entity's kind as the request's language calls it: `pv` is "Proces-verbaal"."""
    label = KIND_LABELS.get(kind)
    return gettext(label) if label else kind


def register_label(register: str) -> str:
    return REGISTER_NAMES.get(register, register)


def format_number(number: float) -> str:
    return format_decimal(number, locale=FORMAT_LOCALES[_language.get()])


def format_day(value: str | date) -> str:
    """An ISO day (or a date) as the language writes it in full: 15 maart 2026, 15 mars 2026."""
    day = value if isinstance(value, date) else date.fromisoformat(value[:10])
    return format_date(day, format="long", locale=FORMAT_LOCALES[_language.get()])


def _accepted(header: str) -> list[str]:
    """The primary language tags of an Accept-Language header, best first (q=0 means "not this")."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.partition(";")
        quality = 1.0
        if params:
            match = _QUALITY.match(params)
            quality = float(match.group(1)) if match else 0.0
        primary = tag.strip().split("-")[0].lower()
        if primary and quality > 0:
            ranked.append((-quality, position, primary))
    return [primary for _, _, primary in sorted(ranked)]


def choose_language(cookie: str | None, accept_language: str | None) -> str:
    """The user's choice on the switch; else Dutch or French as the browser prefers; else Dutch.

    English counts only when chosen on the switch: a browser's "en-US" is far more often its factory
    setting than an officer's preference, and the officers read Dutch or French.
    """
    if cookie in LANGUAGES:
        return str(cookie)
    for primary in _accepted(accept_language or ""):
        if primary in CATALOGUED:
            return primary
    return DEFAULT


def local_path(target: str | None, default: str = "/search") -> str:
    """`target` if it is a path on this site, else `default`: the switch never sends anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(char) < 32 or char == "\\" for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


class LanguageMiddleware:
    """Sets the request's language (cookie, then Accept-Language) for everything that serves it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        code = choose_language(connection.cookies.get(COOKIE), connection.headers.get("accept-language"))
        token = _language.set(code)

        async def send_with_language(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"content-language", code.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            _language.reset(token)
