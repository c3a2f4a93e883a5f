"""The command line of bench/run.py: choose, install, run interleaved rounds, report."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness import report, runner, stats
from harness.scenarios import SCENARIOS, Scenario
from harness.servers import SERVERS
from harness.venv import APPS_DIR, BENCH_DIR, ensure_venv, log, machine, reexec_in_venv, versions


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__)
    p.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated; default: all")
    p.add_argument(
        "--servers",
        default="",
        help="comma-separated subset (default: every server "
        "of each scenario's interface); 'ceiling' is the Django in-process row",
    )
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--duration", type=int, default=10, help="seconds measured per run")
    p.add_argument("--warmup", type=int, default=3, help="seconds of load before each measurement")
    p.add_argument("--connections", type=int, default=64, help="wrk connections")
    p.add_argument("--idle-connections", type=int, default=1000)
    p.add_argument("--idle-rate", type=float, default=200.0, help="requests/s over all idle conns")
    p.add_argument("--server-cpu", default="0")
    p.add_argument("--client-cpu", default="1")
    p.add_argument("--baseline", type=Path, help="a --json file: corral only, now / baseline")
    p.add_argument("--json", type=Path, help="write every run and the summary here")
    p.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="markdown + PNG dir")
    p.add_argument("--no-install", action="store_true", help="never touch bench/.venv")
    p.add_argument("--list", action="store_true", help="print scenarios and servers, then exit")
    args = p.parse_args(argv)
    args.scenarios = [s for s in args.scenarios.split(",") if s]
    args.servers = [s for s in args.servers.split(",") if s]
    for s in args.scenarios:
        if s not in SCENARIOS:
            p.error(f"unknown scenario {s!r}; known: {', '.join(SCENARIOS)}")
    for s in args.servers:
        if s not in SERVERS and s != "ceiling":
            p.error(f"unknown server {s!r}; known: {', '.join(SERVERS)}, ceiling")
    return args


def plan(args: argparse.Namespace) -> dict[str, list[str]]:
    out = {}
    for name in args.scenarios:
        sc = SCENARIOS[name]
        names = sc.servers(tuple(args.servers)) + (["ceiling"] if sc.ceiling else [])
        if args.baseline is not None:
            names = [n for n in names if n.startswith("corral")]
        if args.servers:
            names = [n for n in names if n in args.servers]
        if names:
            out[name] = names
    return out


def warnings_for(result: dict[str, Any], args: argparse.Namespace) -> list[str]:
    warn = []
    if args.rounds < 5:
        warn.append(f"{args.rounds} round(s): a smoke test, not a measurement (>= 5 needed).")
    for name, summary in result["summary"].items():
        ngx, best = summary.get("nginx", {}), None
        py = {n: s for n, s in summary.items() if s.get("rounds") and n not in ("nginx", "ceiling")}
        if py and SCENARIOS[name].kind == "wrk":
            best = max(py, key=lambda n: py[n]["median"])
        if ngx.get("rounds") and best:
            margin = max(ngx["spread"], py[best]["spread"], 0.1)
            if ngx["median"] <= py[best]["median"] * (1 + margin):
                warn.append(
                    f"{name}: nginx ({ngx['median']:,.0f} req/s) is not clearly above "
                    f"{best}: wrk's core may be the bottleneck."
                )
        for server, s in py.items():
            if (s.get("wrk_cpu_pct") or 0) > 95:
                warn.append(
                    f"{name}: wrk used {s['wrk_cpu_pct']:.0f}% of its core against {server}."
                )
            if s["errors"]:
                warn.append(f"{name} {server}: {s['errors']:.0f} errors or non-2xx responses.")
            if s.get("failed"):
                warn.append(f"{name} {server}: {s['failed']} run(s) failed.")
        for server, s in summary.items():
            if not s.get("rounds"):
                warn.append(f"{name} {server}: every run failed: {s.get('failure', '')[:300]}")
    ok = [r for r in result["runs"] if r["ok"] and "core_other_pct" in r]
    noisy = [
        r for r in ok if r["core_other_pct"] > 5 or r["steal_pct"] > 5 or r["client_other_pct"] > 5
    ]
    if noisy:
        warn.append(
            f"other processes or steal took over 5% of a core in {len(noisy)} of {len(ok)} "
            "runs: the machine was not quiet (per-run figures in the JSON)."
        )
    for r in result["runs"]:
        lines = r.get("access_log_lines")
        if lines is not None and lines < r.get("requests", 0) * 0.9:
            warn.append(
                f"{r['scenario']} round {r['round']} {r['server']}: {lines} access log "
                f"lines for {r['requests']} requests: is the access log really on?"
            )
    return warn


def measures_peers(runs: list[dict[str, Any]]) -> bool:
    """Whether a server other than corral's variants ran. latest.md holds the figures
    against the peers: a run of corral alone (a quick check, or corral against
    corral-log) leaves it as it is."""
    return any(not SERVERS[run["server"]].is_corral for run in runs if run["server"] in SERVERS)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.list:
        for name, sc in SCENARIOS.items():
            print(f"{name:12} {sc.interface}  {', '.join(plan_one(sc))}")
        return 0
    ensure_venv(args.no_install)
    reexec_in_venv([str(BENCH_DIR / "run.py"), *argv, "--no-install"])
    todo = plan(args)
    if not todo:
        sys.exit("nothing to run: no server of --servers serves the chosen scenarios")
    meta, ver = machine(), versions()
    log(f"{meta['cpu']}; corral {ver.get('corral')} at {meta['corral_rev']}")
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="corral-bench-") as tmpname:
        tmp = Path(tmpname)
        site = None
        if any(SCENARIOS[n].django for n in todo):
            sys.path.insert(0, str(APPS_DIR))
            site = importlib.import_module("djangobench").prepare(tmp / "django", sys.executable)
        for name, servers in todo.items():
            sc = SCENARIOS[name]
            log(f"== {name}: {', '.join(servers)}")
            for rnd, server in runner.rounds_order(servers, args.rounds):
                run = runner.bench_one(server, sc, rnd, args, tmp, site)
                log(f"  round {rnd} {server:18} {describe(run)}")
                runs.append(run)
    result: dict[str, Any] = {
        "settings": settings(args),
        "machine": meta,
        "versions": ver,
        "runs": runs,
    }
    result["summary"] = {
        n: stats.summarize(SCENARIOS[n], [r for r in runs if r["scenario"] == n]) for n in todo
    }
    result["comparisons"] = {
        n: stats.comparisons(SCENARIOS[n], s) for n, s in result["summary"].items()
    }
    result["goals"] = [] if args.baseline else [
        g for n, s in result["summary"].items()
        for g in stats.goals(SCENARIOS[n], s, result["comparisons"][n])
    ]  # fmt: skip
    result["warnings"] = warnings_for(result, args)
    if args.baseline is not None:
        result["baseline"] = report.against_baseline(args.baseline, result)
    path = report.write(result, args.out, update_latest=measures_peers(runs))
    print((path).read_text())
    log(f"report: {path}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, default=str) + "\n")
        log(f"json: {args.json}")
    return 0


def plan_one(sc: Scenario) -> list[str]:
    names: list[str] = sc.servers()
    return names + (["ceiling"] if sc.ceiling else [])


def settings(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("rounds", "duration", "warmup", "connections", "idle_connections", "idle_rate",
            "server_cpu", "client_cpu")  # fmt: skip
    return {k: getattr(args, k) for k in keys}


def describe(run: dict[str, Any]) -> str:
    if not run["ok"]:
        failure: str = run.get("failure") or "?"
        return "FAILED: " + failure.splitlines()[0][:200]
    if run["server"] == "ceiling":
        return f"{run['rps']:>10,.0f} req/s in-process"
    text = (
        f"{run['rps']:>10,.0f} req/s" if "rps" in run else f"PSS {run['pss_kib'] / 1024:7.1f} MiB"
    )
    text += f"  p50 {run.get('p50_ms') or 0:.2f} ms  p99 {run.get('p99_ms') or 0:.2f} ms"
    if "server_cpu_pct" in run:
        text += f"  cpu {run['server_cpu_pct']:.0f}%  wrk {run['wrk_cpu_pct']:.0f}%"
    bad = (run.get("errors") or 0) + (run.get("non2xx") or 0)
    return text + (f"  errors {bad:.0f}" if bad else "")
