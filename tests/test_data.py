"""Datasets: seeded, the right shapes, points on the curves they are drawn from, makemore-style contexts."""

import math
import string

import pytest

from micrograd_it.data import SHORT_NAMES, build_char_dataset, char_vocab, make_circles, make_moons, make_spirals


@pytest.mark.parametrize("make", [make_moons, make_circles, make_spirals])
def test_same_seed_same_points_and_labels(make):
    assert make(n=50, seed=3) == make(n=50, seed=3)
    assert make(n=50, seed=3)[0] != make(n=50, seed=4)[0]
    X, y = make(n=51, seed=0)
    assert len(X) == len(y) == 51 and all(len(point) == 2 for point in X)


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = make_moons(n=40, noise=0.0, seed=0)
    assert sorted(set(y)) == [0, 1] and y.count(0) == y.count(1) == 20
    for (px, py), label in zip(X, y):
        # upper moon: unit circle at (0, 0), y >= 0; lower moon: unit circle at (1, 0.5), y <= 0.5
        cx, cy = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert math.hypot(px - cx, py - cy) == pytest.approx(1.0)
        assert (py >= -1e-12) if label == 0 else (py <= 0.5 + 1e-12)


def test_moons_labels_option_and_noise_spread():
    _, y = make_moons(n=10, labels=(-1, 1))
    assert sorted(set(y)) == [-1, 1]
    clean, _ = make_moons(n=400, noise=0.0, seed=1)
    noisy, _ = make_moons(n=400, noise=0.1, seed=1)
    # same points, plus N(0, 0.1) on each axis: E|p + noise|^2 = |p|^2 + 2 * 0.1^2 (the cross term averages out)
    spread = lambda points: sum(px * px + py * py for px, py in points) / len(points)
    assert spread(noisy) == pytest.approx(spread(clean) + 2 * 0.1**2, abs=0.02)


def test_circles_without_noise_have_radius_one_and_factor():
    X, y = make_circles(n=30, noise=0.0, factor=0.4, seed=0)
    for (px, py), label in zip(X, y):
        assert math.hypot(px, py) == pytest.approx(1.0 if label == 0 else 0.4)


def test_spirals_without_noise_have_radius_in_unit_disc_and_all_classes():
    X, y = make_spirals(n=90, classes=3, noise=0.0, seed=0)
    assert sorted(set(y)) == [0, 1, 2] and [y.count(k) for k in range(3)] == [30, 30, 30]
    assert all(math.hypot(px, py) <= 1.0 + 1e-12 for px, py in X)


@pytest.mark.parametrize(
    "call, culprit",
    [
        (lambda: make_moons(n=1), "n"),
        (lambda: make_moons(noise=-0.1), "-0.1"),
        (lambda: make_moons(labels=(1, 1)), "labels"),
        (lambda: make_circles(factor=1.5), "1.5"),
        (lambda: make_spirals(classes=1), "classes"),
        (lambda: build_char_dataset(["ab.c"]), "'ab.c'"),
        (lambda: build_char_dataset(["abc"], block_size=0), "block_size"),
        (lambda: build_char_dataset(["abz"], stoi={".": 0, "a": 1, "b": 2}), "'z'"),
        (lambda: char_vocab("emma"), "'emma'"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_culprit(call, culprit):
    with pytest.raises(ValueError) as info:
        call()
    assert culprit in str(info.value)


def test_the_short_list_is_a_few_hundred_unique_lowercase_names():
    assert len(SHORT_NAMES) >= 300 and len(set(SHORT_NAMES)) == len(SHORT_NAMES)
    assert all(word and set(word) <= set(string.ascii_lowercase) for word in SHORT_NAMES)
    assert set("".join(SHORT_NAMES)) == set(string.ascii_lowercase)


def test_char_vocab_puts_the_dot_first():
    stoi, itos = char_vocab(SHORT_NAMES)
    assert itos == ["."] + list(string.ascii_lowercase)
    assert all(stoi[ch] == i for i, ch in enumerate(itos))


def test_build_char_dataset_matches_the_makemore_example():
    stoi, _ = char_vocab(["ava"])  # '.' 0, 'a' 1, 'v' 2
    X, Y = build_char_dataset(["ava"], block_size=3)
    # makemore: ... -> a, ..a -> v, .av -> a, ava -> .
    assert X == [[0, 0, 0], [0, 0, 1], [0, 1, 2], [1, 2, 1]]
    assert Y == [1, 2, 1, 0]
    assert stoi == {".": 0, "a": 1, "v": 2}


def test_build_char_dataset_has_one_row_per_character_plus_end():
    X, Y = build_char_dataset(SHORT_NAMES, block_size=4)
    assert len(X) == len(Y) == sum(len(word) + 1 for word in SHORT_NAMES)
    assert all(len(context) == 4 for context in X) and Y.count(0) == len(SHORT_NAMES)


# -- names.txt, shipped -------------------------------------------------------------------

def test_names_txt_is_the_shipped_file_of_its_provenance_note():
    import hashlib
    from importlib import resources

    from micrograd_it.data import NAMES_SHA256, load_names

    raw = resources.files("micrograd_it").joinpath("datasets", "names.txt").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == NAMES_SHA256 and len(raw) == 228_145
    note = resources.files("micrograd_it").joinpath("datasets", "README.md").read_text()
    assert NAMES_SHA256 in note and "names.LICENSE" in note
    assert "MIT License" in resources.files("micrograd_it").joinpath("datasets", "names.LICENSE").read_text()
    words = load_names()
    # the data's README: 32,033 names, 29,494 distinct, lowercase a-z, lengths 2-15
    assert len(words) == 32_033 and len(set(words)) == 29_494
    assert set("".join(words)) == set(string.ascii_lowercase)
    assert min(map(len, words)) == 2 and max(map(len, words)) == 15
    assert load_names() is not words  # a new list each call: a caller's shuffle cannot change the next


def test_lecture_split_is_the_lectures_shuffle_and_cut():
    import random

    from micrograd_it.data import lecture_split, load_names

    stoi, itos, train, dev, test = lecture_split()
    # the counts the data's README gives for the lecture's split
    assert [len(X) for X, _ in (train, dev, test)] == [182_625, 22_655, 22_866]
    assert [len(Y) for _, Y in (train, dev, test)] == [182_625, 22_655, 22_866]
    assert itos[0] == "." and stoi["."] == 0 and len(itos) == 27
    # independently: the lecture's own global-random shuffle, then the first training word's contexts
    words = load_names()
    state = random.getstate()
    try:
        random.seed(42)
        random.shuffle(words)
    finally:
        random.setstate(state)
    first = words[0]
    assert train[1][: len(first) + 1] == [stoi[ch] for ch in first + "."]
    n2 = int(0.9 * len(words))
    last = words[-1]
    assert test[1][-(len(last) + 1):] == [stoi[ch] for ch in last + "."]
    assert len(words[n2:]) == 32_033 - n2


def test_the_makemore_models_default_data_is_the_lectures_training_split():
    from micrograd_it.data import WORDS, lecture_split
    from micrograd_it.makemore import char_dataset

    X, Y, vocab_size = char_dataset()
    _, itos, (X_train, Y_train), _, _ = lecture_split()
    assert (X, Y, vocab_size) == (X_train, Y_train, len(itos)) and len(X) == 182_625
    assert WORDS is SHORT_NAMES  # the short list's former name still works
    X, Y, vocab_size = char_dataset(SHORT_NAMES)
    assert len(X) == sum(len(word) + 1 for word in SHORT_NAMES) and vocab_size == 27
