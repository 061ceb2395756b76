import multiprocessing as mp

from labkit.core.cache import ResponseCache, cache_key
from labkit.core.models import Sampling, load_model, user
from labkit.core.models.cached import CachedChatModel
from labkit.core.models.mock import MockChatModel


def test_key_covers_output_relevant_fields_only() -> None:
    base = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "sampling": Sampling().to_dict()}
    assert cache_key(base) == cache_key(dict(reversed(list(base.items()))))  # order-free
    assert cache_key(base) != cache_key({**base, "sampling": Sampling(seed=1).to_dict()})
    assert cache_key(base) != cache_key({**base, "model": "m2"})


def test_hit_returns_identical_result_without_calling_model(tmp_path) -> None:
    mock = MockChatModel(lambda conv, s, j: f"answer {conv[-1]['content']}")
    cache = ResponseCache(tmp_path / "c.sqlite")
    model = CachedChatModel(mock, cache)
    convs = [user("a"), user("b")]
    first = model.chat(convs, Sampling(max_tokens=8))
    assert mock.calls == 2 and cache.misses == 2
    again = model.chat(convs, Sampling(max_tokens=8))
    assert again == first and mock.calls == 2 and cache.hits == 2
    # only the new conversation reaches the model, and results keep input order
    mixed = model.chat([user("c"), user("a")], Sampling(max_tokens=8))
    assert [c[0].text for c in mixed] == ["answer c", "answer a"] and mock.calls == 3
    # a changed sampling parameter is a different entry
    model.chat([user("a")], Sampling(max_tokens=9))
    assert mock.calls == 4


def test_seeded_sampling_is_cached_unseeded_is_not(tmp_path) -> None:
    mock = MockChatModel(["x"])
    model = CachedChatModel(mock, ResponseCache(tmp_path / "c.sqlite"))
    for _ in range(2):
        model.chat([user("q")], Sampling(temperature=0.7, seed=3))
    assert mock.calls == 1
    for _ in range(2):
        model.chat([user("q")], Sampling(temperature=0.7))
    assert mock.calls == 3


def test_load_model_wraps_in_cache_unless_disabled(tmp_path, monkeypatch) -> None:
    assert isinstance(load_model("mock", cache=ResponseCache(tmp_path / "c.sqlite")), CachedChatModel)
    assert isinstance(load_model("mock", cache=False), MockChatModel)
    monkeypatch.setenv("LABKIT_NO_CACHE", "1")
    assert isinstance(load_model("mock"), MockChatModel)


def _writer(path: str, worker: int, count: int) -> None:
    cache = ResponseCache(path)
    for i in range(count):
        cache.put(f"{worker}-{i}", {"worker": worker, "i": i})


def test_two_processes_writing_concurrently_lose_nothing(tmp_path) -> None:
    path = str(tmp_path / "shared.sqlite")
    ResponseCache(path)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 300)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = ResponseCache(path)
    assert len(cache) == 600
    assert all(cache.get(f"{w}-{i}") == {"worker": w, "i": i} for w in range(2) for i in range(300))


def test_a_command_reports_its_own_cache_traffic_only(capsys, monkeypatch) -> None:
    """The counts are process-wide; a command run after others (tests, notebooks) must not print their traffic -
    it made an error that should be one line look like two."""
    from labkit.cli import app
    from labkit.core.cache import STATS
    from labkit.core.cli import main_with_errors

    monkeypatch.setitem(STATS, "miss", STATS["miss"] + 5)  # earlier calls in this process
    assert main_with_errors(app, ["pds", "select", "--scores", "/nonexistent", "--out", "/tmp/x.jsonl"]) == 2
    err = capsys.readouterr().err.strip()
    assert "cache:" not in err and len(err.splitlines()) == 1
