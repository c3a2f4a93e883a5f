"""Settings: sources and their precedence, gunicorn config files, errors, listeners.

Pure tests: ``load_config`` gets argv, an environment dict and a temporary
working directory; nothing touches the real environment.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest

from corral.config import SETTINGS, Config, apply_process_settings, format_config, load_config
from corral.config.command_line import build_parser, parse_command_line
from corral.config.docs import render
from corral.config.kinds import Bool, Octal, Size
from corral.config.process import parse_env_file
from corral.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent

# Two valid values per supported setting, as strings (env/flag spelling); the
# first differs from the default. Absolute paths so that path resolution keeps them.
SAMPLES: dict[str, tuple[str, str]] = {
    "app": ("one:app", "two:app"),
    "factory": ("true", "false"),
    "interface": ("wsgi", "asgi"),
    "chdir": ("/srv/one", "/srv/two"),
    "pythonpath": ("/srv/lib1", "/srv/lib2"),
    "env_file": ("/srv/one.env", "/srv/two.env"),
    "raw_env": ("A=1", "B=2"),
    "bind": ("127.0.0.1:1", "127.0.0.1:2"),
    "host": ("10.0.0.1", "10.0.0.2"),
    "port": ("1", "2"),
    "uds": ("/run/one.sock", "/run/two.sock"),
    "fd": ("3", "4"),
    "backlog": ("10", "20"),
    "workers": ("2", "3"),
    "threads": ("4", "8"),
    "timeout": ("1.5", "2.5"),
    "graceful_timeout": ("5", "6"),
    "loop": ("uvloop", "auto"),
    "http": ("httptools", "auto"),
    "keepalive": ("5", "620"),
    "first_byte_timeout": ("1", "2"),
    "header_timeout": ("3", "4"),
    "limit_request_line": ("100", "200"),
    "limit_request_fields": ("10", "0"),
    "limit_request_field_size": ("300", "400"),
    "limit_request_head": ("1000", "2000"),
    "limit_request_body": ("10", "0"),
    "wsgi_chunked_buffer": ("0", "100"),
    "body_spool_threshold": ("1", "2"),
    "drain_limit": ("5", "6"),
    "root_path": ("/api", "/v2"),
    "server_header": ("false", "true"),
    "date_header": ("false", "true"),
    "lifespan": ("on", "off"),
    "access_log": ("false", "true"),
    "accesslog": ("/var/log/a.log", "-"),
    "access_log_format": ("%(h)s", "%(r)s"),
    "errorlog": ("/var/log/e.log", "-"),
    "loglevel": ("debug", "error"),
    "health_path": ("/healthz", "/ready"),
    "shutdown_delay": ("5", "10"),
    "max_requests": ("1000", "2000"),
    "max_requests_jitter": ("50", "100"),
    "preload_app": ("true", "false"),
    "max_worker_lifetime": ("3600", "7200"),
    "max_worker_lifetime_jitter": ("60", "120"),
    "max_worker_memory": ("512", "1024"),
    "user": ("www-data", "1000"),
    "group": ("www-data", "1000"),
    "umask": ("022", "077"),
    "pidfile": ("/run/one.pid", "/run/two.pid"),
    "request_timeout": ("30", "60"),
    "reuse_port": ("true", "false"),
    "daemon": ("true", "false"),
    "min_body_rate": ("100", "2K"),
    "body_timeout": ("5", "0"),
    "write_timeout": ("10", "0"),
    "max_connections": ("100", "1000"),
    "limit_concurrency": ("10", "20"),
    "queue_size": ("0", "50"),
    "queue_timeout": ("1", "2"),
    "proxy_headers": ("false", "true"),
    "forwarded_allow_ips": ("10.0.0.0/8", "*"),
    "forwarded_prefix": ("true", "false"),
    "strip_forwarded_headers": ("true", "false"),
    "proxy_protocol": ("true", "false"),
}


def load(tmp_path: Path, *argv: str, env: dict[str, str] | None = None) -> Config:
    return load_config(list(argv), env or {}, tmp_path)


def error(tmp_path: Path, *argv: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, *argv, env=env)
    message = str(info.value)
    assert "\n" not in message
    return message


def flag_args(name: str, text: str) -> list[str]:
    setting = SETTINGS[name]
    if setting.positional:
        return [text]
    if setting.is_flag:
        value = Bool().parse(text)
        return [setting.flags[0] if value else setting.negative_flags[0]]
    return [setting.flags[0], text]


def test_samples_cover_every_supported_setting() -> None:
    supported = {name for name, setting in SETTINGS.items() if setting.supported}
    assert set(SAMPLES) == supported


def test_defaults(tmp_path: Path) -> None:
    config = load(tmp_path)
    for name, setting in SETTINGS.items():
        assert config.sources[name] == "default"
        if name != "bind":
            assert getattr(config, name) == setting.default
    assert config.bind == ["127.0.0.1:8000"]
    assert config.keepalive == 75.0
    assert config.limit_request_body == 1073741824
    assert config.warnings == []


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_precedence_file_env_command_line(tmp_path: Path, name: str) -> None:
    setting = SETTINGS[name]
    first, second = SAMPLES[name]
    one, two = setting.kind.parse(first), setting.kind.parse(second)
    toml_file = tmp_path / "corral.toml"
    toml_file.write_text(f"{name} = {setting.kind.show(one)}\n")
    env = {setting.env: second}

    config = load(tmp_path)
    assert (_value(config, name), config.sources[name]) == (one, str(toml_file))

    config = load(tmp_path, env=env)
    assert (_value(config, name), config.sources[name]) == (two, f"env {setting.env}")

    args = flag_args(name, first)
    config = load(tmp_path, *args, env=env)
    expected_source = "command line" if setting.positional else f"command line {args[0]}"
    assert (_value(config, name), config.sources[name]) == (one, expected_source)


def _value(config: Config, name: str) -> object:
    return config.bind if name == "bind" else getattr(config, name)


def test_every_flag_sets_its_setting(tmp_path: Path) -> None:
    for name, (first, _) in SAMPLES.items():
        setting = SETTINGS[name]
        flags = setting.flags if not setting.is_flag or first == "true" else setting.negative_flags
        for flag in flags:
            args = [flag] if setting.is_flag else [flag, first]
            config = load(tmp_path, *args)
            assert config.sources[name] == f"command line {flag}", flag
            assert _value(config, name) == setting.kind.parse(first), flag


def test_gunicorn_and_uvicorn_spellings(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "--limit-request-field_size",
        "100",
        "--timeout-keep-alive",
        "5",
        "--app-dir",
        "/srv/app",
        "--log-level",
        "WARNING",
        "--interface",
        "asgi3",
        "--timeout-graceful-shutdown",
        "7",
        "-w",
        "1",
    )
    assert config.limit_request_field_size == 100
    assert config.keepalive == 5.0
    assert config.pythonpath == ["/srv/app"]
    assert config.loglevel == "warning"
    assert config.interface == "asgi"
    assert config.graceful_timeout == 7.0


def test_repeated_list_flags_add_up_and_scalars_take_the_last(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "-b",
        "127.0.0.1:1",
        "--bind",
        "unix:/run/x.sock",
        "-e",
        "A=1",
        "--env",
        "B=x,y",
        "--pythonpath",
        "/a,/b",
        "--workers",
        "2",
        "-w",
        "3",
    )
    assert config.bind == ["127.0.0.1:1", "unix:/run/x.sock"]
    assert config.sources["bind"] == "command line -b, --bind"
    assert config.raw_env == ["A=1", "B=x,y"]
    assert config.pythonpath == ["/a", "/b"]
    assert (config.workers, config.sources["workers"]) == (3, "command line -w")


# --- config files ------------------------------------------------------------


def test_toml_native_values(tmp_path: Path) -> None:
    (tmp_path / "corral.toml").write_text(
        'app = "m:a"\nworkers = 2\nkeepalive = 5\naccess_log = false\n'
        'bind = ["127.0.0.1:1", "[::1]:2"]\nlimit-request-body = "10M"\n'
    )
    config = load(tmp_path)
    assert (config.app, config.workers, config.keepalive) == ("m:a", 2, 5.0)
    assert config.access_log is False
    assert config.bind == ["127.0.0.1:1", "[::1]:2"]
    assert config.limit_request_body == 10 * 1024 * 1024


def test_toml_unknown_key_names_key_source_and_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "corral.toml"
    path.write_text("workerz = 2\n")
    assert error(tmp_path) == f"unknown setting 'workerz' in {path} (did you mean 'workers'?)"
    path.write_text('wsgi_app = "m:a"\n')
    assert "did you mean 'app'?" in error(tmp_path)
    path.write_text("[server]\nworkers = 2\n")
    assert "unknown setting 'server'" in error(tmp_path)


def test_toml_bad_value_names_key_and_source(tmp_path: Path) -> None:
    path = tmp_path / "corral.toml"
    path.write_text('workers = "two"\n')
    assert error(tmp_path) == (f"bad value 'two' for workers ({path}): expected an integer >= 1")
    path.write_text("access_log = 3\n")
    assert error(tmp_path).startswith(f"bad value 3 for access_log ({path})")
    path.write_text("workers = \n")
    assert error(tmp_path).startswith(f"cannot parse {path}")


def test_pyproject_tool_corral(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n[tool.corral]\nworkers = 3\n')
    config = load(tmp_path)
    assert (config.workers, config.sources["workers"]) == (3, f"{pyproject} [tool.corral]")
    # corral.toml comes first: pyproject.toml is then not read at all.
    (tmp_path / "corral.toml").write_text("threads = 2\n")
    config = load(tmp_path)
    assert (config.workers, config.threads) == (1, 2)
    # -c picks the file; a pyproject.toml given with -c is read from [tool.corral].
    assert load(tmp_path, "-c", "pyproject.toml").workers == 3


def test_pyproject_without_tool_corral_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.ruff]\nline-length = 1\n'
    )
    assert load(tmp_path).sources["workers"] == "default"


def test_pyproject_unknown_key(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.corral]\nkeep_alive = 3\n")
    assert "unknown setting 'keep_alive'" in error(tmp_path)
    assert "[tool.corral] (did you mean 'keepalive'?)" in error(tmp_path)


def test_config_file_from_command_line_and_env(tmp_path: Path) -> None:
    (tmp_path / "other.toml").write_text("workers = 5\n")
    (tmp_path / "corral.toml").write_text("workers = 2\n")
    assert load(tmp_path, "--config", "other.toml").workers == 5
    assert load(tmp_path, env={"CORRAL_CONFIG": "other.toml"}).workers == 5
    assert error(tmp_path, "-c", "missing.toml") == (
        f"config file {str(tmp_path / 'missing.toml')!r} not found"
    )


GUNICORN_CONF = """\
import multiprocessing
import os
from os import path as _path

