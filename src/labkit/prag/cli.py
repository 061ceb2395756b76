"""``labkit prag``: index a corpus, encode documents as LoRA adapters, ask in four modes, evaluate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from labkit.core.cli import ConfigOpt, ResumeOpt, SetOpt, model_option, overrides_from, settings_epilog, system_app
from labkit.core.errors import ConfigError
from labkit.prag.config import PragConfig

app = system_app("Parametric RAG (Su et al., SIGIR 2025, arXiv:2501.15915): documents as FFN LoRA adapters "
                  "merged at query time, next to in-context RAG.")

SETTINGS = settings_epilog(PragConfig)
IndexOpt = Annotated[str | None, typer.Option("--index", help="Index folder (default runs/prag/index).")]
StoreOpt = Annotated[str | None, typer.Option("--store", help="Adapter store folder (default runs/prag/adapters).")]
ModelOpt = model_option("--model", "Generator; LoRA adapters merge into its weights, so local ones only (paper: "
                                    "LLaMA3.2-1B, Qwen2.5-1.5B, LLaMA3-8B).", short="-m",
                        specs="smollm2 (embedded default), hf:<hub id or dir>")
AugmentedOpt = Annotated[Path | None, typer.Option("--augmented", help=(
    "JSONL of ready augmentations {id, text, rewrite, qa: [{question, answer}]} (e.g. from `prag fiction`)."))]


def _cfg(config: Path | None, overrides: list[str] | None, **given: Any) -> PragConfig:
    from labkit.core.config import load_config
    from labkit.prag.method import check_local_model

    sets = overrides_from(given)
    cfg = load_config(PragConfig, config, sets + list(overrides or []))
    check_local_model(cfg.model)
    return cfg


def _known(path: Path | None) -> dict[str, Any]:
    from labkit.prag.data import load_augmented

    return load_augmented(path) if path is not None else {}


@app.command("fiction")
def fiction_cmd(out: Annotated[Path, typer.Option(help="Folder for corpus.jsonl, augmented.jsonl, questions.jsonl.")],
                count: Annotated[int, typer.Option(help="Fictional entities.", min=1)] = 30,
                seed: Annotated[int, typer.Option(help="Name seed.", min=0)] = 0,
                two_hop: Annotated[int, typer.Option(help="Extra passages (a ferryman on one of the rivers), each with "
                                                          "a two-hop question needing it and the river's passage.",
                                                     min=0)] = 0) -> None:
    """Write a corpus of fictional entities (facts no model can know), its augmentation and held-out questions
    (each with its type: the entity and attribute asked, or two-hop)."""
    from labkit.prag.corpus import fictional_corpus

    docs = fictional_corpus(count, seed, two_hop)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w") as fh:
        fh.writelines(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in docs)
    with open(out / "augmented.jsonl", "w") as fh:
        fh.writelines(json.dumps({"id": d.id, "text": d.text, "rewrite": d.rewrite,
                                  "qa": [{"question": q, "answer": a} for q, a in d.qa]}) + "\n" for d in docs)
    with open(out / "questions.jsonl", "w") as fh:
        fh.writelines(json.dumps({"id": f"{d.id}-{k}", "question": q, "answer": a, "doc": d.id, "type": t}) + "\n"
                      for d in docs for k, ((q, a), t) in enumerate(zip(d.held_out, d.held_out_types, strict=True)))
    typer.echo(f"{len(docs)} passages, {sum(len(d.held_out) for d in docs)} held-out questions -> {out}")


@app.command("index", epilog=SETTINGS)
def index_cmd(corpus: Annotated[Path, typer.Option(help="JSONL/Parquet/TSV with id, text[, title].")],
              index: IndexOpt = None,
              dense: Annotated[bool, typer.Option(help="Also a dense MiniLM index.")] = False,
              config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Build the persistent BM25 index (bm25s) over a passage corpus."""
    import time

    from labkit.prag.data import load_corpus
    from labkit.prag.retrieve import build_index

    cfg = _cfg(config, overrides, index=index)
    start = time.perf_counter()
    passages = load_corpus(corpus)
    build_index(passages, Path(cfg.index), dense=dense)
    typer.echo(f"indexed {len(passages)} passages in {time.perf_counter() - start:.2f} s -> {cfg.index}")


