"""The interface in Dutch, French and English: complete catalogues, the choice per user, safe switching."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import get_args

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch

from enrichers.identifiers import IDENTIFIER_TYPES
from ingest.index.bulk import write_records
from ingest.records import KINDS, Details, Record
from ingest.settings import Settings
from search_api.entities import ENTITY_KINDS
from tests.conftest import ROOT, login
from ui import TEMPLATES_DIR
from ui.i18n import (
    CATALOGUED,
    COOKIE,
    DETAIL_LABELS,
    IDENTIFIER_LABELS,
    KIND_LABELS,
    LOCALES_DIR,
    choose_language,
    detail_label,
    identifier_label,
    kind_label,
    language_label,
    local_path,
)

WORDS = {"nl": "Zoeken", "fr": "Rechercher", "en": "Search"}
NOTHING = {
    "nl": "Niets gevonden dat u mag zien.",
    "fr": "Rien trouvé que vous pouvez consulter.",
    "en": "Nothing found that you may see.",
}


def _used_messages() -> dict[str | tuple[str, ...], list[str]]:
    """Every message id the templates and routers use, with where, as `pybabel extract` finds them."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    used: dict[str | tuple[str, ...], list[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map):
        used.setdefault(message, []).append(filename)
    return used


def _catalogue(code: str) -> object:
    with (LOCALES_DIR / code / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=code)


def test_the_extraction_sees_templates_and_routers() -> None:
    places = {place for where in _used_messages().values() for place in where}
    assert any(place.startswith("ui/templates/") for place in places)
    assert any(place.startswith("search_api/routers/") for place in places)
    # Query errors are raised outside the routers, their messages marked with N_.
    assert {"search_api/queries.py", "search_api/check.py", "search_api/search.py"} <= places


def test_every_kind_has_a_label() -> None:
    assert set(KINDS) | set(ENTITY_KINDS) <= set(KIND_LABELS)
    assert kind_label("something_new") == "something_new"  # a kind without a label shows its code


def test_identifiers_and_languages_are_named_in_the_readers_language() -> None:
    assert set(IDENTIFIER_LABELS) >= IDENTIFIER_TYPES
    from ui import i18n

    names = (("nl", "Rijksregisternummer", "Frans"), ("fr", "Numéro de registre national", "français"))
    for language, nrn, french in names:
        token = i18n._language.set(language)
        try:
            assert identifier_label("nrn") == nrn
            assert language_label("fr") == french  # CLDR's name, through Babel
            assert language_label("xx") == "xx"
        finally:
            i18n._language.reset(token)


def test_every_detail_field_has_a_label() -> None:
    """Each field of each kind's Details sub-model is named on cards and record pages, in every language."""
    submodels = [model for field in Details.model_fields.values() for model in get_args(field.annotation)]
    fields = {name for model in submodels if model is not type(None) for name in model.model_fields}
    assert fields <= set(DETAIL_LABELS), sorted(fields - set(DETAIL_LABELS))
    assert detail_label("some_new_field") == "some new field"  # a field without a label shows its name
    from ui import i18n

    names = (
        ("nl", "Notitienummer parket", "Salduz-categorie"),
        ("fr", "Numéro de notice du parquet", "Catégorie Salduz"),
        ("en", "Prosecutor's notice number", "Salduz category"),
    )
    for language, parquet, salduz in names:
        token = i18n._language.set(language)
        try:
            assert detail_label("parquet_number") == parquet
            assert detail_label("salduz_category") == salduz
        finally:
            i18n._language.reset(token)


@pytest.mark.parametrize("code", CATALOGUED)
def test_every_message_is_translated(code: str) -> None:
    """Each id the interface uses has a translation, not fuzzy, with the same placeholders; none is stale."""
    catalog = _catalogue(code)
    used = _used_messages()
    problems = []
    for message, where in used.items():
        key = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(key)  # type: ignore[attr-defined]
        strings = entry.string if entry else None
        translated = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not all(translated):
            problems.append(f"{key!r} ({', '.join(sorted(set(where)))})")
    assert not problems, f"untranslated in {code}: " + "; ".join(problems)
    keys = {m[0] if isinstance(m, tuple) else m for m in used}
    ids = [entry.id[0] if isinstance(entry.id, tuple) else entry.id for entry in catalog]  # type: ignore[attr-defined]
    stale = [key for key in ids if key and key not in keys]
    assert not stale, f"no longer used, remove from {code}: {stale}"
    errors = [(entry.id, [str(e) for e in found]) for entry, found in catalog.check()]  # type: ignore[attr-defined]
    assert not errors, errors  # e.g. a %(placeholder)s missing or misspelt in the translation


