import numpy as np
import pytest

from labkit.core.errors import ConfigError
from labkit.core.models import embed
from labkit.core.models.embed import minilm_dir

SENTENCES = ["The cat sat on the mat.", "A kitten rested on the rug.", "Stock markets fell sharply today."]


def test_minilm_vectors_are_unit_and_meaningful() -> None:
    v = embed(SENTENCES)
    assert v.shape == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    sims = v @ v.T
    assert sims[0, 1] > sims[0, 2] + 0.2


def test_minilm_matches_sentence_transformers() -> None:
    st = pytest.importorskip("sentence_transformers")
    reference = st.SentenceTransformer(str(minilm_dir()), device="cpu").encode(SENTENCES)
    assert np.allclose(embed(SENTENCES), reference, atol=1e-5)


def test_unknown_embedder() -> None:
    with pytest.raises(ConfigError):
        embed(["x"], spec="word2vec")
