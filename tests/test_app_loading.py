"""Finding and starting the app: specs, factories, interfaces, paths, env files, errors."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from conftest import APPS, run_corral

BIND = ("--bind", "127.0.0.1:0")


def body(server, path: str = "/") -> tuple[int, str]:
    resp = httpx.get(server.url + path, timeout=10)
    return resp.status_code, resp.text


def assert_load_error(result, *needles: str) -> str:
    """Exit 3 with exactly one ``corral: error:`` line holding every needle; returns it."""
    assert result.returncode == 3, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("corral: error:")]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def corral_frames(stderr: str) -> list[str]:
    """Traceback lines that point into corral's own source."""
    return [
        ln
        for ln in stderr.splitlines()
        if ln.strip().startswith("File ") and "/corral/" in ln.replace("\\", "/")
    ]


# -- running apps ---------------------------------------------------------------------------------


def test_module_colon_attribute(start_server):
    assert body(start_server("wsgi_apps:hello")) == (200, "hello")


def test_plain_module_uses_the_application_attribute(start_server):
    assert body(start_server("plain_wsgi")) == (200, "plain module!")


def test_factory_is_called_with_the_factory_flag(start_server):
    assert body(start_server("wsgi_apps:create_app", "--factory")) == (200, "made by factory")


def test_factory_without_the_flag_is_an_error_that_suggests_it():
    result = run_corral("wsgi_apps:create_app", *BIND)
    assert_load_error(result, "--factory")


@pytest.mark.parametrize("spec", ["asgi_apps:hello", "asgi_apps:class_app"])
def test_asgi3_apps_are_detected(start_server, spec):
    status, text = body(start_server(spec))
    assert status == 200
    assert text in ("hello from asgi", "hello from a class instance")


def test_interface_flag_overrides_detection(start_server):
    # A plain function returning a coroutine looks like WSGI; --interface asgi serves it right.
    assert body(start_server("asgi_apps:sync_wrapper_app", "--interface", "asgi")) == (
        200,
        "served as asgi",
    )
    assert body(start_server("asgi_apps:sync_wrapper_app"))[0] == 500  # called as WSGI


def test_python_dash_m_corral_reports_its_version():
    result = run_corral("--version")
    assert result.returncode == 0, result.stderr
    assert re.search(r"\bcorral \d+\.\d+", result.stdout + result.stderr)


# -- where the app is looked for ------------------------------------------------------------------


def test_chdir_makes_the_app_importable_and_is_the_working_directory(start_server):
    target = APPS / "chdir_target"
    assert_load_error(run_corral("chdir_only_app", *BIND), "chdir_only_app")
    server = start_server("chdir_only_app", "--chdir", str(target))
    assert body(server) == (200, str(target))


def test_pythonpath_makes_the_app_importable(start_server):
    extra = APPS / "extra_path"
    assert_load_error(run_corral("pythonpath_app", *BIND), "pythonpath_app")
    server = start_server("pythonpath_app", "--pythonpath", str(extra))
    assert body(server) == (200, "from pythonpath")


def test_env_file_variables_are_visible_to_the_app(start_server, tmp_path: Path):
    env_file = tmp_path / "app.env"
    env_file.write_text("# settings for the test app\nAPP_GREETING=hello-from-env-file\n")
    server = start_server("wsgi_apps:env_app", "--env-file", str(env_file))
    # Set before the app is imported, and still there when it serves.
    assert body(server) == (200, "hello-from-env-file|hello-from-env-file")


# -- errors ------------------------------------------------------------------------------------


def test_missing_module_is_one_clear_line():
    result = run_corral("no_such_module_here:app", *BIND)
    assert_load_error(result, "no_such_module_here")
    assert "Traceback" not in result.stderr


def test_missing_attribute_is_one_clear_line():
    result = run_corral("wsgi_apps:no_such_attribute", *BIND)
    assert_load_error(result, "no_such_attribute")
    assert "Traceback" not in result.stderr


def test_import_error_in_the_app_shows_the_apps_traceback_only():
    result = run_corral("broken_import", *BIND)
    assert_load_error(result, "broken-import-marker")
    assert "Traceback" in result.stderr
    assert "broken_import.py" in result.stderr
    assert "ValueError: settings file missing: broken-import-marker" in result.stderr
    assert corral_frames(result.stderr) == []


def test_missing_dependency_of_the_app_is_the_apps_error_not_a_missing_app():
    result = run_corral("broken_missing_dep", *BIND)
    assert_load_error(result, "corral_test_dependency_that_is_not_installed")
    assert "broken_missing_dep.py" in result.stderr  # the app's line that imports it
    assert corral_frames(result.stderr) == []
