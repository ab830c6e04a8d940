"""The HTML report in a real browser: Playwright drives the system Chromium (Debian's `chromium`, which
`make test` installs when missing; no browser build is ever downloaded). The page must load with no
request but its own file, show the summary numbers of the JSON result, filter findings without a
server, open a finding, and fit a laptop screen. A screenshot of the summary and the diagram is
saved under reports/screenshots/ (gitignored)."""
from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.policies.report.conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LAPTOP = {"width": 1366, "height": 768}
SCREENSHOTS = Path(os.environ.get("AEGIS_SCREENSHOTS", ROOT / "reports" / "screenshots"))


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    message = (f"{CHROMIUM} is missing: `make test` installs Debian's chromium when run as root "
               "(apt-get install chromium)")
    if os.geteuid() == 0 or os.environ.get("CI"):
        pytest.fail(message)  # setup could have installed it: a missing browser is a broken setup
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser_page(report_file, tmp_path_factory):
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh user-data-dir
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=ARGS, viewport=LAPTOP)
        try:
            page = context.new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(report_file.as_uri())
            page.wait_for_load_state("load")
            yield page, requests
        finally:
            context.close()


def test_the_page_loads_nothing_but_itself(browser_page, report_file):
    page, requests = browser_page
    assert requests == [report_file.as_uri()]
    assert page.title().startswith("Aegis gate:")


def test_summary_numbers_match_the_json_result(browser_page, gate_doc):
    page, _ = browser_page
    shown = page.evaluate("""() => {
        const out = {};
        document.querySelectorAll("table.summary tr[data-pillar]").forEach(tr => {
            const cells = {};
            tr.querySelectorAll("td[data-key]").forEach(td => { cells[td.dataset.key] = Number(td.innerText); });
            out[tr.dataset.env + "/" + tr.dataset.pillar] = cells;
        });
        return out;
    }""")
    expected: dict[str, Counter] = {}
    for f in gate_doc["findings"]:
        for pillar in (f["pillar"], "all"):
            cell = expected.setdefault(f"{f['env']}/{pillar}", Counter())
            cell["checks"] += 1
            cell[f["status"]] += 1
            if f["status"] == "failed":
                cell[f"failed-{f['severity']}"] += 1
    assert set(shown) == set(expected)
    for key, cell in expected.items():
        for column, value in shown[key].items():
            assert value == cell[column], (key, column)
    verdict = page.locator("#verdict").inner_text().strip().lower()
    assert verdict == gate_doc["verdict"]


def test_filters_work_without_a_server(browser_page, gate_doc):
    page, _ = browser_page
    shown = [f for f in gate_doc["findings"] if f["status"] != "passed"]
    env, severity = Counter((f["env"], f["severity"]) for f in shown).most_common(1)[0][0]
    page.select_option("#f-env", env)
    page.select_option("#f-severity", severity)
    expected = sum(1 for f in shown if f["env"] == env and f["severity"] == severity)
    assert page.locator("details.finding:visible").count() == expected
    assert page.locator("#shown-count").inner_text() == str(expected)
    # the environment filter also hides the other environments' sections
    for other in gate_doc["thresholds"]:
        visible = page.locator(f'#diagram-{other}').is_visible()
        assert visible == (other == env), other
    pillar = next(f["pillar"] for f in shown if f["env"] == env and f["severity"] == severity)
    page.select_option("#f-pillar", pillar)
    expected = sum(1 for f in shown if (f["env"], f["severity"], f["pillar"]) == (env, severity, pillar))
    assert page.locator("details.finding:visible").count() == expected
    for selector in ("#f-env", "#f-severity", "#f-pillar"):
        page.select_option(selector, "")
    assert page.locator("details.finding:visible").count() == len(shown)


def test_opening_a_finding_shows_its_remediation(browser_page, gate_doc):
    page, _ = browser_page
    first = page.locator("details.finding").first
    check = first.get_attribute("data-check")
    finding = next(f for f in gate_doc["findings"] if f["status"] != "passed" and f["check_id"] == check)
    remediation = first.locator(".remediation")
    assert not remediation.is_visible()
    first.locator("summary").click()
    assert first.evaluate("el => el.open")
    assert remediation.is_visible()
    assert remediation.inner_text().strip() == finding["remediation"]
    first.locator("summary").click()


def test_fits_a_laptop_screen_and_saves_a_screenshot(browser_page, gate_doc):
    page, _ = browser_page
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= LAPTOP["width"], "the report scrolls sideways on a 1366 px screen"
    env = "prod" if "prod" in gate_doc["thresholds"] else sorted(gate_doc["thresholds"])[0]
    page.select_option("#f-env", env)
    page.evaluate("() => document.querySelectorAll('details[open]').forEach(d => d.open = false)")
    page.evaluate("() => window.scrollTo(0, 0)")
    summary = page.locator(f"#env-{env}").bounding_box()
    diagram = page.locator(f"#diagram-{env} svg").bounding_box()
    assert summary and diagram and diagram["width"] > 1000
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"report-{env}.png"
    page.screenshot(path=str(shot), full_page=True,
                    clip={"x": 0, "y": 0, "width": LAPTOP["width"], "height": diagram["y"] + diagram["height"] + 40})
    assert shot.stat().st_size > 20_000
    page.select_option("#f-env", "")
    if shutil.which("file"):
        assert b"PNG" in shot.read_bytes()[:8]
