import pytest

from labkit.core.models import Completion, Sampling, load_model, user
from labkit.core.models.mock import MockChatModel


def test_list_dict_callable_and_echo_scripts() -> None:
    listed = MockChatModel(["a", "b"])
    assert [c[0].text for c in listed.chat([user("1"), user("2"), user("3")], Sampling())] == ["a", "b", "a"]
    keyed = MockChatModel({"hi": "hello"})
    assert keyed.chat([user("hi")], Sampling())[0][0].text == "hello"
    with pytest.raises(KeyError):
        keyed.chat([user("other")], Sampling())
    fn = MockChatModel(lambda conv, s, j: f"{j}:{s.temperature}")
    assert [c.text for c in fn.chat([user("x")], Sampling(n=2, temperature=0.5))[0]] == ["0:0.5", "1:0.5"]
    assert load_model("mock", cache=False).chat([user("echo me")], Sampling())[0][0].text == "echo me"


def test_stop_and_length_and_completion_passthrough() -> None:
    model = MockChatModel(["one two three STOP four", Completion("t", "tool_calls", 1, 1, [{"id": "c"}])])
    first, second = (c[0] for c in model.chat([user("a"), user("b")], Sampling(max_tokens=2, stop=("STOP",))))
    assert (first.text, first.finish_reason) == ("one two three ", "stop")
    assert second.tool_calls == [{"id": "c"}]
    cut = MockChatModel(["one two three"]).chat([user("a")], Sampling(max_tokens=2))[0][0]
    assert (cut.text, cut.finish_reason) == ("one two", "length")
