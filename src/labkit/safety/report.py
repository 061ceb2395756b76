"""``labkit safety report`` and ``show``: tables, a bar chart per risk category, one trajectory."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from labkit.core.report import figure, markdown_table, save_figure
from labkit.safety.data import FAILURE_MODES
from labkit.safety.eval import agreement, summarize

COLUMNS = ("episodes", "safe", "unsafe", "score", "95% CI", "strict", "invalid", "agent err.", "round limit")


def _pct(x: float) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}"


def _row(label: str, r: dict[str, Any]) -> list[Any]:
    return [label, r["episodes"], r["safe"], r["unsafe"], _pct(r["score"]),
            f"[{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]", _pct(r["strict_score"]), r["invalid"],
            r["agent_errors"], r["round_limit"]]


def _table(title: str, rows: dict[str, dict[str, Any]], label: str) -> str:
    return f"**{title}**\n\n" + markdown_table((label,) + COLUMNS, [_row(k, v) for k, v in rows.items()])


def risk_chart(summaries: dict[str, dict[str, Any]], folder: Path, name: str = "safety_by_risk") -> str:
    """Horizontal bars: safety score per risk category and judge, with Wilson intervals."""
    judges = list(summaries)
    risks = list(next(iter(summaries.values()))["by_risk"]) if summaries else []
    fig, ax = figure(8.0, 0.5 + 0.55 * max(len(risks), 1) * max(len(judges), 1) ** 0.5)
    height = 0.8 / max(len(judges), 1)
    for j, judge in enumerate(judges):
        rows = [summaries[judge]["by_risk"].get(r) for r in risks]
        scores = [100 * r["score"] if r and not math.isnan(r["score"]) else 0.0 for r in rows]
        pairs = list(zip(scores, rows, strict=True))
        lows = [s - 100 * r["ci_low"] if r and not math.isnan(r["ci_low"]) else 0 for s, r in pairs]
        highs = [100 * r["ci_high"] - s if r and not math.isnan(r["ci_high"]) else 0 for s, r in pairs]
        ax.barh([i + j * height for i in range(len(risks))], scores, height=height, xerr=[lows, highs],
                label=judge, capsize=2)
    ax.set_yticks([i + height * (len(judges) - 1) / 2 for i in range(len(risks))])
    ax.set_yticklabels(risks, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("safety score (% of validly judged episodes labelled safe), 95% Wilson CI")
    ax.legend(fontsize=8, loc="lower right")
    return save_figure(fig, folder, name)


def write_report(folder: Path, episodes: list[dict[str, Any]], failed: list[dict[str, Any]], judges: list[str],
                 epochs: int, *, note: str = "", problems: int = 0) -> tuple[str, dict[str, Any]]:
    """The markdown report and the metrics dict for a run's episodes."""
    summaries = {j: summarize(episodes, j, epochs) for j in judges}
    lines = ["# Agent-SafetyBench run", ""]
    if note:
        lines += [note, ""]
    statuses = {s: sum(e["status"] == s for e in episodes) for s in ("final", "round_limit", "agent_error")}
    lines += [f"{len(episodes)} episodes finished ({statuses['final']} final answers, {statuses['round_limit']} "
              f"round-limit hits, {statuses['agent_error']} agent errors); {len(failed)} items failed in the harness; "
              f"{problems} malformed cases skipped at load (problems.txt). Tool calls: "
              f"{sum(e['tool_calls'] for e in episodes)}; malformed calls answered with an error: "
              f"{sum(e['malformed'] for e in episodes)}.", ""]
    if summaries:
        lines += [f"![safety by risk]({risk_chart(summaries, folder)})", ""]
    for judge, s in summaries.items():
        lines += [f"## Judge: {judge}", "",
                  "Score = safe / (safe + unsafe) over validly judged episodes (as the paper); strict = safe / all "
                  "episodes. Invalid = unparseable or undecided verdicts.", "",
                  _table("Overall", {"all": s["overall"]}, ""),
                  _table("By risk category", s["by_risk"], "risk"),
                  _table("Behavioural vs content", s["by_kind"], "kind"),
                  _table("Fulfillable vs not", s["by_fulfillable"], "case"),
                  _table("By failure mode", {f"{k} {FAILURE_MODES[int(k[1:])]}": v
                                             for k, v in s["by_failure_mode"].items()}, "mode")]
        if "pass_k" in s:
            pk = s["pass_k"]
            lines += [f"pass^{pk['k']} (safe in all {pk['k']} epochs): {_pct(pk['pass_k'])}% of {pk['cases']} cases; "
                      f"safe in at least one: {_pct(pk['any_safe'])}%; per-epoch scores: "
                      + ", ".join(_pct(x) for x in pk["per_epoch"]), ""]
    metrics: dict[str, Any] = {"episodes": len(episodes), "harness_failures": len(failed), "statuses": statuses,
                               "judges": summaries}
    if len(judges) > 1:
        metrics["agreement"] = {f"{a} vs {b}": agreement(episodes, a, b)
                                for i, a in enumerate(judges) for b in judges[i + 1:]}
        lines += ["## Judge agreement", "", markdown_table(
            ("judges", "both valid", "agree", "rate"),
            [(k, v["both_valid"], v["agree"], _pct(v["rate"])) for k, v in metrics["agreement"].items()])]
    return "\n".join(lines), metrics


def _short(text: Any, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + f" ...[{len(text) - limit} more chars]"


def format_trajectory(episode: dict[str, Any], *, width: int = 1200) -> str:
    """One episode, readable: turns, tool calls with arguments, results, final answer, verdicts."""
    out = [f"case {episode['case_id']} (epoch {episode['epoch']}): {episode['risk']}; failure modes "
           f"{','.join(map(str, episode['failure_modes']))}; fulfillable {int(episode['fulfillable'])}",
           f"status {episode['status']} after {episode['rounds']} round(s); {episode['tool_calls']} tool call(s); "
           f"{episode['malformed']} malformed; protocol {episode['protocol']}"
           + (f"; error: {episode['error']}" if episode.get("error") else ""), ""]
    for m in episode["messages"]:
        role = m["role"]
        if role == "system":
            out.append(f"[system] {_short(m.get('content'), 300)}")
        elif role == "user":
            out.append(f"[{'harness' if m.get('name') == 'labkit' else 'user'}] {_short(m.get('content'), width)}")
        elif role == "assistant":
            if m.get("content"):
                out.append(f"[assistant] {_short(m['content'], width)}")
            for c in m.get("tool_calls") or []:
                out.append(f"[call] {c['function']['name']}({_short(c['function'].get('arguments'), width)})")
        elif role == "tool":
            out.append(f"[result {m.get('name', '')}] {_short(m.get('content'), width)}")
    out.append("")
    for log in episode.get("engine", []):
        out.append(f"  engine: {log['tool']} -> {log['op']} ({log['source']})"
                   + (f", dropped {log['dropped']}" if log.get("dropped") else ""))
    for judge, v in episode.get("verdicts", {}).items():
        label = v.get("label") or "INVALID"
        out.append(f"verdict [{judge}]: {label}" + (f" - {v['error']}" if v.get("error") else ""))
        if v.get("analysis"):
            out.append(f"  analysis: {_short(v['analysis'], width)}")
        if v.get("label") is None and v.get("raw"):
            out.append(f"  raw: {_short(json.dumps(v['raw'], ensure_ascii=False), width)}")
    return "\n".join(out)
