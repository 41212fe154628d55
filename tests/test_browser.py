"""What only a browser shows: htmx under our CSP, the CSRF header it sends, highlights as rendered.

Debian's Chromium, driven by Playwright; the web app served by uvicorn on a loopback port.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from opensearchpy import OpenSearch
from playwright.sync_api import Browser, Page, Route, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from ingest.index.bulk import write_records
from ingest.records import Record
from ingest.settings import Settings
from search_api.app import create_app
from tests.conftest import PASSWORD, ROOT

ARTEFACTS = ROOT / "var" / "test-artifacts"  # screenshots, kept after the run

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def base_url(app_client: TestClient, profile: Settings) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(profile), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.started, "the web app did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: apt-get install chromium"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS, headless=True)
        yield launched
        launched.close()


def _wait_until(page: Page, expression: str, seconds: float = 30) -> None:
    """Poll a JavaScript expression from here until it is true. Playwright's own `wait_for_function` polls
    through eval inside the page, which the CSP (rightly) refuses whenever the first check is not yet true."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if page.evaluate(expression):
                return
        except PlaywrightError:  # the page is being replaced (a navigation): ask the next one
            pass
        assert time.monotonic() < deadline, f"still false after {seconds} s: {expression}"
        time.sleep(0.1)


def _signed_in(browser: Browser, base_url: str, **options: Any) -> Page:
    """A page signed in as the investigator, on the search page."""
    page = browser.new_page(**options)
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", "rechercheur")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/search")
    return page


def test_sign_in_and_search_with_htmx_under_the_csp(
    base_url: str, browser: Browser, indexed_samples: dict[str, object]
) -> None:
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", "rechercheur")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/search")

    page.fill("input[name=q]", "Vandenbossche")
    with page.expect_response(lambda response: "/search?" in response.url) as answer:
        page.click("form.search button[type=submit]")
    assert answer.value.request.headers.get("hx-request") == "true"  # swapped in by htmx, not a reload
    mark = page.locator("#results .fragment mark").first
    mark.wait_for()
    assert mark.inner_text() == "Vandenbossche"
    assert "q=Vandenbossche" in page.url  # hx-push-url keeps the address shareable
    # No inline script or style was needed: the CSP refused nothing.
    assert not [text for text in problems if "Content Security Policy" in text], problems
    page.close()


def test_logout_posts_the_csrf_token(base_url: str, browser: Browser) -> None:
    page = _signed_in(browser, base_url)
    page.click("form.who button[type=submit]")
    page.wait_for_url(f"{base_url}/login")
    page.goto(f"{base_url}/search")
    assert page.url == f"{base_url}/login"
    page.close()


def test_quick_check_fits_a_phone_screen(
    base_url: str, browser: Browser, indexed_samples: dict[str, object]
) -> None:
    """A field officer's phone: 390 pixels wide, no sideways scrolling, the card swapped in by htmx."""
    page = _signed_in(
        browser, base_url, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    page.goto(f"{base_url}/check")
    page.fill("#check-q", "1-abc-123")
    page.fill("input[name=reason]", "controle")
    with page.expect_response(lambda response: "/check?" in response.url) as answer:
        page.click("form.check button[type=submit]")
    assert answer.value.request.headers.get("hx-request") == "true"
    page.locator(".check-card h2").wait_for()
    assert "1ABC123" in page.locator(".check-card h2").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for selector in ("#check-q", "form.check button[type=submit]"):
        box = page.locator(selector).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["height"] >= 40  # a target a thumb can hit
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "quick-check-390.png"), full_page=True)
    page.close()


