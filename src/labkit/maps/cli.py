"""``labkit maps``: circuit simulation (more of the MAPS pipeline lands here as it is built)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from labkit.core.cli import model_option, settings_epilog, system_app

app = system_app("MAPS (Zhu et al., ICLR 2025, arXiv:2501.10768): SPICE netlists simulated by labkit's own "
                  "modified nodal analysis (ngspice as an optional cross-check).")

UNITS = {"v": "V", "i": "A"}


def _settings(*sections: str) -> str:
    from labkit.maps.config import MapsConfig

    return settings_epilog(MapsConfig, *sections)


def _fmt(value: object) -> str:
    if isinstance(value, complex):
        import cmath

        return f"{abs(value):.6g} ∠ {cmath.phase(value) * 57.29577951308232:.4g}°"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


@app.command("simulate")
def simulate_cmd(
    netlist: Annotated[Path, typer.Argument(help="SPICE netlist (R V I E G F H C L; .op/.ac/.tran or a .control "
                                                 "block with print ... ; measurement of LABEL).")],
    analysis: Annotated[str | None, typer.Option(help="op, ac, tran or dc (default: the netlist's first).")] = None,
    backend: Annotated[str, typer.Option(help="auto (the own simulator; a deck using SPICE it does not read - "
                                               "nonlinear devices, .model, .subckt, .include, .param, .dc ... - "
                                               "runs on ngspice when installed, else one line naming the feature), "
                                               "own (modified nodal analysis) or ngspice (cross-check).")] = "auto",
    method: Annotated[str, typer.Option(help="Transient integration: trap (trapezoidal) or be (backward Euler).")
                      ] = "trap",
    ill_conditioned: Annotated[float, typer.Option(help="Condition number above which no numbers are reported.", min=1)
                               ] = 1e12,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole result as JSON.")] = False,
    title: Annotated[bool, typer.Option("--title/--no-title", help=(
        "The first line is the deck's title, as in SPICE and ngspice (default). --no-title for netlists without "
        "one, e.g. written by a model in the MAPS pipeline."))] = True,
) -> None:
    """Simulate a netlist: status (ok / singular with the part named / ill_conditioned with the condition
    number), measured quantities, node voltages and branch currents. Exit code 3 when not ok."""
    from labkit.core.errors import DataError
    from labkit.maps.netlist import looks_like_element, parse_netlist
    from labkit.maps.simulate import simulate

    if not netlist.exists():
        raise DataError("file not found", path=str(netlist))
    from labkit.maps import ngspice
    from labkit.maps.netlist import Unsupported

    if backend not in ("auto", "own", "ngspice"):
        raise typer.BadParameter("auto, own or ngspice", param_hint="--backend")
    text = netlist.read_text(errors="replace")
    try:
        net = parse_netlist(text, path=str(netlist), title=title)
    except Unsupported as exc:
        if backend != "auto" or not ngspice.available():
            raise
        typer.echo(f"engine: ngspice (the own simulator does not read it: {exc})", err=True)
        result = ngspice.run_deck(netlist)
        result.detail = f"{result.detail}; the own simulator does not read it: {exc}"
        _show(result, as_json, {})
        if not result.ok:
            raise typer.Exit(3) from None
        return
    first = text.splitlines()[0] if text.strip() else ""
    if title and looks_like_element(first):
        typer.echo(f"note: {netlist}:1 '{first.strip()}' is the deck's title (SPICE reads line 1 as the title); "
                   "pass --no-title if it is an element", err=True)
    if backend == "ngspice":
        result = ngspice.run_ngspice(net, analysis=analysis or (net.analyses[0].kind if net.analyses else "op"))
    else:
        try:
            result = simulate(net, analysis, ill=ill_conditioned, method=method)
        except ValueError as exc:
            raise DataError(str(exc), path=str(netlist)) from None
    units = {key: UNITS[ms.kind] for key, ms in zip(net.measurement_keys(), net.measurements, strict=True)}
    _show(result, as_json, units)
    if not result.ok:
        raise typer.Exit(3)


def _show(result: Any, as_json: bool, units: dict[str, str]) -> None:
    """A result as JSON, or as text: status, then the measurements and the operating point, or a table of
    every tenth point of a sweep."""
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        cond = f", condition number {result.condition:.3g}" if result.condition is not None else ""
        typer.echo(f"status: {result.status}{cond}" + (f" ({result.detail})" if result.detail else ""))
        if result.ok and result.axis is None:
            for key, value in result.measurements.items():
                typer.echo(f"  {key} = {_fmt(value)} {units.get(key, '')}".rstrip())
            typer.echo("node voltages: " + ", ".join(f"v({n}) = {_fmt(v)}" for n, v in result.node_voltages.items()))
            if result.branch_currents:
                typer.echo("branch currents: " + ", ".join(f"i({n}) = {_fmt(v)}"
                                                          for n, v in result.branch_currents.items()))
        elif result.ok:
            label = {"ac": "f (Hz)", "dc": "sweep"}.get(result.analysis, "t (s)")
            series = result.measurements or {f"v({k})": v for k, v in result.node_voltages.items()}
            typer.echo(f"{label:>12} " + " ".join(f"{k:>16}" for k in series))
            picks = sorted(set(range(0, len(result.axis), max(1, len(result.axis) // 10))) | {len(result.axis) - 1})
            for row in picks:
                typer.echo(f"{result.axis[row]:12.6g} " + " ".join(f"{_fmt(series[k][row]):>16}" for k in series))


@app.command("generate", epilog=_settings("generate"))
def generate_cmd(
    out: Annotated[Path, typer.Option(help="Dataset folder; an existing one with the same settings is continued.")],
    n: Annotated[int | None, typer.Option(help="Circuits (v11: 20,000).")] = None,
    seed: Annotated[int | None, typer.Option(help="Stream seed (default 0).")] = None,
    reactive: Annotated[bool | None, typer.Option("--reactive/--dc", help=(
        "Also C/L elements with AC-amplitude and transient questions (default: DC only, as v11)."))] = None,
    render: Annotated[bool | None, typer.Option("--render/--no-render", help="Draw PNG+SVG diagrams.")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default 2).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")] = None,
    overrides: Annotated[list[str] | None, typer.Option("--set", "-s", help="Dotted override, e.g. generate.dpi=96")
                         ] = None,
) -> None:
    """Random grid circuits (v11 distribution, defects fixed): diagram, netlist and simulated Q/A pairs,
    in parallel and resumable, with a statistics file."""
    import yaml

    from labkit.core.config import load_config, to_dict
    from labkit.core.errors import ConfigError
    from labkit.core.runs import CONFIG, Run
    from labkit.maps.config import MapsConfig
    from labkit.maps.method import generate_run

    given = {"n": n, "seed": seed, "reactive": reactive, "render": render, "workers": workers}
    sets = [f"generate.{k}={json.dumps(v)}" for k, v in given.items() if v is not None]
    cfg = load_config(MapsConfig, config, sets + list(overrides or []))
    out.mkdir(parents=True, exist_ok=True)
    saved = out / CONFIG
    mine = to_dict(cfg.generate)
    if saved.exists():
        theirs = yaml.safe_load(saved.read_text()) or {}
        differ = [k for k in mine if k not in ("n", "workers") and theirs.get(k) != mine[k]]
        if differ:
            raise ConfigError(f"{out} holds a dataset made with other settings ({', '.join(differ)}); use a new --out")
        typer.echo(f"continuing {out}", err=True)
    saved.write_text(yaml.safe_dump(mine, sort_keys=False))
    stats = generate_run(cfg.generate, Run(out))
    t = stats["throughput"]
    typer.echo(f"{stats['circuits']} circuits, {stats['questions']} questions -> {out}/circuits.jsonl "
               f"(made now: {t['circuits_this_call']} in {t['seconds']} s"
               + (f", {t['circuits_per_second']}/s" if t["circuits_per_second"] else "") + ")")
    if stats["circuits"]:
        typer.echo(f"mean nodes {stats['num_nodes']['mean']:.2f}, branches {stats['num_branches']['mean']:.2f}, "
                   f"rejected draws per circuit {stats['rejected_draws']['per_circuit']:.2f}; {out}/stats.json")


@app.command("solve")
def solve_cmd(
    question: Annotated[str, typer.Option(help="The question (asked quantities are matched to measured labels).")],
    netlist: Annotated[Path | None, typer.Option(help="Netlist of the figure (oracle perception).")] = None,
    image: Annotated[Path | None, typer.Option(help="Circuit diagram for the perception model.")] = None,
    ppm: Annotated[str | None, typer.Option(help="Perception VLM spec, e.g. openai:Qwen/Qwen2.5-VL-7B@URL.")] = None,
    reasoner: model_option("--reasoner", "Reasoner LLM (paper: claude-3-5-sonnet).") = "smollm2",
    quantity: Annotated[list[str] | None, typer.Option(help="Asked quantity (repeatable); default: labels "
                                                       "mentioned in the question.")] = None,
    repair_rounds: Annotated[int, typer.Option(help="At most this many LLM repairs of the netlist.", min=0)] = 2,
) -> None:
    """MAPS on one problem: perception, validation/repair, <Empty> filling, simulation, answer; prints JSON
    ``{"answers": {quantity: value}, "trace": [...]}``."""
    from labkit.core.errors import ConfigError
    from labkit.core.models import load_model
    from labkit.maps.pipeline import solve_maps

    if netlist is None and (image is None or ppm is None):
        raise ConfigError("give --netlist, or --image with --ppm")
    text = netlist.read_text() if netlist is not None else None
    answer = solve_maps(question, reasoner=load_model(reasoner), netlist=text, image=image,
                        ppm=load_model(ppm) if ppm else None, quantities=list(quantity or []),
                        repair_rounds=repair_rounds)
    typer.echo(json.dumps({"answers": answer.answers, "error": answer.error, "trace": answer.trace},
                          ensure_ascii=False, indent=2, default=str))
    if answer.error:
        raise typer.Exit(3)


@app.command("eval", epilog=_settings("solve", "data", "methods", "rtol", "atol", "netlists", "max_items",
                                                  "workers"))
def eval_cmd(
    data: Annotated[str | None, typer.Option(help="simple_circuit_eval (default), a folder with qa.json, or a "
                                                  "generated dataset.")] = None,
    netlists: Annotated[Path | None, typer.Option(help="Folder of <id>.cir netlists for the oracle PPM.")] = None,
    methods: Annotated[str | None, typer.Option(help="Comma list of direct, cot, maps (default all three).")] = None,
    reasoner: model_option("--reasoner", "Reasoner LLM, the same for every method (default smollm2).") = None,
    ppm: Annotated[str | None, typer.Option(help="oracle (default) or a VLM spec.")] = None,
    max_items: Annotated[int | None, typer.Option(help="At most this many problems.")] = None,
    name: Annotated[str, typer.Option(help="Run name.")] = "eval",
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")] = None,
    overrides: Annotated[list[str] | None, typer.Option("--set", "-s", help="Dotted override.")] = None,
    resume: Annotated[Path | None, typer.Option(help="Continue this run folder.")] = None,
) -> None:
    """Accuracy of direct answer, chain of thought and MAPS with the same reasoner, judged numerically
    (rtol 1%, all slots of a problem right), per unit and per chapter."""
    from labkit.core.cli import resolve_config
    from labkit.core.config import to_dict
    from labkit.core.runs import resume_run, start_run
    from labkit.maps.config import MapsConfig
    from labkit.maps.method import eval_run
    from labkit.maps.report import eval_report

    given = {"data": data, "netlists": str(netlists) if netlists else None, "max_items": max_items,
             "solve.reasoner": reasoner, "solve.ppm": ppm, "methods": f"[{methods}]" if methods else None}
    sets = [f"{k}={v}" for k, v in given.items() if v is not None]
    cfg = resolve_config(MapsConfig, config, sets + list(overrides or []), resume)
    run = resume_run(resume) if resume else start_run("maps", name, to_dict(cfg))
    typer.echo(f"run: {run.dir}", err=True)
    result = eval_run(cfg, run)
    text, metrics = eval_report(cfg, run.dir, result)
    run.write_metrics(metrics)
    run.write_report(text)
    for method, row in result["table"].items():
        typer.echo(f"{method:7} problems {row['problem_accuracy']:.3f} ({row['problems']})  slots "
                   f"{row['slot_accuracy']:.3f} ({row['slots']})  failed calls {row['failed_calls']}")
    typer.echo(f"report: {run.dir / 'report.md'}")


@app.command("train-ppm")
def train_ppm_cmd(
    data: Annotated[Path, typer.Option(help="Dataset from `labkit maps generate` (train split is used).")],
    out: Annotated[Path, typer.Option(help="Folder for the LoRA adapter, settings and loss log.")],
    base: Annotated[str, typer.Option(help="tiny (random LLaVA for CPU smoke runs) or a local HF VLM folder.")
                    ] = "tiny",
    steps: Annotated[int, typer.Option(help="Optimiser steps (paper: 2,000).", min=1)] = 2000,
    rank: Annotated[int, typer.Option(help="LoRA rank (paper: 50).", min=1)] = 50,
    lr: Annotated[float, typer.Option(help="Peak learning rate, cosine decay, 2% warm-up (paper: not given).", min=0)
                  ] = 1e-4,
    batch_size: Annotated[int, typer.Option(help="Pairs per step (paper: not given).", min=1)] = 4,
    max_items: Annotated[int | None, typer.Option(help="Use at most this many training pairs.", min=1)] = None,
) -> None:
    """LoRA fine-tuning of a vision-language model on (diagram, netlist) pairs."""
    from labkit.maps.ppm import TrainConfig, dataset_pairs, train_ppm

    pairs = dataset_pairs(data, "train")[: max_items or None]
    cfg = TrainConfig(base=base, steps=steps, rank=rank, alpha=2 * rank, lr=lr, batch_size=batch_size)
    from tqdm.auto import tqdm

    bar = tqdm(total=steps, desc="train-ppm")
    result = train_ppm(cfg, [(img, net) for _, img, net in pairs], out,
                       log=lambda step, loss: (bar.update(1), bar.set_postfix(loss=f"{loss:.3f}")))
    bar.close()
    typer.echo(f"{len(pairs)} pairs, {steps} steps in {result['seconds']} s: loss {result['first_loss']:.3f} -> "
               f"{result['last_loss']:.3f}; {result['trainable_params']:,} trainable parameters; adapter in {out}")


@app.command("eval-ppm")
def eval_ppm_cmd(
    data: Annotated[Path, typer.Option(help="Dataset from `labkit maps generate`.")],
    model: Annotated[Path | None, typer.Option(help="Folder written by train-ppm.")] = None,
    predictions: Annotated[Path | None, typer.Option(help="JSONL of {id, netlist} from any perception model.")
                           ] = None,
    split: Annotated[str, typer.Option(help="train, valid or test.")] = "test",
    max_items: Annotated[int | None, typer.Option(help="Score at most this many circuits.", min=1)] = None,
    max_new_tokens: Annotated[int, typer.Option(help="Decoding length (paper: 1000).", min=1)] = 1000,
) -> None:
    """Perception metrics: parses and simulates, exact match, component counts, value multisets, signed
    simulation results (relative tolerance), typed-graph isomorphism; numeric and symbolic labels apart."""
    from labkit.core.errors import ConfigError, DataError
    from labkit.maps.data import read_predictions
    from labkit.maps.eval import ppm_metrics, ppm_summary
    from labkit.maps.ppm import dataset_pairs, load_trained, predict

    pairs = dataset_pairs(data, split)[: max_items or None]
    if predictions is not None:
        given = read_predictions(predictions)
        missing = [pid for pid, _, _ in pairs if pid not in given]
        if len(missing) == len(pairs):
            raise DataError(f"no id of the {split} split of {data} (its first: {pairs[0][0]!r})",
                            path=str(predictions))
        if missing:  # scored as an empty netlist (fails every check), and said
            typer.echo(f"{len(missing)} of {len(pairs)} circuits have no prediction in {predictions} (scored as "
                       f"empty); first: {missing[0]}", err=True)
        preds = [given.get(pid, "") for pid, _, _ in pairs]
    elif model is not None:
        trained, encoder = load_trained(model)
        preds = predict(trained, encoder, [img for _, img, _ in pairs], max_new_tokens)
    else:
        raise ConfigError("give --model (a train-ppm folder) or --predictions")
    rows = [ppm_metrics(p, label) | {"id": pid, "symbolic": "<Empty>" in label}
            for p, (pid, _, label) in zip(preds, pairs, strict=True)]
    report = {"all": ppm_summary(rows), "numeric": ppm_summary([r for r in rows if not r["symbolic"]]),
              "symbolic": ppm_summary([r for r in rows if r["symbolic"]])}
    for part, summary in report.items():
        rates = ", ".join(f"{k} {'n/a' if v['rate'] is None else format(v['rate'], '.3f')}"
                          for k, v in summary.items() if isinstance(v, dict))
        typer.echo(f"{part} ({summary['pairs']}): {rates}")
    if model is not None:
        (model / f"eval-{split}.json").write_text(json.dumps({"summary": report, "rows": rows}, indent=1))


def demo(folder: Path) -> str:
    from labkit.maps.demo import run_demo

    return run_demo(folder)


if __name__ == "__main__":
    app()
