"""/docs in a real headless Chromium (Debian's, driven through its chromedriver by selenium).

The gateway routes foss and licenses, both under gunicorn; the page loads their OpenAPI
documents through it, lists their operations, and "Try it out" creates a foss record.
Screenshots are saved in the test's tmp folder and copied to var/screenshots/: docs.png
shows foss's operations, licenses' operations and the answer to "Try it out", side by side.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from conftest import upstream_of
from helpers import foss_body
from stack import ROOT, GatewayProcess, ServiceProcess

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# No sync, updates, or background fetches: the page must work with the network cut.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
)
WAIT_SECONDS = 30
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
SCREENSHOTS = ROOT / "var" / "screenshots"

pytestmark = pytest.mark.usefixtures("docs_assets_installed")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium with a fresh profile; skipped without it, except on CI."""
    if not all(os.access(path, os.X_OK) for path in (CHROMIUM, CHROMEDRIVER)):
        reason = (
            "chromium and chromedriver are not installed "
            "(apt-get install chromium chromium-driver): the /docs browser test needs them"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("chromium")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={folder / 'profile'}"):
        options.add_argument(flag)
    # The driver path is given, so selenium never looks for (or downloads) one.
    service = Service(executable_path=CHROMEDRIVER, log_output=str(folder / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(WAIT_SECONDS)
    driver.set_script_timeout(WAIT_SECONDS)
    yield driver
    driver.quit()


@pytest.fixture
def docs_gateway(
    make_service: Callable[..., ServiceProcess], make_gateway: Callable[..., GatewayProcess]
) -> GatewayProcess:
    """A gateway routing foss and licenses, as the registry does."""
    licenses = make_service("licenses")
    foss = make_service("foss", FOSS_LICENSES_URL=licenses.url)
    return make_gateway([upstream_of(foss), upstream_of(licenses)])


def wait_for(driver: WebDriver, what: str, condition: Callable[[WebDriver], Any]) -> Any:
    """``condition``'s first truthy value, polled for at most WAIT_SECONDS."""
    waiting = WebDriverWait(
        driver, WAIT_SECONDS, ignored_exceptions=(StaleElementReferenceException,)
    )
    return waiting.until(condition, f"the page never showed {what}")


def document_operations(gateway: GatewayProcess, service: str) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation of ``service``'s document, read through the gateway."""
    response = httpx.get(f"{gateway.url}/{service}/openapi.json", timeout=10)
    assert response.status_code == 200, response.text
    paths: dict[str, dict[str, Any]] = response.json()["paths"]
    return {
        (method.upper(), path)
        for path, item in paths.items()
        for method in item
        if method in HTTP_METHODS
    }


def listed_operations(driver: WebDriver) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation the page shows."""
    return {
        (
            block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
            block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").text.replace("\u200b", ""),
        )
        for block in driver.find_elements(By.CSS_SELECTOR, ".opblock")
    }


def page_errors(driver: WebDriver) -> list[str]:
    """The errors Swagger UI shows about the document (parsing it, resolving references)."""
    panes = driver.find_elements(By.CSS_SELECTOR, ".errors-wrapper:has(.errors__title)")
    return [pane.text for pane in panes]


def show_service(driver: WebDriver, gateway: GatewayProcess, service: str) -> list[str]:
    """Pick ``service`` in the selector; wait until the page lists its operations.

    Returns the errors the page then shows.
    """
    selector = wait_for(driver, "the selector", lambda d: d.find_element(By.ID, "select"))
    Select(selector).select_by_visible_text(service)
    expected = document_operations(gateway, service)
    wait_for(driver, f"{service}'s operations", lambda d: listed_operations(d) == expected)
    return page_errors(driver)


def operation(driver: WebDriver, method: str, path: str) -> WebElement:
    """The block of the operation ``method path``."""
    for block in driver.find_elements(By.CSS_SELECTOR, f".opblock-{method.lower()}"):
        summary = block.find_element(By.CSS_SELECTOR, ".opblock-summary-path")
        if summary.text.replace("\u200b", "") == path:
            return block
    raise AssertionError(f"{method} {path} is not on the page")


def save_screenshot(
    driver: WebDriver, folder: Path, name: str, until: WebElement | None = None
) -> Path:
    """The page from its top (to the bottom of ``until``, else the end), Chromium's own capture.

    Saved in ``folder`` and copied to var/screenshots/.
    """
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    height = size["height"]
    if until is not None:
        bottom = "return arguments[0].getBoundingClientRect().bottom + window.scrollY"
        height = driver.execute_script(bottom, until)
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(height, 8000), "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path = folder / name
    path.write_bytes(base64.b64decode(shot["data"]))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, SCREENSHOTS / name)
    return path


def side_by_side(driver: WebDriver, shots: list[Path], folder: Path) -> Path:
    """One image of ``shots`` in a row, composed by the browser itself from data: URLs."""
    images = "".join(
        f'<img src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}">'
        for path in shots
    )
    driver.get("about:blank")
    page = "document.body.style.cssText = 'margin: 0; display: flex; align-items: flex-start';"
    driver.execute_script(f"{page} document.body.innerHTML = arguments[0];", images)
    loaded = "return [...document.images].every(image => image.complete)"
    wait_for(driver, "the screenshots", lambda d: d.execute_script(loaded))
    return save_screenshot(driver, folder, "docs.png")


def shown_in(block: WebElement, css: str) -> Callable[[WebDriver], WebElement]:
    """A wait condition: the element ``css`` inside ``block``, once the page shows it."""
    return lambda _: block.find_element(By.CSS_SELECTOR, css)


def test_docs_lists_each_service_and_tries_create(
    browser: WebDriver, docs_gateway: GatewayProcess, tmp_path: Path
) -> None:
    browser.get(f"{docs_gateway.url}/docs")
    errors = show_service(browser, docs_gateway, "licenses")
    licenses_shot = save_screenshot(browser, tmp_path, "docs-licenses.png")
    errors += show_service(browser, docs_gateway, "foss")
    foss_shot = save_screenshot(browser, tmp_path, "docs-foss.png")

    create = operation(browser, "POST", "/foss")
    create.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait_for(browser, "Try it out", shown_in(create, ".try-out__btn")).click()
    body = wait_for(browser, "the body editor", shown_in(create, "textarea.body-param__text"))
    body.clear()
    record = foss_body(name="Grace Hopper")
    body.send_keys(json.dumps(record))
    create.find_element(By.CSS_SELECTOR, "button.execute").click()
    live = ".live-responses-table tbody"
    status = wait_for(browser, "the answer", shown_in(create, f"{live} .response-col_status")).text
    answer = create.find_element(By.CSS_SELECTOR, f"{live} .response-col_description").text
    errors += page_errors(browser)  # references are resolved as an operation is opened
    # Everything the page loaded came from the gateway: nothing from a CDN or elsewhere.
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name)"
    )
    until = create.find_element(By.CSS_SELECTOR, live)
    created_shot = save_screenshot(browser, tmp_path, "docs-foss-created.png", until)
    side_by_side(browser, [foss_shot, licenses_shot, created_shot], tmp_path)

    assert errors == []
    assert status == "201"
    assert record["email"] in answer
    assert loaded
    assert [url for url in loaded if not url.startswith(f"{docs_gateway.url}/")] == []
    created = httpx.get(f"{docs_gateway.url}/foss", params={"limit": 100}, timeout=10).json()
    assert record["email"] in [item["email"] for item in created["items"]]
