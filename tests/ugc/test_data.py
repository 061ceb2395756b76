"""Environment sources: relevance files, cost files, MovieLens ratings and matrix factorisation."""

from pathlib import Path

import numpy as np
import pytest

from labkit.core.errors import DataError
from labkit.ugc.config import EnvConfig
from labkit.ugc.data import load_costs, load_ratings, load_relevance
from labkit.ugc.envs import make_environment
from labkit.ugc.factorization import factorize


def write_ratings(path: Path, rng: np.random.Generator, users: int = 300, items: int = 400, rank: int = 3,
                  observed: float = 0.3) -> np.ndarray:
    """A planted low-rank rating matrix, a fraction observed, half-star rounded like MovieLens."""
    truth = 3.0 + 0.6 * rng.normal(size=(users, rank)) @ rng.normal(size=(items, rank)).T
    mask = rng.random(truth.shape) < observed
    noisy = np.clip(np.round((truth + rng.normal(scale=0.2, size=truth.shape)) * 2) / 2, 0.5, 5.0)
    with open(path, "w") as fh:
        fh.write("userId,movieId,rating,timestamp\n")
        for u, i in np.argwhere(mask):
            fh.write(f"{u + 1},{i + 1},{noisy[u, i]},964982703\n")
    return truth


def test_factorisation_recovers_a_planted_low_rank_matrix(tmp_path) -> None:
    truth = write_ratings(tmp_path / "ratings.csv", np.random.default_rng(1))
    ratings = load_ratings(tmp_path / "ratings.csv")
    factors = factorize(ratings, rank=8, reg=0.05, iters=15)
    users, items = ratings.user_ids.astype(int) - 1, ratings.item_ids.astype(int) - 1
    corr = np.corrcoef(factors.predict().ravel(), truth[np.ix_(users, items)].ravel())[0, 1]
    assert corr > 0.9


def test_ratings_environment_has_item_cluster_creators(tmp_path) -> None:
    write_ratings(tmp_path / "ratings.csv", np.random.default_rng(2), users=80, items=120)
    env = make_environment(EnvConfig(source=str(tmp_path / "ratings.csv"), creators=10, rank=4))
    assert env.relevance.shape == (10, 80)
    assert env.relevance.min() >= 0 and env.relevance.max() <= 1
    assert len(np.unique(env.info["item_labels"])) == 10


@pytest.mark.parametrize("layout", ["dat", "udata"])
def test_other_movielens_layouts(tmp_path, layout) -> None:
    rows = [(1, 10, 4.0), (1, 11, 3.0), (2, 10, 5.0)]
    if layout == "dat":
        path = tmp_path / "ratings.dat"
        path.write_text("".join(f"{u}::{i}::{r:g}::978300760\n" for u, i, r in rows))
    else:
        path = tmp_path / "u.data"
        path.write_text("".join(f"{u}\t{i}\t{r:g}\t881250949\n" for u, i, r in rows))
    ratings = load_ratings(path)
    assert ratings.values.tolist() == [4.0, 3.0, 5.0] and len(ratings.user_ids) == 2


def test_relevance_files_are_users_by_creators(tmp_path) -> None:
    matrix = np.random.default_rng(0).uniform(size=(7, 3))  # 7 users, 3 creators
    np.save(tmp_path / "r.npy", matrix)
    np.savez(tmp_path / "r.npz", relevance=matrix, costs=np.array([1.0, 2.0, 3.0]))
    np.savetxt(tmp_path / "r.csv", matrix, delimiter=",", header="a,b,c", comments="")
    for name in ("r.npy", "r.npz", "r.csv"):
        np.testing.assert_allclose(load_relevance(tmp_path / name), matrix.T)
    env = make_environment(EnvConfig(source=str(tmp_path / "r.npz")))
    assert env.costs.tolist() == [1.0, 2.0, 3.0]


def test_bad_inputs_name_file_line_and_field(tmp_path) -> None:
    (tmp_path / "nan.csv").write_text("a,b\n0.1,0.2\n0.3,nan\n")
    with pytest.raises(DataError, match=r"nan.csv:3, field 'user 1, creator 1': nan is not a finite"):
        load_relevance(tmp_path / "nan.csv")
    (tmp_path / "text.csv").write_text("0.1,0.2\n0.3,high\n")
    with pytest.raises(DataError, match=r"text.csv:2, field 'column 2'"):
        load_relevance(tmp_path / "text.csv")
    np.save(tmp_path / "vec.npy", np.ones(4))
    with pytest.raises(DataError, match="2-D users x creators"):
        load_relevance(tmp_path / "vec.npy")
    (tmp_path / "costs.csv").write_text("1.0\n-0.5\n2.0\n")
    with pytest.raises(DataError, match=r"costs.csv:2, field 'creator 1': cost coefficient -0.5 must be > 0"):
        load_costs(tmp_path / "costs.csv", 3)
    with pytest.raises(DataError, match="expected 4 cost coefficients"):
        load_costs(tmp_path / "costs.csv", 4)
    (tmp_path / "ratings.csv").write_text("userId,movieId,rating\n1,2,4.5\n1,3,great\n")
    with pytest.raises(DataError, match=r"ratings.csv:3, field 'rating': 'great' is not a number"):
        load_ratings(tmp_path / "ratings.csv")
    (tmp_path / "wrong.csv").write_text("user,item,rating\n1,2,4.5\n")
    with pytest.raises(DataError, match=r"wrong.csv:1, field 'userId'"):
        load_ratings(tmp_path / "wrong.csv")