_base = os.path.dirname(__file__)
_bind = "0.0.0.0:1"
wsgi_app = "myproject.wsgi:application"
bind = "0.0.0.0:" + os.environ.get("CORRAL_TEST_UNSET_PORT", "8123")
workers = 1
threads = 4
timeout = 120
keepalive = 5
loglevel = "DEBUG"
accesslog = "-"
raw_env = ["DJANGO_SETTINGS_MODULE=myproject.settings"]
worker_class = "uvicorn.workers.UvicornWorker"
preload_app = True
max_requests = 1000
workerz = 3
cpu_count = multiprocessing.cpu_count


def post_fork(server, worker):
    server.log.info("forked %s", worker.pid)


def helper():
    return 42


def worker():  # a helper whose name is close to "workers"
    return 1


class Thing:
    pass
"""


def test_gunicorn_conf_py(tmp_path: Path) -> None:
    path = tmp_path / "gunicorn.conf.py"
    path.write_text(GUNICORN_CONF)
    config = load(tmp_path, "-c", "gunicorn.conf.py")
    assert config.app == "myproject.wsgi:application"
    assert config.sources["app"] == str(path)
    assert config.bind == ["0.0.0.0:8123"]
    assert (config.threads, config.timeout, config.keepalive) == (4, 120.0, 5.0)
    assert config.loglevel == "debug"
    assert config.raw_env == ["DJANGO_SETTINGS_MODULE=myproject.settings"]
    # gunicorn settings corral has are applied, with gunicorn's names.
    assert config.preload_app is True and config.max_requests == 1000
    ignored = [re.search(r": ignoring (\w+)", warning) for warning in config.warnings]
    # Helpers (imports, functions, classes, _names, a function named like a setting)
    # are not mentioned; gunicorn-only settings are; hooks corral calls are kept.
    assert sorted(match.group(1) for match in ignored if match) == [
        "worker_class",
        "workerz",
    ]
    assert len(config.warnings) == 2
    assert set(config.hooks) == {"post_fork"}
    assert any(
        "ignoring workerz: not a setting (did you mean 'workers'?)" in w for w in config.warnings
    )


def test_gunicorn_conf_py_none_values(tmp_path: Path) -> None:
    (tmp_path / "conf.py").write_text("accesslog = None\npythonpath = None\n")
    config = load(tmp_path, "-c", "conf.py")
    # gunicorn's accesslog = None means "no access log".
    assert (config.access_log, config.accesslog) == (False, "-")
    assert config.sources["access_log"] == str(tmp_path / "conf.py")
    assert config.pythonpath == []
    assert "expected a non-empty string" in error(tmp_path, "--access-logfile", "")


def test_gunicorn_conf_py_errors(tmp_path: Path) -> None:
    path = tmp_path / "conf.py"
    path.write_text('workers = "four"\n')
    assert error(tmp_path, "-c", "conf.py") == (
        f"bad value 'four' for workers ({path}): expected an integer >= 1"
    )
    path.write_text("wsgi_app = 3\n")
    assert error(tmp_path, "-c", "conf.py").startswith(f"bad value 3 for app ({path}, as wsgi_app)")
    path.write_text("x = 1\ny = 1 / 0\n")
    assert error(tmp_path, "-c", "conf.py") == (
        f"error in config file {path} line 2: ZeroDivisionError: division by zero"
    )
    path.write_text("bind = (\n")
    assert error(tmp_path, "-c", "conf.py").startswith(f"syntax error in {path} line 1")
    # Ignoring TLS files would serve plain HTTP where HTTPS was asked for: refused.
    path.write_text('certfile = "/etc/cert.pem"\n')
    assert error(tmp_path, "-c", "conf.py") == (f"setting 'certfile' ({path}) is not supported yet")


# --- environment -------------------------------------------------------------


def test_env_unknown_variable(tmp_path: Path) -> None:
    message = error(tmp_path, env={"CORRAL_WORKER": "2"})
    assert message == (
        "unknown setting CORRAL_WORKER in the environment (did you mean 'CORRAL_WORKERS'?)"
    )


def test_env_switches_of_the_compiled_build_are_not_settings(tmp_path: Path) -> None:
    # Read when corral is imported (corral/compiled.py), so the loader lets it pass.
    config = load_config(["app:x"], {"CORRAL_PURE_PYTHON": "1", "CORRAL_COMPILE": "1"}, tmp_path)
    assert config.app == "app:x"


def test_env_bad_value(tmp_path: Path) -> None:
    assert error(tmp_path, env={"CORRAL_KEEPALIVE": "long"}) == (
        "bad value 'long' for keepalive (env CORRAL_KEEPALIVE): expected a number of seconds >= 0"
    )
    assert "env CORRAL_ACCESS_LOG" in error(tmp_path, env={"CORRAL_ACCESS_LOG": "maybe"})


def test_web_concurrency(tmp_path: Path) -> None:
    config = load(tmp_path, env={"WEB_CONCURRENCY": "3"})
    assert (config.workers, config.sources["workers"]) == (3, "env WEB_CONCURRENCY")
    config = load(tmp_path, env={"WEB_CONCURRENCY": "3", "CORRAL_WORKERS": "4"})
    assert (config.workers, config.sources["workers"]) == (4, "env CORRAL_WORKERS")
    assert load(tmp_path, "-w", "5", env={"WEB_CONCURRENCY": "3"}).workers == 5
    assert load(tmp_path, env={"WEB_CONCURRENCY": ""}).sources["workers"] == "default"
    assert "env WEB_CONCURRENCY" in error(tmp_path, env={"WEB_CONCURRENCY": "many"})


def test_forwarded_allow_ips_from_gunicorn_and_uvicorn_env(tmp_path: Path) -> None:
    config = load(tmp_path, env={"FORWARDED_ALLOW_IPS": "10.0.0.0/8, 127.0.0.1"})
    assert config.forwarded_allow_ips == ["10.0.0.0/8", "127.0.0.1"]
    assert config.sources["forwarded_allow_ips"] == "env FORWARDED_ALLOW_IPS"
    assert load(tmp_path, env={"CORRAL_FORWARDED_ALLOW_IPS": "*"}).forwarded_allow_ips == ["*"]


# --- command line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--workerz", "2"],
            "unknown flag --workerz on the command line (did you mean '--workers'?)",
        ),
        (
            ["--keepalive=5"],
            "unknown flag --keepalive on the command line (did you mean '--keep-alive'?)",
        ),
        (
            ["-k", "gevent"],
            "unknown flag -k on the command line: gunicorn's worker_class has no corral equivalent",
        ),
        (["a:b", "c:d"], "unexpected argument 'c:d' on the command line"),
        (
            ["--workers", "0"],
            "bad value '0' for workers (command line --workers): expected an integer >= 1",
        ),
        (
            ["-t", "soon"],
            "bad value 'soon' for timeout (command line -t): expected a number of seconds",
        ),
        (
            ["--header-timeout", "0"],
            "bad value '0' for header_timeout (command line --header-timeout): "
            "expected a number of seconds > 0",
        ),
        (
            ["--lifespan", "maybe"],
            "bad value 'maybe' for lifespan (command line --lifespan): "
            "expected one of auto, on, off",
        ),
        (["--port", "70000"], "bad value '70000' for port (command line --port)"),
        (
            ["--env", "NOEQUALS"],
            "bad value 'NOEQUALS' for raw_env (command line --env): expected KEY=VALUE",
        ),
        (["--limit-request-body", "10X"], "bad value '10X' for limit_request_body"),
        (["--workers"], "argument -w/--workers: expected one argument"),
        (
            ["--reload"],
            "setting 'reload' (command line --reload) is not supported yet",
        ),
        (
            ["--ssl-certfile", "c.pem"],
            "setting 'certfile' (command line --ssl-certfile) is not supported yet",
        ),
        (
            ["--certfile", "c.pem"],
            "setting 'certfile' (command line --certfile) is not supported yet",
        ),
    ],
)
def test_command_line_errors(tmp_path: Path, argv: list[str], message: str) -> None:
    assert error(tmp_path, *argv).startswith(message)


def test_unsupported_setting_at_its_default_is_accepted(tmp_path: Path) -> None:
    config = load(tmp_path, "--proxy-headers", "--max-connections", "0")
    assert config.proxy_headers is True and config.max_connections == 0


def test_actions_do_not_exit() -> None:
    parsed = parse_command_line(["--help", "--version", "--print-config", "--check-config"])
    assert (parsed.help, parsed.version, parsed.print_config, parsed.check_config) == (
        True,
        True,
        True,
        True,
    )
    assert parse_command_line(["-c", "x.py"]).config_file == "x.py"


def test_help_lists_every_flag() -> None:
    text = build_parser().format_help()
    for setting in SETTINGS.values():
        for flag in (*setting.flags, *setting.negative_flags):
            assert flag in text
    assert "[default: 75.0]" in text


# --- listeners ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "env", "bind", "source"),
    [
        ([], {}, ["127.0.0.1:8000"], "default"),
        ([], {"PORT": "5000"}, ["0.0.0.0:5000"], "env PORT"),
        (["--bind", "127.0.0.1:0"], {"PORT": "5000"}, ["127.0.0.1:0"], "command line --bind"),
        (["--port", "9000"], {"PORT": "5000"}, ["127.0.0.1:9000"], "command line --port"),
        (["--host", "0.0.0.0"], {}, ["0.0.0.0:8000"], "command line --host"),
        (
            ["--host", "0.0.0.0"],
            {"PORT": "5000"},
            ["0.0.0.0:5000"],
            "command line --host + env PORT",
        ),
        (["--host", "::1", "--port", "1"], {}, ["[::1]:1"], "command line --host, --port"),
        (["--uds", "/run/c.sock"], {}, ["unix:/run/c.sock"], "command line --uds"),
        (["--fd", "3"], {}, ["fd://3"], "command line --fd"),
        (
            ["-b", ":80", "--uds", "/s", "--fd", "0"],
            {},
            ["0.0.0.0:80", "unix:/s", "fd://0"],
            "command line -b, --uds, --fd",
        ),
        (["-b", "localhost"], {}, ["localhost:8000"], "command line -b"),
        (["-b", "[::]:443"], {}, ["[::]:443"], "command line -b"),
        (["-b", "[fe80::1%eth0]:80"], {}, ["[fe80::1%eth0]:80"], "command line -b"),
        (["-b", "unix:///run/c.sock"], {}, ["unix:/run/c.sock"], "command line -b"),
        (["-b", "tcp://10.0.0.1:80"], {}, ["10.0.0.1:80"], "command line -b"),
        (
            [],
            {"CORRAL_BIND": "127.0.0.1:1, unix:/s"},
            ["127.0.0.1:1", "unix:/s"],
            "env CORRAL_BIND",
        ),
        # A higher source's listeners replace a lower source's.
        (["--port", "9"], {"CORRAL_BIND": "127.0.0.1:1"}, ["127.0.0.1:9"], "command line --port"),
        (["-b", "127.0.0.1:9"], {"CORRAL_HOST": "0.0.0.0"}, ["127.0.0.1:9"], "command line -b"),
        # host and port merge across sources.
        (
            ["--port", "9"],
            {"CORRAL_HOST": "0.0.0.0"},
            ["0.0.0.0:9"],
            "env CORRAL_HOST + command line --port",
        ),
    ],
)
def test_bind_folding(
    tmp_path: Path, argv: list[str], env: dict[str, str], bind: list[str], source: str
) -> None:
    config = load(tmp_path, *argv, env=env)
    assert (config.bind, config.sources["bind"]) == (bind, source)


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("8000", "no host: use 127.0.0.1:8000 (this machine only) or :8000 (all interfaces)"),
        ("::1:80", "put an IPv6 address in brackets"),
        ("[::1]80", "write an IPv6 listener as [ADDRESS]:PORT"),
        ("[nope]:80", "'nope' is not a valid IPv6 address"),
        ("host:http", "the port must be a number from 0 to 65535"),
        ("bad host:80", "'bad host' is not a host name or IP address"),
        ("unix:", "unix: needs a socket path"),
        ("fd://three", "fd:// needs a file descriptor number"),
    ],
)
def test_bad_bind(tmp_path: Path, address: str, message: str) -> None:
    assert error(tmp_path, "--bind", address).startswith(
        f"bad value {address!r} for bind (command line --bind): {message}"
    )


def test_bad_port_env(tmp_path: Path) -> None:
    assert error(tmp_path, env={"PORT": "web"}) == (
        "bad value 'web' for PORT (env PORT): expected a port number from 0 to 65535"
    )
    # Not used, so not checked.
    assert load(tmp_path, "-b", "127.0.0.1:1", env={"PORT": "web"}).bind == ["127.0.0.1:1"]


# --- Config in Python --------------------------------------------------------


def test_config_keywords() -> None:
    config = Config(app="mod:app", bind=["127.0.0.1:0"], keepalive="5")
    assert (config.app, config.bind, config.keepalive) == ("mod:app", ["127.0.0.1:0"], 5.0)
    assert config.sources["app"] == "python" and config.sources["workers"] == "default"
    assert Config(port=9).bind == ["127.0.0.1:9"]
    with pytest.raises(
        ConfigError, match=r"unknown setting 'keep_alive' \(python\) \(did you mean 'keepalive'\?\)"
    ):
        Config(keep_alive=5)
    with pytest.raises(ConfigError, match=r"bad value 'x' for workers \(python\)"):
        Config(workers="x")
    with pytest.raises(ConfigError, match="not supported yet"):
        Config(reload=True)


def test_default_lists_are_not_shared() -> None:
    first = Config()
    first.raw_env.append("A=1")
    assert Config().raw_env == []
    assert SETTINGS["raw_env"].default == []


# --- print-config ------------------------------------------------------------


def test_print_config_shows_values_and_sources(tmp_path: Path) -> None:
    (tmp_path / "corral.toml").write_text("threads = 2\n")
    config = load(tmp_path, "app:x", "-w", "1", env={"CORRAL_KEEPALIVE": "5"})
    lines = format_config(config).splitlines()
    by_name = {line.split(" = ")[0].lstrip("# "): line for line in lines if " = " in line}
    assert set(by_name) == set(SETTINGS)
    assert by_name["app"].split("#")[-1].strip() == "command line"
    assert by_name["workers"].endswith("# command line -w")
    assert by_name["keepalive"].startswith("keepalive = 5.0 ")
    assert by_name["keepalive"].endswith("# env CORRAL_KEEPALIVE")
    assert by_name["threads"].endswith(f"# {tmp_path / 'corral.toml'}")
    assert by_name["host"].startswith("# host = unset")
    assert by_name["reload"].endswith("# default, not supported yet")


def test_print_config_output_is_toml_that_loads_back(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "app:x",
        "-b",
        "[::1]:0",
        "--access-logformat",
        '%(h)s "%(r)s"',
        "--root-path",
        "/é",
    )
    (tmp_path / "corral.toml").write_text(format_config(config))
    again = load(tmp_path)
    assert again.as_dict() == config.as_dict()
    assert tomllib.loads(format_config(config))["access_log_format"] == '%(h)s "%(r)s"'


# --- kinds and process settings ----------------------------------------------


def test_value_kinds() -> None:
    assert Size().parse("10M") == 10 * 1024**2
    assert Size().parse("512k") == 512 * 1024
    assert Size().parse("1GiB") == 1024**3
    assert Size().parse(7) == 7
    assert [Bool().parse(v) for v in ("yes", "0", "ON", "False")] == [True, False, True, False]
    assert Octal(0o777).parse("022") == 0o22 == Octal(0o777).parse("0o22")
    with pytest.raises(ValueError, match="expected true or false"):
        Bool().parse("2")


def test_parse_env_file() -> None:
    text = (
        '# comment\n\nA=1\nexport B = two words # note\nC=\'lit #x \\n\'\nD="esc\\n\\"q\\""\nE=\n'
    )
    assert parse_env_file(text) == {
        "A": "1",
        "B": "two words",
        "C": "lit #x \\n",
        "D": 'esc\n"q"',
        "E": "",
    }
    with pytest.raises(ValueError, match="line 1: expected KEY=VALUE"):
        parse_env_file("not a pair\n")
    with pytest.raises(ValueError, match="line 1: missing closing quote"):
        parse_env_file('A="open\n')


def test_apply_process_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "site").mkdir()
    (tmp_path / ".env").write_text("FROM_FILE=1\nKEEP=file\nOWN=file\n")
    config = load(
        tmp_path,
        "--chdir",
        "site",
        "--pythonpath",
        "lib",
        "--env-file",
        ".env",
        "-e",
        "RAW=2",
        "-e",
        "KEEP=raw",
    )
    environ = {"KEEP": "mine", "OWN": "mine"}
    path = ["/already"]
    apply_process_settings(config, environ, path)
    assert Path.cwd() == tmp_path / "site"
    assert path == [str(tmp_path / "site" / "lib"), str(tmp_path / "site"), "/already"]
    # The env file never replaces a variable already set; -e does.
    assert environ == {"KEEP": "raw", "OWN": "mine", "FROM_FILE": "1", "RAW": "2"}
    apply_process_settings(config, environ, path)  # twice is harmless
    assert len(path) == 3


def test_apply_process_settings_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(
        ConfigError, match=r"cannot change directory to .*nowhere.* \(chdir, command line --chdir\)"
    ):
        apply_process_settings(load(tmp_path, "--chdir", "nowhere"), {}, [])
    with pytest.raises(ConfigError, match=r"cannot read env_file .*\(command line --env-file\)"):
        apply_process_settings(load(tmp_path, "--env-file", "missing.env"), {}, [])


def test_settings_docs_are_up_to_date() -> None:
    committed = (ROOT / "docs" / "settings.md").read_text()
    assert committed == render(), "run: python -m corral.config.docs > docs/settings.md"
    for name in SETTINGS:
        assert f"### `{name}`" in committed


def test_python_executable_is_unaffected() -> None:
    # load_config never touches sys.path: only apply_process_settings does.
    before = list(sys.path)
    load_config(["--pythonpath", "/x"], {}, Path("/"))
    assert sys.path == before
