"""The bundled Django example served by a real corral process, through wsgi.py and asgi.py.

Each module run copies ``examples/djangosite`` into a temporary directory, runs
``manage.py migrate`` and ``manage.py seed`` there (so the repo's database is never
touched) and starts corral on Django's own, unmodified ``mysite.wsgi`` /
``mysite.asgi`` modules.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, Server, http_exchange

EXAMPLE = ROOT / "examples" / "djangosite"
SAMPLE_TITLES = [f"Sample note {i}" for i in range(1, 11)]
# Deterministic settings whatever the developer's shell exports.
SITE_ENV = {"DJANGO_DEBUG": "0", "DJANGO_SETTINGS_MODULE": "mysite.settings"}
CSRF_INPUT_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

StartServer = Callable[..., Server]


def manage(site: Path, *args: str) -> str:
    """Run ``manage.py`` in the copied site and return its output."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=site,
        env={**os.environ, **SITE_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded copy of the example site."""
    site = tmp_path_factory.mktemp("djangosite") / "site"
    shutil.copytree(
        EXAMPLE,
        site,
        ignore=shutil.ignore_patterns("db.sqlite3*", "__pycache__", "staticfiles"),
    )
    manage(site, "migrate", "--noinput")
    manage(site, "seed")
    return site


@pytest.fixture(params=["mysite.wsgi", "mysite.asgi"], ids=["wsgi", "asgi"])
def app_module(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def serve(start_server: StartServer, site: Path, app: str, *extra: str) -> Server:
    """Start corral on the copied site the way the README does (``--chdir``)."""
    return start_server("--chdir", str(site), *extra, app, cwd=site, env=SITE_ENV)


@pytest.fixture
def server(start_server: StartServer, site_dir: Path, app_module: str) -> Server:
    return serve(start_server, site_dir, app_module)


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield http


def echo(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    data: dict[str, Any] = response.json()
    return data


def unique_title(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:12]}"


# --- pages -----------------------------------------------------------------------------


def test_seed_is_idempotent(site_dir: Path) -> None:
    assert "0 notes created, 10 already there" in manage(site_dir, "seed")


def test_home_page_renders_the_seeded_notes(client: httpx.Client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert html.startswith("<!doctype html>")  # base.html, through {% extends %}
    for title in SAMPLE_TITLES:
        assert f">{title}</a>" in html
    assert len(re.findall(r'<a href="/notes/\d+/">', html)) >= 10


def test_detail_page(client: httpx.Client) -> None:
    notes = client.get("/api/notes/").json()["notes"]
    note = next(n for n in notes if n["title"] == "Sample note 3")
    response = client.get(note["url"])
    assert response.status_code == 200
    assert "<h1>Sample note 3</h1>" in response.text
    assert "This is sample note number 3, served by corral." in response.text


def test_missing_note_gets_the_sites_404_page(client: httpx.Client) -> None:
    response = client.get("/notes/987654/")
    assert response.status_code == 404
    assert "<h1>Not found</h1>" in response.text
    assert "/notes/987654/" in response.text


def test_form_post_with_csrf_token_creates_a_note(client: httpx.Client) -> None:
    form_page = client.get("/notes/new/")
    assert form_page.status_code == 200
    match = CSRF_INPUT_RE.search(form_page.text)
    assert match, form_page.text
    assert "csrftoken" in client.cookies
    title = unique_title("Form note")

    response = client.post(
        "/notes/new/",
        data={"csrfmiddlewaretoken": match.group(1), "title": title, "body": "from a form"},
        follow_redirects=True,
    )

    assert [r.status_code for r in response.history] == [302]
    assert response.status_code == 200
    assert re.fullmatch(r"/notes/\d+/", response.url.path)
    assert f"<h1>{title}</h1>" in response.text
    assert f">{title}</a>" in client.get("/").text


def test_form_post_without_csrf_token_is_refused(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as fresh:
        response = fresh.post("/notes/new/", data={"title": "no token"})
    assert response.status_code == 403
    assert "CSRF" in response.text


# --- JSON API and request bodies ---------------------------------------------------------


def test_json_api_lists_and_creates_notes(client: httpx.Client) -> None:
    listed = client.get("/api/notes/")
    assert listed.status_code == 200
    titles = {note["title"] for note in listed.json()["notes"]}
    assert set(SAMPLE_TITLES) <= titles

    title = unique_title("API note")
    created = client.post("/api/notes/", json={"title": title, "body": "via JSON"})
    assert created.status_code == 201, created.text
    assert created.json()["title"] == title
    assert created.json()["body"] == "via JSON"

    detail = client.get(created.json()["url"])
    assert f"<h1>{title}</h1>" in detail.text
    assert title in {note["title"] for note in client.get("/api/notes/").json()["notes"]}


def test_json_api_rejects_invalid_input(client: httpx.Client) -> None:
    bad_json = client.post(
        "/api/notes/", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400
    missing_title = client.post("/api/notes/", json={"body": "no title"})
    assert missing_title.status_code == 400
    assert "title" in missing_title.json()["errors"]


def test_chunked_request_body_reaches_the_view(client: httpx.Client, app_module: str) -> None:
    pieces = [bytes([i % 256]) * (1000 + i) for i in range(200)]  # ~220 KB in 200 chunks
    body = b"".join(pieces)

    response = client.post(
        "/echo/?kind=chunked",
        content=iter(pieces),  # a generator body: httpx sends Transfer-Encoding: chunked
        headers={"content-type": "application/octet-stream"},
    )

    assert response.request.headers.get("transfer-encoding") == "chunked"
    data = echo(response)
    assert data["method"] == "POST"
    assert data["body_length"] == len(body)
    assert data["body_sha256"] == hashlib.sha256(body).hexdigest()
    if app_module == "mysite.wsgi":
        # WSGI has no way to say "chunked": the server buffers the body and sets
        # CONTENT_LENGTH, or Django would read an empty body.
        assert data["content_length"] == str(len(body))


def test_chunked_json_body_creates_a_note(client: httpx.Client) -> None:
    title = unique_title("Chunked note")
    payload = json.dumps({"title": title, "body": "sent in pieces"}).encode()
    pieces = [payload[i : i + 7] for i in range(0, len(payload), 7)]
    response = client.post(
        "/api/notes/", content=iter(pieces), headers={"content-type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == title


def test_fixed_length_body(client: httpx.Client) -> None:
    body = b"x" * 70_000
    data = echo(client.put("/echo/", content=body))
    assert data["method"] == "PUT"
    assert data["content_length"] == "70000"
    assert data["body_length"] == 70_000
    assert data["body_sha256"] == hashlib.sha256(body).hexdigest()


# --- streaming, request metadata, HEAD ----------------------------------------------------


def test_streaming_response(client: httpx.Client) -> None:
    expected = "".join(f"chunk {i}\n" for i in range(300))
    with client.stream("GET", "/stream/?n=300") as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        # A stream of unknown length goes out chunked, not buffered into a Content-Length.
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        received = "".join(response.iter_text())
    assert received == expected


def test_empty_streaming_response(client: httpx.Client) -> None:
    response = client.get("/stream/?n=0")
    assert response.status_code == 200
    assert response.content == b""


def test_query_string(client: httpx.Client) -> None:
    data = echo(client.get("/echo/?a=1&a=2&name=caf%C3%A9&empty=&plus=x+y"))
    assert data["path"] == "/echo/"
    assert data["query_string"] == "a=1&a=2&name=caf%C3%A9&empty=&plus=x+y"
    assert data["query"] == {"a": ["1", "2"], "name": ["café"], "empty": [""], "plus": ["x y"]}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_echo_reports_method_and_client(server: Server, method: str, app_module: str) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        data = echo(http.request(method, "/echo/", headers={"X-Custom-Header": "hello"}))
    assert data["handler"] == ("WSGIRequest" if app_module == "mysite.wsgi" else "ASGIRequest")
    assert data["method"] == method
    assert data["remote_addr"] == "127.0.0.1"
    assert data["is_secure"] is False
    assert data["scheme"] == "http"
    assert data["host"] == f"127.0.0.1:{server.port}"
    assert data["server_port"] == str(server.port)
    assert data["script_name"] == ""
    assert data["path_info"] == "/echo/"
    assert data["headers"]["x-custom-header"] == "hello"
    assert data["headers"]["host"] == f"127.0.0.1:{server.port}"


def test_head_sends_headers_but_no_body(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        get = http.get("/")
        head = http.head("/")
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-type"] == get.headers["content-type"]
        # The connection is still in sync after HEAD: the next answer is whole.
        assert http.get("/").text == get.text

    # On the wire: nothing after the blank line, even though Django rendered a body.
    with server.connect() as sock:
        raw = http_exchange(
            sock, b"HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
    head_bytes, sep, rest = raw.partition(b"\r\n\r\n")
    assert head_bytes.startswith(b"HTTP/1.1 200 "), raw[:200]
    assert sep and rest == b""


# --- server options -------------------------------------------------------------------


def test_root_path_mounts_the_site_under_a_prefix(
    start_server: StartServer, site_dir: Path, app_module: str
) -> None:
    server = serve(start_server, site_dir, app_module, "--root-path", "/prefix")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        data = echo(http.get("/prefix/echo/?q=1"))
        assert data["script_name"] == "/prefix"
        assert data["path_info"] == "/echo/"
        assert data["path"] == "/prefix/echo/"
        assert data["query_string"] == "q=1"
        # Django builds its links from SCRIPT_NAME.
        home = http.get("/prefix/")
        assert home.status_code == 200
        assert 'href="/prefix/notes/new/"' in home.text


def test_wsgi_with_a_thread_pool(start_server: StartServer, site_dir: Path) -> None:
    server = serve(start_server, site_dir, "mysite.wsgi", "--threads", "4")
    titles = [unique_title("Threaded note") for _ in range(8)]

    with httpx.Client(base_url=server.url, timeout=20) as http:

        def get_home(_: int) -> httpx.Response:
            return http.get("/")

        def create(title: str) -> httpx.Response:
            return http.post("/api/notes/", json={"title": title})

        with ThreadPoolExecutor(max_workers=8) as pool:
            pages = list(pool.map(get_home, range(24)))
            created = list(pool.map(create, titles))
            streams = list(pool.map(lambda _: http.get("/stream/?n=50"), range(8)))

        assert all(page.status_code == 200 for page in pages)
        assert all(all(t in page.text for t in SAMPLE_TITLES) for page in pages)
        assert [r.status_code for r in created] == [201] * len(titles)
        expected_stream = "".join(f"chunk {i}\n" for i in range(50))
        assert all(s.text == expected_stream for s in streams)
        listed = {n["title"] for n in http.get("/api/notes/").json()["notes"]}
    assert set(titles) <= listed
