"""rnnlab.sample: temperature sampling and generation with the recurrent state carried.

The unit tests use a stand-in "network" (a numpy Markov chain whose state counts the calls), so
the feeding order, the carried state and the draws can be checked exactly.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from rnnlab.commands.sample import main
from rnnlab.datasets.text import Vocabulary
from rnnlab.errors import DataError
from rnnlab.tasks.sampling import CHUNK, _next_id, generate, rescale, stream, truncate

VOCAB = Vocabulary("abcde ")


class _Chain:
    """predict(x (1, 1), state (1, 2)) -> [probs (1, 1, vocab), state + 1]; records each call."""

    def __init__(self, seed=0):
        rng = np.random.default_rng(seed)
        self.table = rng.dirichlet(np.ones(VOCAB.size), size=VOCAB.size)
        self.calls = []

    def __call__(self, x, state):
        assert x.shape == (1, 1) and x.dtype == np.int32 and state.shape == (1, 2)
        self.calls.append((int(x[0, 0]), float(state[0, 0])))
        return [self.table[x[0, 0]][None, None, :].astype(np.float32), state + 1]


def _session(chain, kind="text"):
    task = SimpleNamespace(kind=kind, vocab=VOCAB)
    functions = SimpleNamespace(
        predict=chain, initial_states=lambda batch: [np.zeros((batch, 2), np.float32)])
    return SimpleNamespace(task=task, functions=functions, cfg={"run": {}})


def test_rescale_gives_valid_distributions_that_approach_argmax():
    probs = np.array([0.1, 0.5, 0.0, 0.4])
    np.testing.assert_allclose(rescale(probs, 1.0), probs)
    peaks = []
    for temperature in (5.0, 1.0, 0.5, 0.1, 0.01):
        scaled = rescale(probs, temperature)
        assert scaled.sum() == pytest.approx(1.0) and (scaled >= 0).all() and scaled[2] == 0
        peaks.append(scaled[1])
    assert np.all(np.diff(peaks) > 0) and peaks[-1] > 0.9999
    np.testing.assert_allclose(rescale(probs, 1 / 3), probs ** 3 / (probs ** 3).sum())
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="temperature"):
            rescale(probs, bad)
    with pytest.raises(ValueError, match="probs"):
        rescale([0.0, 0.0], 1.0)


def test_draws_follow_the_rescaled_distribution():
    probs = np.array([0.2, 0.3, 0.5])
    rng = np.random.default_rng(1)
    draws = np.array([_next_id(probs, 0.5, rng, argmax=False) for _ in range(8000)])
    freq = np.bincount(draws, minlength=3) / len(draws)
    np.testing.assert_allclose(freq, rescale(probs, 0.5), atol=0.02)
    assert _next_id(probs, 0.5, rng, argmax=True) == 2


def test_truncate_keeps_the_top_k_then_the_nucleus_and_renormalises():
    rng = np.random.default_rng(5)
    for _ in range(200):
        probs = rng.dirichlet(np.full(12, 0.5))
        k, p = int(rng.integers(0, 13)), float(rng.uniform(0.05, 1.0))
        kept = truncate(probs, top_k=k, top_p=p)
        assert kept.sum() == pytest.approx(1.0)
        chosen = np.flatnonzero(kept)
        assert chosen.size >= 1 and (k == 0 or chosen.size <= k)
        # The kept characters are the most probable ones, in their original proportions.
        assert probs[chosen].min() >= np.delete(probs, chosen).max(initial=0.0)
        np.testing.assert_allclose(kept[chosen], probs[chosen] / probs[chosen].sum())
        # The nucleus is the smallest such set: one character fewer would fall short of p.
        head = np.sort(probs[chosen])[::-1]
        top = np.sort(probs)[::-1][:k or None]
        if chosen.size < (k or 12):
            assert head.sum() >= p * top.sum() * (1 - 1e-12) > head[:-1].sum()
    np.testing.assert_array_equal(truncate([0.2, 0.5, 0.3], top_k=1), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(truncate([0.2, 0.5, 0.3], top_k=0, top_p=1.0), [0.2, 0.5, 0.3])
    for bad in ({"top_k": -1}, {"top_k": 1.5}, {"top_p": 0.0}, {"top_p": 1.5},
                {"top_p": float("nan")}):
        with pytest.raises(ValueError, match="top_"):
            truncate([0.5, 0.5], **bad)


def test_draws_with_top_k_and_top_p_follow_the_truncated_distribution():
    probs = np.array([0.05, 0.4, 0.1, 0.3, 0.15])
    rng = np.random.default_rng(2)
    draws = np.array([_next_id(probs, 0.8, rng, False, top_k=3, top_p=0.9) for _ in range(8000)])
    freq = np.bincount(draws, minlength=5) / len(draws)
    np.testing.assert_allclose(freq, truncate(rescale(probs, 0.8), 3, 0.9), atol=0.02)
    assert set(np.flatnonzero(freq)) <= {1, 3, 4}


def test_generate_with_top_k_1_is_greedy_and_the_cut_is_seeded():
    session = _session(_Chain())
    greedy = generate(session, length=60, prime="a", argmax=True)
    assert generate(session, length=60, prime="a", seed=9, top_k=1) == greedy
    assert generate(session, length=60, prime="a", seed=9, top_p=1e-9) == greedy
    cut = generate(session, length=60, prime="a", seed=4, top_k=3, top_p=0.8)
    assert generate(session, length=60, prime="a", seed=4, top_k=3, top_p=0.8) == cut != \
        generate(session, length=60, prime="a", seed=4)
    for bad, name in (({"top_k": -2}, "top_k"), ({"top_p": 2.0}, "top_p")):
        with pytest.raises(ValueError, match=name):
            generate(session, length=5, **bad)


def test_generate_feeds_the_prime_then_its_own_output_carrying_the_state():
    chain = _Chain()
    text = generate(_session(chain), length=30, prime="bad a", seed=4, temperature=0.9)
    assert len(text) == 35 and text.startswith("bad a") and set(text) <= set(VOCAB.chars)
    fed = [i for i, _ in chain.calls]
    assert VOCAB.decode(np.array(fed)) == text[:-1]  # prime, then every generated char but last
    assert [s for _, s in chain.calls] == list(range(len(fed)))  # state carried call to call


def test_generate_is_deterministic_per_seed_and_argmax_is_the_cold_limit():
    session = _session(_Chain())
    first = generate(session, length=60, prime="a", seed=7)
    assert generate(session, length=60, prime="a", seed=7) == first
    assert generate(session, length=60, prime="a", seed=8) != first
    greedy = generate(session, length=60, prime="a", argmax=True)
    assert generate(session, length=60, prime="a", seed=3, temperature=1e-4) == greedy
    chars = [VOCAB.encode(c)[0] for c in greedy]
    assert all(b == np.argmax(_Chain().table[a]) for a, b in zip(chars, chars[1:]))


def test_generate_without_prime_and_bad_arguments():
    chain = _Chain()
    text = generate(_session(chain), length=10, seed=2)
    assert len(text) == 10 and len(chain.calls) == 9
    assert generate(_session(chain), length=0, prime="ab") == "ab" and len(chain.calls) == 9
    firsts = {generate(_session(_Chain()), length=1, seed=seed) for seed in range(30)}
    assert len(firsts) > 1  # without a prime the first character is drawn, per seed
    with pytest.raises(DataError, match=r"prime: character 'z' \(U\+007A\) at position 2"):
        generate(_session(_Chain()), prime="abz")
    with pytest.raises(DataError, match="needs a text run"):
        generate(_session(_Chain(), kind="series"))
    with pytest.raises(ValueError, match="length"):
        generate(_session(_Chain()), length=-1)
    with pytest.raises(ValueError, match="temperature"):
        generate(_session(_Chain()), temperature=0.0)


@pytest.mark.parametrize("length, prime", [(0, "ab"), (1, ""), (63, ""), (64, "a"), (65, ""),
                                           (200, "bad"), (128, "")])
def test_stream_yields_the_text_of_generate_in_pieces_as_it_is_made(length, prime):
    chain = _Chain()
    pieces = []
    for piece in stream(_session(chain), length=length, prime=prime, seed=5, temperature=0.8):
        pieces.append((piece, len(chain.calls)))
    text = "".join(piece for piece, _ in pieces)
    assert text == generate(_session(_Chain()), length=length, prime=prime, seed=5,
                            temperature=0.8)
    generated = [piece for piece, _ in pieces[1 if prime else 0:]]
    assert [len(p) for p in generated] == [CHUNK] * (length // CHUNK) + \
        ([length % CHUNK] if length % CHUNK else [])
    # Each piece comes out before the next characters are computed: the model has been fed
    # the prime and every character generated so far but the last.
    calls = [calls for _, calls in pieces[1 if prime else 0:]]
    assert calls == [max(len(prime) + made - 1, 1) for made in
                     np.cumsum([len(p) for p in generated])]
    with pytest.raises(ValueError, match="length"):
        next(stream(_session(_Chain()), length=-1))


def test_generate_with_a_trained_network_matches_recomputing_the_whole_prefix(text_run):
    from rnnlab.training.session import load_run

    text_session = load_run(text_run, which="best")
    vocab = text_session.task.vocab
    greedy = generate(text_session, length=12, prime="to b", argmax=True)
    # No carried state: one call over the whole text gives the distribution at every position.
    ids = vocab.encode(greedy)
    probs = np.asarray(text_session.functions.predict(
        ids[None, :], *text_session.functions.initial_states(1))[0])[0]
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-5)
    assert (probs >= 0).all()
    chosen = probs[np.arange(3, len(ids) - 1), ids[4:]]  # each generated char given its prefix
    np.testing.assert_allclose(chosen, probs[3:-1].max(axis=-1), rtol=1e-5)
    drawn = generate(text_session, length=40, prime="th", seed=5, temperature=0.8)
    assert drawn == generate(text_session, length=40, prime="th", seed=5, temperature=0.8)
    assert len(drawn) == 42 and set(drawn) <= set(vocab.chars)
    samples = sorted((text_run / "samples").glob("step_*.txt"))  # train.py samples with generate
    assert [p.name for p in samples] == ["step_000002.txt", "step_000004.txt"]


# --- the command, end to end on a run trained by rnnlab.train -------------------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    from rnnlab import config
    from rnnlab.training import train

    root = tmp_path_factory.mktemp("runs")
    cfg = config.load(ROOT / "experiments" / "smoke_text.toml",
                      [f"data.path={ROOT / 'data' / 'shakespeare.txt'}", f"run.dir={root}",
                       "train.max_steps=4", "train.eval_every=2", "run.sample_length=5"])
    return Path(train(cfg, out=lambda line: None)["run_dir"])


def test_sample_command_prints_the_text_of_a_trained_run(text_run, command):
    code, out, err = command(main, [text_run, "--length", 25, "--prime", "First", "--seed", 3,
                                    "--temperature", 0.5, "--checkpoint", "latest"])
    assert code == 0 and err == ""
    assert out.startswith("First") and len(out) == len("First") + 25 + 1 and out.endswith("\n")
    argv = [text_run, "--length", 25, "--prime", "First", "--seed", 3, "--top-k", 1]
    code, cut, _ = command(main, argv)
    code, greedy, _ = command(main, [text_run, "--length", 25, "--prime", "First", "--argmax"])
    assert code == 0 and cut == greedy


def test_a_checkpoint_killed_between_commit_and_rename_still_samples(text_run, tmp_path,
                                                                     command):
    run = tmp_path / "run"
    shutil.copytree(text_run, run)
    code, before, _ = command(main, [run, "--length", 20])
    assert code == 0
    # A kill after best.json was replaced, before best.next.npz was renamed to best.npz.
    (run / "checkpoints" / "best.npz").rename(run / "checkpoints" / "best.next.npz")
    code, after, err = command(main, [run, "--length", 20])
    assert code == 0 and err == "" and after == before


@pytest.mark.parametrize("argv, message", [
    (["{run}", "--prime", "First\u00a7"], "prime: character '\u00a7' (U+00A7) at position 5"),
    (["{empty}"], "checkpoint"),
    (["{series}"], "sample needs a text run"),
    (["{missing}"], "no such run directory"),
])
def test_sample_command_bad_runs_exit_2_with_one_line(text_run, tmp_path, command, argv, message):
    empty, series = tmp_path / "empty", tmp_path / "series"
    empty.mkdir()
    for name in ("config.json", "meta.json"):  # a run that never saved a checkpoint
        shutil.copy(text_run / name, empty / name)
    series.mkdir()
    (series / "config.json").write_text(json.dumps({"data": {"kind": "series"}}))
    paths = {"run": text_run, "empty": empty, "series": series, "missing": tmp_path / "none"}
    code, out, err = command(main, [a.format(**paths) for a in argv])
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err


def test_sample_command_bad_options_exit_2(command):
    code, out, err = command(main, ["run", "--length", 1_000_001])
    assert code == 2 and out == "" and err == ("error: --length: 1,000,001 characters is more "
                                               "than the cap of 1,000,000; expected at most "
                                               "that, or a larger --max-length\n")
    code, _, err = command(main, ["run", "--length", 50, "--max-length", 10])
    assert code == 2 and "more than the cap of 10;" in err
    for argv in (["run", "--max-length", "0"], ["run", "--temperature", "0"], ["run", "--length", "-3"],
                 ["run", "--seed", "-1"], ["run", "--top-k", "-1"], ["run", "--top-p", "0"],
                 ["run", "--top-p", "1.5"]):
        code, out, err = command(main, argv)
        assert code == 2 and out == "" and err.startswith(f"error: {argv[1]}: expected")
        assert err.count("\n") == 1
    code, _, err = command(main, ["run", "--checkpoint", "first"])  # argparse's own check
    assert code == 2 and "invalid choice: 'first'" in err


def test_python_dash_m_sample_reports_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "rnnlab.sample", str(tmp_path / "nope")],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: {tmp_path / 'nope'}: no such run directory\n"
