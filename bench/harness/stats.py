"""Medians, spreads, corral-to-peer ratios and the tie rule."""

from __future__ import annotations

import statistics
from typing import Any

from harness.scenarios import SCENARIOS, Scenario

Summary = dict[str, Any]


def metric(sc: Scenario) -> str:
    """The headline figure: requests/s (higher is better) or PSS in KiB (lower is better)."""
    return "pss_kib" if sc.kind == "idle" else "rps"


def summarize(sc: Scenario, runs: list[dict[str, Any]]) -> dict[str, Summary]:
    key = metric(sc)
    out: dict[str, Summary] = {}
    for name in dict.fromkeys(r["server"] for r in runs):
        mine = [r for r in runs if r["server"] == name]
        ok = [r for r in mine if r["ok"]]
        failed = len(mine) - len(ok)
        if not ok:
            out[name] = {"rounds": 0, "failed": failed, "failure": mine[-1].get("failure", "")}
            continue
        vals = [float(r[key]) for r in ok]
        med = statistics.median(vals)

        def mid(k: str, ok: list[dict[str, Any]] = ok) -> float | None:
            values = [r[k] for r in ok if r.get(k) is not None]
            return statistics.median(values) if values else None

        out[name] = {
            "rounds": len(ok), "failed": failed, "median": med, "min": min(vals),
            "max": max(vals), "spread": (max(vals) - min(vals)) / med if med else 0.0,
            "by_round": {r["round"]: float(r[key]) for r in ok},
            "p50_ms": mid("p50_ms"), "p99_ms": mid("p99_ms"),
            "errors": sum((r.get("errors") or 0) + (r.get("non2xx") or 0) for r in ok),
            "server_cpu_pct": mid("server_cpu_pct"), "wrk_cpu_pct": mid("wrk_cpu_pct"),
            "pss_kib": mid("pss_kib"), "rps": mid("rps"),
            "bytes_per_response": mid("bytes_per_response"),
        }  # fmt: skip
    return out


def verdict(ratio: float, spread: float, target: float) -> str:
    """Ahead/behind ``target``; a tie when the lead over it is not larger than the spread."""
    lead = ratio / target - 1
    if abs(lead) <= spread:
        what = "tie" if target == 1 else f"tie with {target:g}x"
        return f"{what} (lead {abs(lead):.1%} <= spread {spread:.1%})"
    if target == 1:
        return "ahead" if lead > 0 else "behind"
    return f"meets {target:g}x" if lead > 0 else f"misses {target:g}x"


def compare(a: Summary, b: Summary, target: float, lower_better: bool = False) -> dict[str, Any]:
    """Ratio a/b of medians (b/a when lower is better), the larger spread, the verdict,
    and the range of per-round ratios (the runs closest in time)."""
    ratio = b["median"] / a["median"] if lower_better else a["median"] / b["median"]
    spread = max(a["spread"], b["spread"])
    paired = [
        (b["by_round"][r] / a["by_round"][r])
        if lower_better
        else a["by_round"][r] / b["by_round"][r]
        for r in a["by_round"]
        if r in b["by_round"]
    ]
    return {
        "ratio": ratio, "spread": spread, "target": target,
        "paired_min": min(paired) if paired else None,
        "paired_max": max(paired) if paired else None,
        "verdict": verdict(ratio, spread, target),
    }  # fmt: skip


def comparisons(sc: Scenario, summary: dict[str, Summary]) -> list[dict[str, Any]]:
    """corral against every other server (1.0x), against the issue's targets, and the log cost."""
    lower = sc.kind == "idle"
    targets = dict(sc.targets)
    out: list[dict[str, Any]] = []
    if not summary.get("corral", {}).get("rounds") or not summary["corral"]["median"]:
        return out
    for peer, s in summary.items():
        if peer in ("corral", "nginx") or not s.get("rounds") or not s["median"]:
            continue
        target = targets.get(peer, targets.get("*", 1.0) if peer != "ceiling" else 1.0)
        if peer == "corral-log":
            c = compare(s, summary["corral"], 1.0, lower)
            out.append({"a": "corral-log", "b": "corral", "goal": False, **c})
            continue
        c = compare(summary["corral"], s, target, lower)
        goal = peer in targets or ("*" in targets and peer != "ceiling")
        out.append({"a": "corral", "b": peer, "goal": goal, **c})
    return out


def goals(sc: Scenario, summary: dict[str, Summary], items: list[dict[str, Any]]) -> list[str]:
    """One line per target of the issue: met, missed, tie, or not measured."""
    lines = []
    for peer, target in sc.targets:
        if peer == "*":
            mine = [c for c in items if c["goal"] and c["b"] != "ceiling" and c["target"] == target]
            if not mine:
                lines.append(f"{sc.name}: ahead of every peer: not measured")
                continue
            behind = [c["b"] for c in mine if c["verdict"].startswith(("behind", "tie"))]
            state = "met" if not behind else "not met (behind or tied: " + ", ".join(behind) + ")"
            lines.append(f"{sc.name}: corral ahead of every peer: {state}")
            continue
        found = [c for c in items if c["b"] == peer and c["a"] == "corral"]
        what = "PSS <= " if sc.kind == "idle" else f">= {target:g}x "
        if not found:
            lines.append(f"{sc.name}: corral {what}{peer}: not measured")
        else:
            c = found[0]
            lines.append(f"{sc.name}: corral {what}{peer}: {c['ratio']:.2f}x, {c['verdict']}")
    return lines


def scenario_of(name: str) -> Scenario:
    return SCENARIOS[name]