def test_facet_click_and_paging_swap_results_and_keep_the_address(
    base_url: str, browser: Browser, profile: Settings, search: OpenSearch
) -> None:
    mark = f"bladertoets{uuid.uuid4().hex[:6]}"
    units = ["PZ Gent/Recherche", "FGP Brussel"]
    records = [
        Record(
            id=f"{mark}-{n}",
            kind="pv",
            source="islp",
            register="islp",
            title=f"Vaststelling {n}",
            text=f"{mark} vaststelling {n}",
            unit=units[n % 2],
            recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for n in range(50)
    ]
    assert not write_records(search, profile.index_prefix, records, refresh="wait_for").errors
    page = _signed_in(browser, base_url)
    page.fill("input[name=q]", mark)
    page.click("form.search button[type=submit]")
    page.locator("#results .total").wait_for()
    assert page.locator("#results .total").inner_text().startswith("50 resultaten")

    with page.expect_response(lambda response: "eenheid" in response.url) as answer:
        page.get_by_role("link", name="FGP Brussel").click()
    assert answer.value.request.headers.get("hx-request") == "true"
    _wait_until(page, "document.querySelector('#results .total').innerText.startsWith('25 ')")
    assert "eenheid%3A%22FGP+Brussel%22" in page.url or "eenheid%3A%22FGP%20Brussel%22" in page.url

    with page.expect_response(lambda response: "page=2" in response.url):
        page.get_by_role("link", name="Volgende").click()
    _wait_until(page, "document.querySelector('#results .pages span').innerText.includes('2 / 2')")
    assert page.locator("#results .hit").count() == 5
    assert "page=2" in page.url
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "search-facet-page-2.png"), full_page=True)
    page.go_back()  # the address history is real: back is page 1 of the narrowed list
    _wait_until(page, "document.querySelector('#results .pages span').innerText.includes('1 / 2')")
    page.close()


def test_switch_the_language_with_the_keyboard(
    base_url: str, browser: Browser, profile: Settings, search: OpenSearch
) -> None:
    """An officer reaches the language switch with Tab, chooses French with Enter, and reads French;
    after an htmx search the switch still returns to that search, now in English."""
    mark = f"taaltoets{uuid.uuid4().hex[:6]}"
    records = [
        Record(
            id=f"{mark}-{n}",
            kind="pv",
            source="islp",
            register="islp",
            title=f"PV {n}",
            text=f"{mark} procès-verbal {n}",
            unit="PZ Gent/Recherche",
            recorded_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for n in range(3)
    ]
    assert not write_records(search, profile.index_prefix, records, refresh="wait_for").errors
    page = _signed_in(browser, base_url)
    assert page.locator("html").get_attribute("lang") == "nl"
    page.locator("input[name=q]").focus()
    for _ in range(20):  # backwards from the search box into the header, as a keyboard user would
        page.keyboard.press("Shift+Tab")
        if page.evaluate("document.activeElement.textContent") == "Français":
            break
    assert page.evaluate("document.activeElement.getAttribute('lang')") == "fr"
    page.keyboard.press("Enter")
    _wait_until(page, "document.documentElement.lang === 'fr'")
    assert page.url == f"{base_url}/search"
    assert page.get_by_role("button", name="Rechercher").is_visible()
    assert (
        page.get_by_role("navigation", name="Langue")
        .get_by_role("link", name="Français")
        .get_attribute("aria-current")
        == "true"
    )

    page.fill("input[name=q]", mark)
    with page.expect_response(lambda response: "/search?" in response.url) as answer:
        page.keyboard.press("Enter")
    assert answer.value.request.headers.get("hx-request") == "true"
    page.locator("#results .total").wait_for()
    assert page.locator("#results .total").inner_text().startswith("3 résultats")
    assert "triés par pertinence" in page.locator("#results .total").inner_text()
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "search-in-french.png"), full_page=True)

    page.get_by_role("link", name="English").click()  # the switch was refreshed with the search's address
    _wait_until(page, "document.documentElement.lang === 'en'")
    assert f"q={mark}" in page.url
    assert page.locator("#results .total").inner_text().startswith("3 results")
    page.close()


