"""MAPS settings. Generation follows the released v11 generator (arXiv:2501.10768); solving follows the
paper's pipeline with the
embedded SmolLM2 as the default text reasoner (the paper used claude-3-5-sonnet with images)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labkit.core.config import option


@dataclass
class GenerateConfig:
    n: int = option(20000, "Circuits to write (v11: 20,000 requested)", ge=1)
    seed: int = option(0, "Stream seed: circuit i uses its own random.Random(f'...-{seed}-{i}')", ge=0)
    reactive: bool = option(False, "Also draw C and L (weight 4 each) with AC-amplitude or transient questions")
    symbolic_rate: float = option(0.2, "Share of figures labelled with symbols instead of values (v11: 0.2)",
                                  ge=0, le=1)
    max_condition: float = option(1e8, "Reject circuits whose MNA condition number exceeds this", ge=1)
    render: bool = option(True, "Render diagrams (schemdraw); off for netlist-only data")
    formats: list[str] = option(["png", "svg"], "Diagram formats")
    dpi: int = option(72, "PNG resolution (72 dpi gives ~300 x 250 px, close to v11's 270 x 240)", ge=10)
    split: list[float] = option([0.8, 0.1, 0.1], "train / valid / test shares (by a seeded hash of the index)",
                                ge=0, le=1)
    workers: int = option(2, "Worker processes", ge=1)


@dataclass
class SolveConfig:
    ppm: str = option("oracle", "Perception: oracle (netlist given), or a VLM spec openai:M@URL (paper: "
                      "CogAgent-18B + LoRA)")
    reasoner: str = option("smollm2", "Reasoner LLM spec (paper: claude-3-5-sonnet-20240620)")
    repair_rounds: int = option(2, "At most this many LLM repairs of a netlist that does not parse", ge=0)
    max_tokens: int = option(512, "Reasoner answer length", ge=1)
    timeout: float = option(5.0, "Simulation time limit per netlist, seconds (paper: 5 s)", gt=0)


@dataclass
class MapsConfig:
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    solve: SolveConfig = field(default_factory=SolveConfig)
    data: str = option("simple_circuit_eval", "Evaluation data: simple_circuit_eval (under LABKIT_DATA_DIR/maps), "
                       "a folder with qa.json, or a generated dataset folder")
    methods: list[Literal["direct", "cot", "maps"]] = option(["direct", "cot", "maps"], "Methods compared by eval")
    rtol: float = option(0.01, "Judge: relative tolerance (no published rule; README default 1%)", ge=0)
    atol: float = option(1e-3, "Judge: absolute tolerance when the gold value is 0", ge=0)
    netlists: str | None = option(None, "Folder of <id>.cir netlists (hand-transcribed or from a PPM) for eval")
    max_items: int | None = option(None, "Evaluate at most this many problems", ge=1)
    workers: int = option(4, "Concurrent problems (endpoints); the embedded model runs one at a time", ge=1)
