"""/docs: the gateway serves Swagger UI's files from gateway/docs, and nothing else there.

The page itself, in a browser, is test_docs_browser.py.
"""

from __future__ import annotations

import httpx
import pytest

from flusk_tools.gateway import DOCS_ASSETS
from helpers import assert_problem, assert_security_headers
from stack import ROOT

ASSETS = {
    "/docs/swagger-ui.css": "text/css",
    "/docs/index.css": "text/css",
    "/docs/swagger-ui-bundle.js": "text/javascript",
    "/docs/swagger-ui-standalone-preset.js": "text/javascript",
    "/docs/favicon-16x16.png": "image/png",
    "/docs/favicon-32x32.png": "image/png",
}

pytestmark = pytest.mark.usefixtures("docs_assets_installed")


def test_serve_docs_page(client: httpx.Client) -> None:
    response = client.get("/docs")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<div id="swagger-ui">' in response.text
    assert_security_headers(response)


def test_answer_head_on_docs_page(client: httpx.Client) -> None:
    response = client.head("/docs")

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(("path", "content_type"), ASSETS.items())
def test_serve_swagger_ui_files_from_npm_package(
    client: httpx.Client, path: str, content_type: str
) -> None:
    response = client.get(path)

    assert response.status_code == 200, path
    assert response.headers["Content-Type"].partition(";")[0] == content_type
    installed = ROOT / DOCS_ASSETS / path.removeprefix("/docs/")
    assert response.content == installed.read_bytes()
    assert_security_headers(response)


def test_serve_page_script_from_gateway_folder(client: httpx.Client) -> None:
    response = client.get("/docs/flusk-docs.js")

    assert response.headers["Content-Type"].partition(";")[0] == "text/javascript"
    assert response.content == (ROOT / "gateway" / "docs" / "flusk-docs.js").read_bytes()


def test_list_each_service_document_for_the_selector(client: httpx.Client) -> None:
    response = client.get("/docs/swagger-config.json")

    assert response.headers["Content-Type"] == "application/json"
    # The gateway of this suite routes foss only.
    assert response.json() == {
        "urls": [{"name": "foss", "url": "/foss/openapi.json"}],
        "urls.primaryName": "foss",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/docs/",
        "/docs/nope",
        "/docs/index.html",  # the page is /docs only
        "/docs/swagger-initializer.js",  # the npm package's, pointing at a public demo
        "/docs/swagger-ui-bundle.js.map",
        "/docs/package.json",
        "/docs/node_modules/swagger-ui-dist/swagger-ui.css",
        "/docsx",
    ],
)
def test_refuse_other_paths_as_problem(client: httpx.Client, path: str) -> None:
    response = client.get(path)

    assert_problem(response, 404, "not_found")
    assert_security_headers(response)


@pytest.mark.parametrize(
    "path", ["/docs", "/docs/swagger-ui.css", "/docs/swagger-config.json", "/docs/nope"]
)
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS", "PROPFIND"])
def test_answer_get_and_head_only(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path, content=b"{}")

    body = assert_problem(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, HEAD"
    assert body["detail"] == "The API documentation answers GET and HEAD only."