def test_graph_view_expands_a_node_on_click(
    base_url: str, browser: Browser, profile: Settings, search: OpenSearch
) -> None:
    """The graph view draws an entity's neighbours under the CSP, a click on a node adds its own, the links
    to a second entity are marked, and the drawing saved into a case opens again from its link."""
    mark = uuid.uuid4().hex[:6].upper()
    car, driver = f"vehicle:BE:9GR{mark}", f"phone:+3249{int(mark, 16) % 10_000_000:07d}"
    others = [f"account:BE00{mark}{n:04d}" for n in range(3)]
    links = [[car, driver], *([driver, other] for other in others)]
    records = [
        Record(
            id=f"graph-{mark}-{n}",
            kind="pv",
            source="islp",
            register="islp",
            title=f"pv graaf {mark} {n}",
            recorded_at=datetime.now(UTC),
            entity_ids=pair,
        )
        for n, pair in enumerate(links)
    ]
    assert not write_records(search, profile.index_prefix, records, refresh="wait_for").errors
    page = _signed_in(browser, base_url)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1280, "height": 1600})  # the whole drawing on screen, to click in
    page.goto(f"{base_url}/graph?entity={car}")
    page.wait_for_selector("#graph[data-ready=true]")
    page.locator("#graph").scroll_into_view_if_needed()
    assert page.get_attribute("#graph", "data-nodes") == "2"  # the car and its driver's phone
    position = page.evaluate(
        f"document.getElementById('graph').cy.getElementById('{driver}').renderedPosition()"
    )
    drawing = page.locator("#graph canvas").last.bounding_box()
    assert drawing is not None
    with page.expect_response(lambda response: "/api/graph/neighbours" in response.url) as answer:
        page.mouse.click(drawing["x"] + position["x"], drawing["y"] + position["y"])
    assert answer.value.status == 200
    _wait_until(page, "document.getElementById('graph').dataset.nodes === '5'")
    assert "/entities/" in page.locator("#graph-records a").first.get_attribute("href")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "graph-expanded.png"), full_page=True)

    # The links to a second entity, marked in the drawing.
    page.fill("#graph-path input[name=to]", others[0])
    with page.expect_response(lambda response: "/api/graph/paths" in response.url) as answer:
        page.click("#graph-path button")
    assert answer.value.status == 200
    _wait_until(page, "document.getElementById('graph').dataset.paths === '1'")
    marked = page.evaluate("document.getElementById('graph').cy.elements('.path').map((e) => e.id())")
    assert set(marked) >= {car, driver, others[0], "|".join(sorted([car, driver]))}

    # Saved into the investigator's case, and opened again from the link the page gives.
    page.select_option("#graph-save select[name=case]", "CASE-2026-001")
    page.fill("#graph-save input[name=title]", f"Wagen {mark}")
    with page.expect_response(lambda response: response.url.endswith("/api/graphs")) as answer:
        page.click("#graph-save button")
    assert answer.value.status == 201
    page.click("#graph-status a")
    page.wait_for_selector("#graph[data-ready=true]")
    assert page.get_attribute("#graph", "data-nodes") == "5"
    assert page.evaluate(f"document.getElementById('graph').cy.getElementById('{driver}').data('expanded')")
    assert errors == []
    page.screenshot(path=str(ARTEFACTS / "graph-saved-reopened.png"), full_page=True)
    page.close()


