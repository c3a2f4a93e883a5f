"""Helping with unknown names: "did you mean" and what gunicorn names corral lacks."""

from __future__ import annotations

from collections.abc import Iterable

#: gunicorn settings (config-file names) that corral does not have. A
#: gunicorn.conf.py setting one of them gets a warning; the value is ignored.
GUNICORN_ONLY = frozenset(
    """
    asgi_disconnect_grace_period asgi_loop ca_certs capture_output casefold_http_method
    cert_reqs child_exit ciphers control_socket control_socket_disable control_socket_mode
    default_proc_name dirty_apps dirty_graceful_timeout dirty_post_fork dirty_threads
    dirty_timeout dirty_worker_exit dirty_worker_init dirty_workers
    disable_redirect_access_to_syslog do_handshake_on_connect dogstatsd_tags
    enable_backlog_metric enable_stdio_inheritance forwarder_headers header_map
    http2_cleartext http2_initial_window_size http2_max_concurrent_streams
    http2_max_frame_size http2_max_header_list_size http_parser http_protocols initgroups
    logconfig logconfig_dict logconfig_json logger_class nworkers_changed on_dirty_starting
    on_exit on_reload on_starting paste permit_obsolete_folding
    permit_unconventional_http_method permit_unconventional_http_version post_fork
    post_request post_worker_init pre_exec pre_fork pre_request proc_name protocol
    proxy_allow_ips proxy_protocol raw_paste_global_conf reload_engine reload_extra_files
    secure_scheme_headers sendfile spew ssl_context ssl_version statsd_host statsd_prefix
    strip_header_spaces suppress_ragged_eofs syslog syslog_addr syslog_facility
    syslog_prefix tmp_upload_dir uwsgi_allow_ips websocket_max_message_size when_ready
    worker_abort worker_class worker_exit worker_int worker_tmp_dir
    """.split()  # noqa: SIM905 - a word list reads better than 80 quoted strings
)

#: gunicorn's command-line-only names: meaningless inside a config file, ignored quietly.
GUNICORN_CLI_ONLY = frozenset({"config", "check_config", "print_config"})

#: Why a well-known gunicorn or uvicorn setting has no corral counterpart.
HINTS = {
    "worker_class": "corral serves WSGI and ASGI apps itself; --interface forces one",
    "worker_tmp_dir": "corral workers do not use heartbeat files",
    "proc_name": "corral names its processes itself",
    "sendfile": "corral uses sendfile where it can",
}

#: gunicorn and uvicorn flags that corral does not have, by setting name.
FOREIGN_FLAGS = {
    "-k": "worker_class",
    "--worker-class": "worker_class",
    "--worker-tmp-dir": "worker_tmp_dir",
    "-n": "proc_name",
    "--name": "proc_name",
    "--no-sendfile": "sendfile",
}


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or an empty string."""
    close = _close_matches(word, candidates, cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The closest candidate, or None."""
    close = _close_matches(word, candidates, cutoff)
    return close[0] if close else None


def _close_matches(word: str, candidates: Iterable[str], cutoff: float) -> list[str]:
    # Imported on a user's mistake only: the master keeps what it imports for its
    # whole life, and difflib (with heapq) is ~180 KiB of it.
    import difflib

    return difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