@app.command("encode", epilog=SETTINGS)
def encode_cmd(corpus: Annotated[Path, typer.Option(help="The passages to parameterise.")],
               model: ModelOpt = None,
               augmenter: Annotated[str | None, typer.Option(help="same (default), template, or a model spec.")
                                    ] = None,
               augmented: AugmentedOpt = None, store: StoreOpt = None,
               workers: Annotated[int, typer.Option(help="Worker processes (each loads the model); Ray with --ray.",
                                                    min=1)] = 1,
               config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Augment (rewrite + 3 QA) and train one FFN LoRA per document; each document once per fingerprint."""
    from labkit.prag.data import load_corpus
    from labkit.prag.method import encode_run

    cfg = _cfg(config, overrides, model=model, augmenter=augmenter or ("template" if augmented else None),
               store=store, augmented=str(augmented) if augmented else None)
    result = encode_run(cfg, load_corpus(corpus), _known(augmented), workers=workers)
    per = result["seconds_per_document"]
    typer.echo(f"{result['passages']} passages: trained {result['trained']}, reused {result['reused']}, "
               f"failed {len(result['failed'])}" + (f"; {per:.2f} s and {result['bytes_per_document']:,} bytes "
                                                    "per document" if per else ""))
    for f in result["failed"]:
        typer.echo(f"  failed {f['id']}: {f['error']}", err=True)


@app.command("ask", epilog=SETTINGS)
def ask_cmd(question: Annotated[str, typer.Argument(help="The question.")],
            mode: Annotated[str, typer.Option(help="none, rag, prag (adapters only), combine, or unrelated (control: "
                                                   "adapters of non-retrieved passages).")] = "prag",
            model: ModelOpt = None, index: IndexOpt = None, store: StoreOpt = None, augmented: AugmentedOpt = None,
            k: Annotated[int | None, typer.Option("--k", help="Passages retrieved (paper: 3).")] = None,
            config: ConfigOpt = None, overrides: SetOpt = None) -> None:
    """Retrieve top-k, merge their adapters (prag/combine), generate; print the answer and the time split."""
    from labkit.prag.method import ask, load_generator, open_store
    from labkit.prag.retrieve import load_index

    cfg = _cfg(config, overrides, model=model, index=index, store=store, top_k=k,
               augmenter="template" if augmented else None, augmented=str(augmented) if augmented else None)
    gen = load_generator(cfg.model)
    result = ask(question, mode, cfg, gen, load_index(Path(cfg.index)), open_store(cfg, gen), _known(augmented))
    typer.echo(result["answer"].strip())
    t = result["seconds"]
    typer.echo(f"[{mode}] retrieved {result['retrieved']}; prompt {result['prompt_tokens']} tokens; retrieve "
               f"{t['retrieve']:.3f} s, load+merge {t['load_merge']:.3f} s, generate {t['generate']:.3f} s"
               + (f", encode {t['encode']:.1f} s" if t["encode"] else "")
               + (f"; no adapter for {result['missing_adapters']}" if result["missing_adapters"] else ""), err=True)


@app.command("eval", epilog=SETTINGS)
def eval_cmd(data: Annotated[Path | None, typer.Option(help="QA file: 2WQA dev.json, HotpotQA, popQA.tsv, CWQ, or "
                                                            "{question, answer} JSON/JSONL (config key data).")] = None,
             modes: Annotated[str | None, typer.Option(help="Comma list of none, rag, prag, combine, unrelated.")
                              ] = None,
             model: ModelOpt = None, index: IndexOpt = None, store: StoreOpt = None, augmented: AugmentedOpt = None,
             limit: Annotated[int | None, typer.Option(help="First N questions (paper: 300; config key "
                                                           "max_questions).", min=1)] = None,
             cot: Annotated[bool | None, typer.Option("--cot/--no-cot", help=(
                 "Take the text after 'the answer is' before the original cut at . , newline. Every mode is "
                 "instructed to answer that way, so the same extraction serves every mode (default)."))] = None,
             name: Annotated[str, typer.Option(help="Run name.")] = "eval",
             config: ConfigOpt = None, overrides: SetOpt = None, resume: ResumeOpt = None) -> None:
    """EM and F1 (original post-processing), answer-contained accuracy, latency and prompt tokens per mode, as a
    table and a plot. --resume RUN continues a killed run from the run alone (its config holds the QA file, the
    flags and the inputs' checksums) without repeating a finished question; a resume whose inputs differ is
    refused."""
    from labkit.core.config import to_dict
    from labkit.core.runs import start_run
    from labkit.prag.data import load_questions
    from labkit.prag.method import eval_run
    from labkit.prag.report import eval_report
    from labkit.prag.runs import check_inputs, resume_eval, write_inputs

    given = dict(model=model, index=index, store=store, modes=f"[{modes}]" if modes else None,
                 augmenter="template" if augmented else None,
                 augmented=str(augmented.resolve()) if augmented else None,  # absolute: a resume may run elsewhere
                 data=str(data.resolve()) if data else None, max_questions=limit, cot=cot)
    if resume is not None:
        cfg, run = resume_eval(resume, config, overrides, given)
    else:
        cfg = _cfg(config, overrides, **given)
        if cfg.data is None:
            raise ConfigError("give --data (the QA file) or --resume RUN")
    questions = load_questions(Path(cfg.data), cfg.max_questions)
    known = _known(Path(cfg.augmented) if cfg.augmented else None)
    inputs = check_inputs(cfg, known, run.dir if resume is not None else None)  # all before a run folder exists
    if resume is None:
        run = start_run("prag", name, to_dict(cfg))
        write_inputs(run.dir, inputs)
    typer.echo(f"run: {run.dir}", err=True)
    table = eval_run(cfg, questions, run, known, cot=cfg.cot)
    run.write_metrics(table)
    run.write_report(eval_report(table, run.dir, f"{Path(cfg.data).name}, {len(questions)} questions, model "
                                                 f"{cfg.model}, k={cfg.top_k}, merge {cfg.merge}"))
    for mode, row in table.items():
        typer.echo(f"{mode:8} EM {row['em']:.3f}  F1 {row['f1']:.3f}  contained {row['contained']:.3f}  "
                   f"{row['latency_s']:.2f} s/question  "
                   f"{row['prompt_tokens']:.0f} prompt tokens  failed {row['failed']}")
    typer.echo(f"report: {run.dir / 'report.md'}")


def demo(folder: Path) -> str:
    from labkit.prag.demo import run_demo

    return run_demo(folder)


if __name__ == "__main__":
    app()