def test_the_language_is_the_users_choice_then_the_browsers_then_dutch() -> None:
    assert choose_language("fr", "nl-BE") == "fr"
    assert choose_language("en", "nl-BE,nl;q=0.9") == "en"
    assert choose_language(None, "fr-BE,fr;q=0.9,nl;q=0.8") == "fr"
    assert choose_language(None, "de-DE, nl;q=0.5, fr;q=0.7") == "fr"  # by quality, not by position
    assert choose_language(None, "fr;q=0, nl-BE") == "nl"  # q=0 means "not this one"
    # English only when chosen on the switch: "en-US" is usually a browser's factory setting.
    assert choose_language(None, "en-US,en;q=0.9") == "nl"
    assert choose_language("xx", None) == "nl"
    assert choose_language(None, "garbage;;;,=") == "nl"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/search",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/search\r\nSet-Cookie: x=y",
        "",
    ],
)
def test_only_local_paths_are_followed(target: str) -> None:
    assert local_path(target) == "/search"


def test_local_paths_are_kept() -> None:
    assert local_path("/search?q=1-ABC-123&sort=date") == "/search?q=1-ABC-123&sort=date"
    assert local_path("/cases/CASE-2026-001") == "/cases/CASE-2026-001"


@pytest.fixture
def switch(app_client: TestClient) -> Iterator[TestClient]:
    """The signed-in client; the language cookie it picks up is dropped afterwards (the client is shared)."""
    login(app_client)
    yield app_client
    app_client.cookies.delete(COOKIE)