def test_upload_page_sends_a_folder_and_a_dropped_file_in_checked_chunks(
    base_url: str, browser: Browser, tmp_path: Path
) -> None:
    """A folder with a subfolder, picked, and a file larger than a chunk, dropped on the zone, go up in
    64 KiB chunks through the resumable API, in one batch, each under its path in the folder; a chunk
    lost on the way is sent again and the upload still completes."""
    mark = uuid.uuid4().hex[:8]
    folder = tmp_path / f"beslag-{mark}"
    (folder / "verhoren").mkdir(parents=True)
    nested = f"Proces-verbaal van verhoor {mark}.\n".encode()
    listing = f"Lijst van inbeslagnames {mark}.\n".encode()
    (folder / "verhoren" / "verhoor-1.txt").write_bytes(nested)
    (folder / "lijst.txt").write_bytes(listing)
    large = "".join(f"regel {n:06d} camerabeelden {mark}\n" for n in range(9000))  # about 330 kB: 6 chunks
    expected = {
        f"{folder.name}/verhoren/verhoor-1.txt": hashlib.sha256(nested).hexdigest(),
        f"{folder.name}/lijst.txt": hashlib.sha256(listing).hexdigest(),
        "camerabeelden.txt": hashlib.sha256(large.encode()).hexdigest(),
    }
    page = _signed_in(browser, base_url)
    errors: list[str] = []
    console: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    lost: list[str] = []

    def lose_once(route: Route) -> None:
        # The line drops during the first try of chunk 2 (only the large file has one).
        if not lost and route.request.method == "PUT":
            lost.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/uploads/*/chunks/2", lose_once)
    page.goto(f"{base_url}/upload")
    page.locator("#upload-form").evaluate("(form) => { form.dataset.chunkSize = String(64 * 1024); }")
    # Playwright cannot drag a real folder: the folder picker gets one (with each file's relative path),
    # and a file is dropped with a DataTransfer built in the page.
    page.set_input_files("#upload-folder", str(folder))
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.items.add(new File([text], "camerabeelden.txt", { type: "text/plain" }));
            const zone = document.getElementById("upload-drop");
            for (const type of ["dragenter", "dragover", "drop"]) {
                const options = { dataTransfer: data, bubbles: true, cancelable: true };
                zone.dispatchEvent(new DragEvent(type, options));
            }
        }""",
        large,
    )
    _wait_until(page, "document.querySelectorAll('#upload-list li').length === 3")
    page.fill("input[name=evidence]", f"PACOS-{mark}")
    page.click("#upload-form button[type=submit]")
    # Polled from here: Playwright runs a predicate with an arrow function through eval, which the CSP
    # (rightly) refuses.
    deadline = time.monotonic() + 90
    while not page.evaluate(
        "[...document.querySelectorAll('#upload-list li')]"
        ".every((li) => ['done', 'failed'].includes(li.dataset.state))"
        " && !document.querySelector('#upload-form button[type=submit]').disabled"
    ):
        assert time.monotonic() < deadline, "the uploads did not end"
        time.sleep(0.2)
    rows = page.eval_on_selector_all(
        "#upload-list li",
        "(rows) => rows.map((li) => ({ path: li.querySelector('.upload-name').textContent,"
        " state: li.dataset.state, says: li.querySelector('.upload-state').textContent,"
        " retries: Number(li.dataset.retries) }))",
    )
    assert {row["path"]: row["state"] for row in rows} == dict.fromkeys(expected, "done"), rows
    assert len(lost) == 1
    assert [row["retries"] >= 1 for row in rows if row["path"] == "camerabeelden.txt"] == [True], rows
    assert page.evaluate("(bar => bar.value === bar.max)(document.getElementById('upload-overall-bar'))")

    # Every file arrived, whole (its SHA-256 as the page computed it), under its path, in one batch.
    link = page.locator("#upload-after a")
    assert link.count() == 1
    batch = (link.get_attribute("href") or "").rsplit("/", 1)[-1]
    answer = page.evaluate("async (url) => (await fetch(url)).json()", f"/api/batches/{batch}")
    assert {item["file"]: item["sha256"] for item in answer["items"]} == expected, answer
    assert {item["evidence_number"] for item in answer["items"]} == {f"PACOS-{mark}"}
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / "upload-folder-and-chunks.png"), full_page=True)

    link.click()  # the processing continues on the batch page
    page.wait_for_url(f"{base_url}/batches/{batch}")
    assert page.locator("#batch .ledger tbody tr").count() == 3
    assert errors == []
    assert not [text for text in console if "Content Security Policy" in text], console
    page.close()
