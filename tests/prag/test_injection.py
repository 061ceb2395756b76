"""Knowledge injection on fictional entities (brief check 2) and the content-addressed store."""

import pytest

from labkit.prag.adapters import merged
from labkit.prag.corpus import fictional_corpus
from labkit.prag.encode import AdapterStore, EncodeConfig, encode_corpus, fingerprint, generation_prompt
from labkit.prag.eval import score

pytest.importorskip("torch")

# Paper defaults (lr 3e-4, 1 epoch) leave the 135M model's answers unchanged; these settings inject facts.
SMALL_MODEL = EncodeConfig(lr=3e-3, epochs=2)


def answer(m, question, adapters, spec):
    tok = m.tokenizer
    ids = tok(generation_prompt(tok, question, []), return_tensors="pt").input_ids
    with merged(m.model, adapters, spec):
        out = m.model.generate(ids, max_new_tokens=16, do_sample=False)
    return "The answer is" + tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)


@pytest.mark.slow
@pytest.mark.heavy  # 4 minutes in CI: an outcome of LoRA training; test_cli's fiction test runs the same path
def test_prag_injects_facts_that_the_model_cannot_know(smollm2, tmp_path) -> None:
    docs = fictional_corpus(6, seed=1)
    store = AdapterStore(tmp_path, fingerprint(smollm2.model_id, smollm2.revision, "template", SMALL_MODEL))
    first = encode_corpus(smollm2.model, smollm2.tokenizer, docs, SMALL_MODEL, store, progress=False)
    assert first == {"documents": 6, "trained": 6, "reused": 0}
    assert encode_corpus(smollm2.model, smollm2.tokenizer, docs, SMALL_MODEL, store, progress=False)["trained"] == 0
    store.path(docs[2]).unlink()  # as if killed before this document's adapter was written
    again = encode_corpus(smollm2.model, smollm2.tokenizer, docs, SMALL_MODEL, store, progress=False)
    assert again == {"documents": 6, "trained": 1, "reused": 5}
    spec = SMALL_MODEL.spec
    none, prag, unrelated = [], [], []
    for k, doc in enumerate(docs):
        other = docs[(k + 1) % len(docs)]
        for question, gold in doc.held_out:
            raw = answer(smollm2, question, [], spec)
            none.append(score(raw, gold, cot=True)["f1"])
            prag.append(score(answer(smollm2, question, [store.load(doc)], spec), gold, cot=True)["f1"])
            unrelated.append(score(answer(smollm2, question, [store.load(other)], spec), gold, cot=True)["f1"])
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    assert mean(none) < 0.1
    assert mean(prag) > mean(none) + 0.3, (mean(prag), mean(none))
    assert mean(unrelated) < mean(prag) - 0.25
