"""Reports: a markdown file and one PNG chart per scenario, with machine and versions."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from harness.scenarios import SCENARIOS
from harness.servers import SERVERS
from harness.stats import Summary, compare

Result = dict[str, Any]


def _f(x: float | None, fmt: str = "{:.2f}") -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else fmt.format(x)


def table(name: str, summary: dict[str, Summary]) -> list[str]:
    sc = SCENARIOS[name]
    idle = sc.kind == "idle"
    ceiling = summary.get("ceiling", {}).get("median")
    unit = "PSS MiB (median)" if idle else "req/s (median)"
    head = f"| server | {unit} | min - max | spread | p50 ms | p99 ms | errors | server CPU |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|"
    if not idle:  # bytes read per response (wrk), heads included: a short answer shows
        head, rule = head + " bytes/resp. |", rule + "---:|"
    if ceiling:
        head, rule = head + " share of ceiling |", rule + "---:|"
    rows = [head, rule]
    scale = 1 / 1024 if idle else 1.0
    fmt = "{:,.1f}" if idle else "{:,.0f}"
    for server, s in summary.items():
        label = "in-process ceiling (no server)" if server == "ceiling" else server
        note = SERVERS[server].note if server in SERVERS else ""
        label += f" ({note})" if note else ""
        if not s.get("rounds"):
            why = s.get("failure", "").splitlines()[0][:80] if s.get("failure") else ""
            empty = 6 + (not idle) + bool(ceiling)
            rows.append(f"| {label} | failed: {why} |" + " |" * empty)
            continue
        failed = f" ({s['failed']} failed)" if s["failed"] else ""
        row = (
            f"| {label}{failed} | {fmt.format(s['median'] * scale)} | "
            f"{fmt.format(s['min'] * scale)} - {fmt.format(s['max'] * scale)} | "
            f"{s['spread']:.1%} | {_f(s['p50_ms'])} | "
            f"{_f(s['p99_ms'])} | {s['errors']:.0f} | {_f(s['server_cpu_pct'], '{:.0f}%')} |"
        )
        if not idle:
            row += f" {_f(s.get('bytes_per_response'), '{:,.0f}')} |"
        if ceiling:
            row += f" {s['median'] / ceiling:.0%} |"  # ceiling > 0: .get("median") was true
        rows.append(row)
    return rows


def ratio_table(items: list[dict[str, Any]], label: str) -> list[str]:
    rows = [f"| {label} | ratio of medians | per-round ratios | spread | verdict |"]
    rows.append("|---|---:|---:|---:|---|")
    for c in items:
        paired = f"{c['paired_min']:.2f} - {c['paired_max']:.2f}" if c["paired_min"] else "n/a"
        target = f" (target {c['target']:g}x)" if c["target"] != 1 else ""
        name = c["a"] if c["a"] == c["b"] else f"{c['a']} / {c['b']}"
        rows.append(
            f"| {name}{target} | {c['ratio']:.2f}x | {paired} | {c['spread']:.1%} "
            f"| {c['verdict']} |"
        )
    return rows


def markdown(result: Result, charts: dict[str, str]) -> str:
    meta, st, ver = result["machine"], result["settings"], result["versions"]
    lines = [
        f"# corral benchmark, {meta['date']}",
        "",
        f"Machine: {meta['cpu']} ({meta['cpus']} CPUs), kernel {meta['kernel']}; corral "
        f"{ver.get('corral', '?')} at {meta['corral_rev']}.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in ver.items()) + ".",
        "",
        f"{st['rounds']} interleaved rounds of {st['duration']}s after a {st['warmup']}s warm-up; "
        f"wrk -t1 -c{st['connections']} on CPU {st['client_cpu']}, each server (one worker) on "
        f"CPU {st['server_cpu']}. Idle scenarios: {st['idle_connections']} keep-alive connections, "
        f"{st['idle_rate']:g} requests/s in total, PSS of all the server's processes.",
        "",
        "**Ratios are the headline.** Absolute req/s and MiB are specific to this machine, this "
        "kernel and this moment; compare ratios measured in the same run. A lead not larger "
        "than the spread ((max - min) / median of either server) is a tie.",
    ]
    if result["goals"]:
        lines += ["", "## Targets of the benchmark issue", ""] + [f"- {g}" for g in result["goals"]]
    for name, summary in result["summary"].items():
        lines += ["", f"## {name}", "", *table(name, summary)]
        items = result["comparisons"].get(name, [])
        if items:
            label = "peer PSS / corral PSS" if SCENARIOS[name].kind == "idle" else "corral / peer"
            lines += ["", *ratio_table(items, label)]
        if name in charts:
            lines += ["", f"![{name}]({charts[name]})"]
    if result.get("baseline"):
        b = result["baseline"]
        lines += ["", f"## Against the baseline {b['file']} ({b['date']}, {b['rev']})", ""]
        lines += ratio_table(b["comparisons"], "now / baseline")
    if result["warnings"]:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in result["warnings"]]
    return "\n".join(lines) + "\n"


def chart(name: str, summary: dict[str, Summary], meta: dict[str, Any], path: Path) -> bool:
    """A bar chart of the medians with min-max whiskers; corral's bars highlighted."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    idle = SCENARIOS[name].kind == "idle"
    scale = 1 / 1024 if idle else 1.0
    names = [n for n, s in summary.items() if s.get("rounds")]
    if not names:
        return False
    med = [summary[n]["median"] * scale for n in names]
    lo = [m - summary[n]["min"] * scale for n, m in zip(names, med, strict=True)]
    hi = [summary[n]["max"] * scale - m for n, m in zip(names, med, strict=True)]
    colors = [
        "tab:orange"
        if n.startswith("corral")
        else "tab:gray"
        if n in ("nginx", "ceiling", "floor")
        else "tab:blue"
        for n in names
    ]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(names) + 1.6))
    ax.barh(names, med, xerr=[lo, hi], color=colors, capsize=3)
    ax.invert_yaxis()
    ax.set_xlabel(
        "PSS MiB, lower is better" if idle else "requests/s (median, min-max), higher is better"
    )
    ax.set_title(
        f"{name} - {meta['date'][:10]}\n{meta['cpu']} (absolute numbers are machine-specific)",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def write(result: Result, out_dir: Path, update_latest: bool = True) -> Path:
    """``summary-DATE.md``, ``latest.md`` (if ``update_latest``) and ``SCENARIO-DATE.png``
    into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = result["machine"]["date"][:19].replace(":", "")
    charts = {}
    for name, summary in result["summary"].items():
        png = out_dir / f"{name}-{stamp}.png"
        if chart(name, summary, result["machine"], png):
            charts[name] = png.name
    text = markdown(result, charts)
    path = out_dir / f"summary-{stamp}.md"
    path.write_text(text)
    if update_latest:
        (out_dir / "latest.md").write_text(text)
    return path


def against_baseline(path: Path, result: Result) -> dict[str, Any]:
    """now / baseline for every (scenario, server) measured in both, with the tie rule."""
    old = json.loads(path.read_text())
    items = []
    for name, summary in result["summary"].items():
        lower = SCENARIOS[name].kind == "idle"
        for server, s in summary.items():
            o = old.get("summary", {}).get(name, {}).get(server, {})
            if s.get("rounds") and o.get("rounds") and s["median"] and o["median"]:
                c = compare(s, {**o, "by_round": {}}, 1.0, lower)
                items.append({"a": f"{name} {server}", "b": f"{name} {server}", **c})
    for key in ("duration", "connections", "server_cpu", "client_cpu", "warmup"):
        if old.get("settings", {}).get(key) != result["settings"][key]:
            result["warnings"].append(f"baseline used {key}={old.get('settings', {}).get(key)!r}")
    if old.get("machine", {}).get("cpu") != result["machine"]["cpu"]:
        result["warnings"].append("baseline ran on another CPU model: ratios are not meaningful")
    meta = old.get("machine", {})
    return {
        "file": str(path),
        "date": meta.get("date", "?"),
        "rev": meta.get("corral_rev", "?"),
        "comparisons": items,
    }
