"""The corral command, run as ``python -m corral`` in a temporary directory."""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import run_corral

import corral.cli

WSGI_APP = """\
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
"""

ASGI_APP = """\
async def app(scope, receive, send):
    pass
"""


def lines(text: str) -> list[str]:
    return text.splitlines()


def assert_one_line_error(
    result: subprocess.CompletedProcess[str], code: int, message: str
) -> None:
    assert result.returncode == code, result.stderr
    assert lines(result.stderr) == [f"corral: error: {message}"]


def config_lines(stdout: str) -> dict[str, str]:
    found = {}
    for line in lines(stdout):
        if " = " in line:
            name, _, rest = line.lstrip("# ").partition(" = ")
            found[name] = rest
    return found


def test_print_config(tmp_path: Path) -> None:
    (tmp_path / "corral.toml").write_text("threads = 2\n")
    result = run_corral(
        "--print-config", "-w", "1", "m:app", cwd=tmp_path, env={"CORRAL_KEEPALIVE": "5"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    found = config_lines(result.stdout)
    assert found["keepalive"].split() == ["5.0", "#", "env", "CORRAL_KEEPALIVE"]
    assert found["workers"].split() == ["1", "#", "command", "line", "-w"]
    assert found["threads"].split() == ["2", "#", str(tmp_path / "corral.toml")]
    assert found["app"].split() == ['"m:app"', "#", "command", "line"]
    assert found["bind"].split() == ['["127.0.0.1:8000"]', "#", "default"]


def test_print_config_warns_about_ignored_gunicorn_settings(tmp_path: Path) -> None:
    (tmp_path / "gunicorn.conf.py").write_text(
        textwrap.dedent("""\
            import os
            bind = "127.0.0.1:9001"
            worker_class = "uvicorn.workers.UvicornWorker"
            def on_starting(server):
                pass
            def dirty_post_fork(server, worker):
                pass
            """)
    )
    result = run_corral("-c", "gunicorn.conf.py", "--print-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert config_lines(result.stdout)["bind"].startswith('["127.0.0.1:9001"]')
    conf = tmp_path / "gunicorn.conf.py"
    assert lines(result.stderr) == [
        f"corral: warning: {conf}: ignoring worker_class: corral serves WSGI and ASGI apps "
        "itself; --interface forces one",
        f"corral: warning: {conf}: ignoring dirty_post_fork: corral does not have this "
        "gunicorn setting",
    ]


@pytest.mark.parametrize(("source", "kind"), [(WSGI_APP, "WSGI"), (ASGI_APP, "ASGI")])
def test_check_config_imports_the_app(tmp_path: Path, source: str, kind: str) -> None:
    (tmp_path / "hello.py").write_text(source)
    result = run_corral("--check-config", "hello:app", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert lines(result.stdout) == [f"corral: settings OK, app 'hello:app' is a {kind} app"]


def test_check_config_applies_chdir_and_pythonpath(tmp_path: Path) -> None:
    (tmp_path / "project" / "lib").mkdir(parents=True)
    (tmp_path / "project" / "hello.py").write_text(WSGI_APP)
    (tmp_path / "project" / "lib" / "libapp.py").write_text(WSGI_APP)
    assert run_corral("--check-config", "hello:app", cwd=tmp_path).returncode == 3
    result = run_corral("--check-config", "--chdir", "project", "hello:app", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    result = run_corral(
        "--check-config", "--chdir", "project", "--pythonpath", "lib", "libapp:app", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr


def test_check_config_without_app(tmp_path: Path) -> None:
    result = run_corral("--check-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert lines(result.stdout) == ["corral: settings OK (no app given, so none imported)"]


def test_check_config_missing_module(tmp_path: Path) -> None:
    result = run_corral("--check-config", "nosuchmodule:app", cwd=tmp_path)
    assert result.returncode == 3
    assert len(lines(result.stderr)) == 1
    assert result.stderr.startswith("corral: error: cannot import module 'nosuchmodule'")


def test_app_error_shows_the_apps_traceback_then_one_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import json\nvalue = json.loads('{')\n")
    result = run_corral("--check-config", "broken:app", cwd=tmp_path)
    assert result.returncode == 3
    stderr = lines(result.stderr)
    assert stderr[0] == "Traceback (most recent call last):"
    assert any('broken.py", line 2' in line for line in stderr)
    assert stderr[-1].startswith("corral: error: importing 'broken' failed: JSONDecodeError")
    assert "corral/cli.py" not in result.stderr  # the app's frames, not corral's


def test_check_config_bad_env_file(tmp_path: Path) -> None:
    result = run_corral("--check-config", "--env-file", "missing.env", cwd=tmp_path)
    assert result.returncode == 2
    assert lines(result.stderr) == [
        f"corral: error: cannot read env_file '{tmp_path / 'missing.env'}' "
        "(command line --env-file): No such file or directory"
    ]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (
            ["--workerz", "2"],
            {},
            "unknown flag --workerz on the command line (did you mean '--workers'?)",
        ),
        (
            ["--workers", "many"],
            {},
            "bad value 'many' for workers (command line --workers): expected an integer >= 1",
        ),
        (
            ["--print-config"],
            {"CORRAL_TIMEOUTT": "1"},
            "unknown setting CORRAL_TIMEOUTT in the environment (did you mean 'CORRAL_TIMEOUT'?)",
        ),
        (
            ["--check-config", "--bind", "8000"],
            {},
            "bad value '8000' for bind (command line --bind): no host: "
            "use 127.0.0.1:8000 (this machine only) or :8000 (all interfaces)",
        ),
        (
            ["--reload", "m:app"],
            {},
            "setting 'reload' (command line --reload) is not supported yet",
        ),
        (["-c", "nope.py"], {}, "config file '{cwd}/nope.py' not found"),
    ],
)
def test_user_mistakes_are_one_line_exit_2(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    result = run_corral(*args, cwd=tmp_path, env=env)
    assert_one_line_error(result, 2, message.format(cwd=tmp_path))
    assert result.stdout == ""


def test_bad_toml_key(tmp_path: Path) -> None:
    (tmp_path / "corral.toml").write_text("keep_alive = 5\n")
    result = run_corral("m:app", cwd=tmp_path)
    assert_one_line_error(
        result,
        2,
        f"unknown setting 'keep_alive' in {tmp_path / 'corral.toml'} (did you mean 'keepalive'?)",
    )


def test_no_app(tmp_path: Path) -> None:
    result = run_corral("--workers", "1", cwd=tmp_path)
    assert result.returncode == 2
    assert len(lines(result.stderr)) == 1
    assert result.stderr.startswith("corral: error: no app given")


def test_version_and_help(tmp_path: Path) -> None:
    result = run_corral("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("corral ")
    result = run_corral("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: corral")
    for flag in ("--keep-alive", "--timeout-keep-alive", "--no-access-log", "--print-config"):
        assert flag in result.stdout


def test_uvicorn_command_line(tmp_path: Path) -> None:
    result = run_corral(
        "main:app",
        "--host",
        "0.0.0.0",
        "--port",
        "9000",
        "--workers",
        "1",
        "--proxy-headers",
        "--log-level",
        "info",
        "--no-access-log",
        "--timeout-keep-alive",
        "5",
        "--lifespan",
        "on",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--root-path",
        "/api",
        "--factory",
        "--no-server-header",
        "--env-file",
        ".env",
        "--print-config",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    found = config_lines(result.stdout)
    assert found["bind"].startswith('["0.0.0.0:9000"]')
    assert found["bind"].endswith("# command line --host, --port")
    for name, value in [
        ("access_log", "false"),
        ("keepalive", "5.0"),
        ("lifespan", '"on"'),
        ("root_path", '"/api"'),
        ("factory", "true"),
        ("server_header", "false"),
        ("env_file", f'"{tmp_path / ".env"}"'),
    ]:
        assert found[name].split()[0] == value, name


def test_gunicorn_command_line(tmp_path: Path) -> None:
    result = run_corral(
        "myproject.wsgi",
        "-w",
        "1",
        "-b",
        "0.0.0.0:8000",
        "-b",
        "unix:/tmp/g.sock",
        "-t",
        "60",
        "--keep-alive",
        "5",
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--log-level",
        "DEBUG",
        "--limit-request-field_size",
        "100",
        "--graceful-timeout",
        "10",
        "--chdir",
        ".",
        "-e",
        "DJANGO_SETTINGS_MODULE=myproject.settings",
        "--print-config",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    found = config_lines(result.stdout)
    assert found["bind"].startswith('["0.0.0.0:8000", "unix:/tmp/g.sock"]')
    for name, value in [
        ("timeout", "60.0"),
        ("keepalive", "5.0"),
        ("loglevel", '"debug"'),
        ("limit_request_field_size", "100"),
        ("graceful_timeout", "10.0"),
        ("chdir", f'"{tmp_path}"'),
        ("raw_env", '["DJANGO_SETTINGS_MODULE=myproject.settings"]'),
    ]:
        assert found[name].split()[0] == value, name


def test_keyboard_interrupt_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(argv: list[str]) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(corral.cli, "_main", interrupted)
    with pytest.raises(SystemExit) as info:
        corral.cli.main(["m:app"])
    assert info.value.code == 130
    assert capsys.readouterr() == ("", "")


def test_main_in_process_reports_config_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        corral.cli.main(["--workers", "0"])
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert (out, err) == (
        "",
        "corral: error: bad value '0' for workers (command line --workers): "
        "expected an integer >= 1\n",
    )
