import threading

from labkit.core.models import Sampling, user
from labkit.core.models.batching import BatchingChatModel
from labkit.core.models.mock import MockChatModel
from labkit.core.parallel import parallel_map


class Recording(MockChatModel):
    def __init__(self):
        super().__init__(lambda conv, s, j: conv[-1]["content"].upper())
        self.batches: list[int] = []
        self.lock = threading.Lock()

    def chat(self, conversations, sampling, tools=None):
        with self.lock:
            self.batches.append(len(conversations))
        if any(c[-1]["content"] == "boom" for c in conversations):
            raise RuntimeError("model failed")
        return super().chat(conversations, sampling, tools)


def test_concurrent_single_calls_are_batched_and_answered_in_order() -> None:
    inner = Recording()
    model = BatchingChatModel(inner, window=0.05, max_batch=8)
    words = [f"w{i}" for i in range(16)]
    out = parallel_map(lambda w: model.chat([user(w)], Sampling())[0][0].text, words, workers=16,
                       progress=False)
    assert [o.value for o in out] == [w.upper() for w in words]
    assert sum(inner.batches) == 16 and max(inner.batches) > 1 and max(inner.batches) <= 8


def test_different_sampling_is_never_mixed_and_errors_reach_every_caller() -> None:
    inner = Recording()
    model = BatchingChatModel(inner, window=0.05)
    jobs = [("a", Sampling(max_tokens=4)), ("b", Sampling(max_tokens=5)), ("boom", Sampling(max_tokens=6))]
    out = parallel_map(lambda j: model.chat([user(j[0])], j[1])[0][0].text, jobs, workers=3, progress=False)
    assert [o.value for o in out[:2]] == ["A", "B"]
    assert out[2].error == "RuntimeError: model failed"
    assert sorted(inner.batches) == [1, 1, 1]