def _choose(client: TestClient, code: str, next_path: str = "/search") -> None:
    answer = client.get(f"/language/{code}", params={"next": next_path}, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == next_path
    assert f"{COOKIE}={code}" in answer.headers["set-cookie"]
    assert "httponly" in answer.headers["set-cookie"].lower()


@pytest.mark.parametrize("code", ["nl", "fr", "en"])
def test_the_switch_sets_the_language_of_every_page(switch: TestClient, code: str) -> None:
    _choose(switch, code)
    page = switch.get("/search")
    assert page.status_code == 200
    assert f'<html lang="{code}">' in page.text
    assert page.headers["content-language"] == code
    assert f'<button type="submit">{WORDS[code]}</button>' in page.text
    assert page.context["csrf_token"]  # type: ignore[attr-defined]
    # The switch itself: one link per language, the current one marked, each in its own language.
    current = rf'<a href="/language/{code}\?next=/search" lang="{code}" [^>]*aria-current="true"'
    assert re.search(current, page.text)
    assert page.text.count("aria-current") == 1
    cases = switch.get("/cases")
    assert f'<html lang="{code}">' in cases.text
    assert {"nl": "Mijn dossiers", "fr": "Mes dossiers", "en": "My cases"}[code] in cases.text


@pytest.mark.parametrize(
    ("header", "code"),
    [("fr-BE,fr;q=0.9,en;q=0.8", "fr"), ("nl-BE,nl;q=0.9", "nl"), ("en-GB,en;q=0.9", "nl"), (None, "nl")],
)
def test_without_a_choice_the_browser_decides(switch: TestClient, header: str | None, code: str) -> None:
    headers = {"Accept-Language": header} if header else {}
    page = switch.get("/check", headers=headers)
    assert f'<html lang="{code}">' in page.text
    assert {"nl": "Snelle controle", "fr": "Contrôle rapide"}[code] in page.text


def test_the_choice_beats_the_browser(switch: TestClient) -> None:
    _choose(switch, "en")
    page = switch.get("/search", headers={"Accept-Language": "fr-BE"})
    assert '<html lang="en">' in page.text


@pytest.mark.parametrize("code", ["nl", "fr", "en"])
def test_an_htmx_fragment_comes_back_in_the_chosen_language(switch: TestClient, code: str) -> None:
    _choose(switch, code)
    query = f"onvindbaar{uuid.uuid4().hex[:8]}"
    fragment = switch.get("/search", params={"q": query}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert fragment.template.name == "_results.html"  # type: ignore[attr-defined]
    assert "<html" not in fragment.text
    assert NOTHING[code] in fragment.text
    assert {"nl": "0 resultaten", "fr": "0 résultat ", "en": "0 results"}[code] in fragment.text
    # The switch is refreshed out of band, so a language chosen after this search returns to it.
    assert 'id="languages" class="languages"' in fragment.text and 'hx-swap-oob="true"' in fragment.text
    assert f"next=/search%3Fq%3D{query}" in fragment.text


def test_numbers_are_written_the_languages_way(switch: TestClient) -> None:
    from ui import i18n

    token = i18n._language.set("fr")
    try:
        assert i18n.ngettext("%(num)s result", "%(num)s results", 12345) == "12\u202f345 résultats"
    finally:
        i18n._language.reset(token)
    token = i18n._language.set("nl")
    try:
        assert i18n.ngettext("%(num)s result", "%(num)s results", 12345) == "12.345 resultaten"
        assert i18n.format_day("2026-03-15") == "15 maart 2026"
    finally:
        i18n._language.reset(token)


def test_a_router_message_is_translated(app_client: TestClient) -> None:
    app_client.cookies.clear()
    token = app_client.get("/login").context["csrf_token"]  # type: ignore[attr-defined]
    try:
        _choose(app_client, "fr", "/login")
        refused = app_client.post(
            "/login",
            data={"username": f"nobody-{uuid.uuid4().hex[:6]}", "password": "wrong", "csrf_token": token},
        )
        assert refused.status_code == 401
        assert "Nom d&#39;utilisateur ou mot de passe incorrect" in refused.text
        assert '<html lang="fr">' in refused.text
    finally:
        app_client.cookies.clear()


QUERY_ERRORS = {
    "nl": (
        'een aanhalingsteken is niet gesloten: zet "exacte woorden" tussen twee aanhalingstekens',
        "nrn:85.07.30-033.29 is niet geldig als rijksregisternummer",
        "een snelle controle vraagt een nummerplaat (1-ABC-123), een rijksregisternummer",
    ),
    "fr": (
        'un guillemet n\'est pas fermé : écrivez "mots exacts" entre deux guillemets',
        "nrn:85.07.30-033.29 : numéro de registre national non valide",
        "un contrôle rapide demande une plaque (1-ABC-123), un numéro de registre national",
    ),
    "en": (
        'a quotation mark is not closed: write "exact words" between two of them',
        "nrn:85.07.30-033.29 is not a valid national number",
        "a quick check needs a plate (1-ABC-123), a national register number",
    ),
}


@pytest.mark.parametrize("code", ["nl", "fr", "en"])
def test_a_query_error_is_shown_in_the_chosen_language(switch: TestClient, code: str) -> None:
    _choose(switch, code)
    quote, label, check = QUERY_ERRORS[code]
    page = switch.get("/search", params={"q": 'diefstal "fiets'})
    assert page.status_code == 400
    assert page.context["error"] == quote  # type: ignore[attr-defined]
    assert quote in html.unescape(page.text)
    # The name of what was expected is translated too; what the user typed is not.
    fragment = switch.get("/search", params={"q": "nrn:85.07.30-033.29"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 400
    assert f'<p class="error" role="alert">{html.escape(label)}</p>' in fragment.text
    card = switch.get("/check", params={"q": "???"})
    assert card.status_code == 400
    assert check in html.unescape(card.text)


def test_the_api_keeps_its_english_messages(switch: TestClient) -> None:
    _choose(switch, "fr")
    answer = switch.get("/api/search", params={"q": 'diefstal "fiets'})
    assert answer.status_code == 400
    assert answer.json() == {"detail": QUERY_ERRORS["en"][0]}
    answer = switch.get("/api/check", params={"q": "???"})
    assert answer.status_code == 400
    assert answer.json()["detail"].startswith(QUERY_ERRORS["en"][2])


MARK = f"taaltoets{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def a_pv(profile: Settings, search: OpenSearch) -> str:
    """One proces-verbaal in ISLP, a register the signed-in investigator may see."""
    moment = datetime(2026, 3, 15, 9, 0, tzinfo=UTC)
    record = Record(
        id=f"{MARK}-pv",
        kind="pv",
        source="islp",
        register="islp",
        title=f"Vaststelling {MARK}",
        text=f"{MARK} vaststelling op de openbare weg",
        occurred_at=moment,
        recorded_at=moment,
        unit="PZ Gent/Recherche",
    )
    assert not write_records(search, profile.index_prefix, [record], refresh="wait_for").errors
    return MARK


@pytest.mark.parametrize(
    ("code", "label"), [("nl", "Proces-verbaal"), ("fr", "Procès-verbal"), ("en", "Police report")]
)
def test_kinds_are_shown_by_name_in_the_chosen_language(
    switch: TestClient, a_pv: str, code: str, label: str
) -> None:
    _choose(switch, code)
    fragment = switch.get("/search", params={"q": a_pv}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert '<li class="hit kind-pv">' in fragment.text  # the code stays for styles and tests
    assert f'<span class="badge" data-kind="pv">{html.escape(label)}</span>' in fragment.text
    assert '<span class="badge" data-register="islp">ISLP</span>' in fragment.text
    # The kind facet shows the name and still narrows by the code.
    facet = re.search(
        r'<a class="facet-value" href="([^"]*)"[^>]* data-value="pv">([^<]*)</a>', fragment.text
    )
    assert facet and facet.group(2) == html.escape(label)
    assert "type%3Apv" in facet.group(1)
    record = switch.get(f"/records/{a_pv}-pv")
    assert f'<span class="badge" data-kind="pv">{html.escape(label)}</span>' in record.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/phish", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_the_switch_refuses_an_outside_address(app_client: TestClient, target: str) -> None:
    answer = app_client.get("/language/fr", params={"next": target}, follow_redirects=False)
    app_client.cookies.delete(COOKIE)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/search"


def test_an_unknown_language_is_not_found(app_client: TestClient) -> None:
    answer = app_client.get("/language/de", params={"next": "/search"}, follow_redirects=False)
    assert answer.status_code == 404
    assert "set-cookie" not in answer.headers


class _Controls(HTMLParser):
    """Form controls without a label, and inline script or style, in a rendered page."""

    def __init__(self) -> None:
        super().__init__()
        self.labelled_ids: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.inline: list[str] = []
        self._in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "label":
            self._in_label += 1
            if named.get("for"):
                self.labelled_ids.add(str(named["for"]))
        if tag in {"input", "select", "textarea"} and named.get("type") != "hidden":
            self.controls.append({**named, "_in_label": "yes" if self._in_label else None})
        if tag == "script" and not named.get("src"):
            self.inline.append("<script> without src")
        self.inline += [f"{tag} {name}=" for name in named if name == "style" or name.startswith("on")]

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1

    def unlabelled(self) -> list[dict[str, str | None]]:
        return [
            c
            for c in self.controls
            if not (c.get("aria-label") or c["_in_label"] or c.get("id") in self.labelled_ids)
        ]


@pytest.mark.parametrize("code", ["nl", "fr", "en"])
@pytest.mark.parametrize("path", ["/search?q=x", "/check", "/cases", "/cases/CASE-2026-001"])
def test_every_control_has_a_label_and_nothing_runs_inline(switch: TestClient, code: str, path: str) -> None:
    _choose(switch, code)
    page = switch.get(path)
    assert page.status_code == 200, page.text
    parsed = _Controls()
    parsed.feed(page.text)
    assert parsed.controls
    assert not parsed.unlabelled(), parsed.unlabelled()
    assert not parsed.inline, parsed.inline


def test_no_template_carries_inline_script_or_style() -> None:
    for template in Path(TEMPLATES_DIR).glob("*.html"):
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert not re.search(r"\sstyle\s*=", text), template.name
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert "<style" not in text, template.name
