"""Small seeded datasets, standard library only: two moons, circles, spirals, and character datasets.

makemore's names.txt (32,033 names) ships inside the package with its provenance
(micrograd_it/datasets/README.md): `load_names()` reads it and `lecture_split()`
splits it exactly as the makemore lecture does; it is the data of the makemore
model, the study and the lessons. `SHORT_NAMES` (478 names written for this project)
is for tests and tiny demos. Nothing here downloads anything.

Every generator draws from random.Random(seed), so the same seed gives the
same points bit for bit. Points come shuffled, as lists of [x, y] floats.
"""

import math
import numbers
import random
from importlib import resources

from ._words import SHORT_NAMES

__all__ = ["make_moons", "make_circles", "make_spirals", "SHORT_NAMES", "WORDS", "char_vocab", "build_char_dataset",
           "load_names", "lecture_split", "NAMES_SHA256"]

# The built-in short list's former name (478 names, for tests and tiny demos); the real data is load_names().
WORDS = SHORT_NAMES

# The shipped file's checksum, from its provenance note (micrograd_it/datasets/README.md).
NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"


def _describe(value):
    return f"{value!r} ({type(value).__name__})"


def _check_n(n, minimum=2):
    if isinstance(n, bool) or not isinstance(n, int) or n < minimum:
        raise ValueError(f"n must be an int >= {minimum}, got {_describe(n)}")
    return n


def _check_noise(noise):
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not 0.0 <= noise < math.inf:
        raise ValueError(f"noise must be a finite number >= 0, got {_describe(noise)}")
    return float(noise)


def _check_labels(labels):
    if not isinstance(labels, (tuple, list)) or len(labels) != 2 or labels[0] == labels[1]:
        raise ValueError(f"labels must be two different values (first class, second class), got {_describe(labels)}")
    return labels


def _finish(points, classes, labels, noise, rng):
    """Add N(0, noise) to each coordinate, shuffle, and return (X, y) with y mapped through `labels`."""
    rows = [([px + rng.gauss(0.0, noise), py + rng.gauss(0.0, noise)], labels[c]) for (px, py), c in zip(points, classes)]
    rng.shuffle(rows)
    return [row[0] for row in rows], [row[1] for row in rows]


def _spaced(count, stop):
    """`count` evenly spaced numbers from 0 to stop inclusive."""
    return [stop * i / (count - 1) if count > 1 else 0.0 for i in range(count)]


def make_moons(n=100, noise=0.1, seed=0, labels=(0, 1)):
    """Return (X, y): two interleaving half circles, n points, Gaussian noise of std `noise`.

    The upper moon is class labels[0], the lower one labels[1]; use
    labels=(-1, 1) for the hinge loss.
    """
    n, noise, labels = _check_n(n), _check_noise(noise), _check_labels(labels)
    rng = random.Random(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    upper = [(math.cos(t), math.sin(t)) for t in _spaced(n_upper, math.pi)]
    lower = [(1.0 - math.cos(t), 0.5 - math.sin(t)) for t in _spaced(n_lower, math.pi)]
    return _finish(upper + lower, [0] * n_upper + [1] * n_lower, labels, noise, rng)


def make_circles(n=100, noise=0.05, factor=0.5, seed=0, labels=(0, 1)):
    """Return (X, y): an outer circle of radius 1 (labels[0]) around an inner one of radius `factor` (labels[1])."""
    n, noise, labels = _check_n(n), _check_noise(noise), _check_labels(labels)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be a number in (0, 1), got {_describe(factor)}")
    rng = random.Random(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    # endpoint excluded so that the first and last point of a circle do not coincide
    outer = [(math.cos(2 * math.pi * i / n_outer), math.sin(2 * math.pi * i / n_outer)) for i in range(n_outer)]
    inner = [(factor * math.cos(2 * math.pi * i / n_inner), factor * math.sin(2 * math.pi * i / n_inner))
             for i in range(n_inner)]
    return _finish(outer + inner, [0] * n_outer + [1] * n_inner, labels, noise, rng)


def make_spirals(n=100, classes=2, noise=0.2, turns=1.0, seed=0):
    """Return (X, y): `classes` interleaved spiral arms (CS231n style), labels 0 .. classes-1.

    Arm k has radius growing from 0 to 1 while its angle runs over `turns`
    full turns from 2 pi k / classes; `noise` (std) is added to the angle.
    """
    n = _check_n(n)
    noise = _check_noise(noise)
    if isinstance(classes, bool) or not isinstance(classes, int) or classes < 2:
        raise ValueError(f"classes must be an int >= 2, got {_describe(classes)}")
    if isinstance(turns, bool) or not isinstance(turns, numbers.Real) or not 0.0 < turns < 100.0:
        raise ValueError(f"turns must be a number in (0, 100), got {_describe(turns)}")
    rng = random.Random(seed)
    rows = []
    for k in range(classes):
        count = n // classes + (1 if k < n % classes else 0)
        for radius in _spaced(count, 1.0):
            angle = 2 * math.pi * (k / classes + turns * radius) + rng.gauss(0.0, noise)
            rows.append(([radius * math.cos(angle), radius * math.sin(angle)], k))
    rng.shuffle(rows)
    return [row[0] for row in rows], [row[1] for row in rows]


def char_vocab(words):
    """Return (stoi, itos): '.' (start/end token) is 0, then the words' characters in sorted order.

    stoi maps character -> index, itos index -> character (a list). Raises
    ValueError for a word that is empty, not a str, or contains '.'.
    """
    _check_words(words)
    chars = sorted(set("".join(words)))
    itos = ["."] + chars
    return {ch: i for i, ch in enumerate(itos)}, itos


def _check_words(words):
    if isinstance(words, str) or not isinstance(words, (list, tuple)) or not words:
        raise ValueError(f"words must be a non-empty list of strings, got {_describe(words)}")
    for word in words:
        if not isinstance(word, str) or not word or "." in word:
            raise ValueError(f"each word must be a non-empty str without '.', got {_describe(word)}")


def build_char_dataset(words, block_size=3, stoi=None):
    """Return (X, Y): each X row is the `block_size` previous character indices, Y the next one.

    A word "ava" with block_size 3 gives contexts ... -> a, ..a -> v, .av -> a,
    ava -> . ('.' = 0 pads the start and marks the end), as in makemore.
    `stoi` defaults to char_vocab(words)[0]; a character missing from it raises ValueError.
    """
    _check_words(words)
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
        raise ValueError(f"block_size must be a positive int, got {_describe(block_size)}")
    if stoi is None:
        stoi = char_vocab(words)[0]
    X, Y = [], []
    for word in words:
        context = [0] * block_size
        for ch in word + ".":
            if ch not in stoi:
                raise ValueError(f"character {ch!r} of word {word!r} is not in stoi")
            X.append(list(context))
            Y.append(stoi[ch])
            context = context[1:] + [stoi[ch]]
    return X, Y


def load_names():
    """Return makemore's names.txt as a new list of 32,033 lowercase names, in the file's order.

    Read as the lecture reads it (``splitlines()``) from the copy shipped in the
    package (micrograd_it/datasets/names.txt, with its provenance and licence).
    """
    text = resources.files(__package__).joinpath("datasets", "names.txt").read_text(encoding="ascii")
    return text.splitlines()


def lecture_split(words=None, block_size=3, seed=42):
    """Return ``(stoi, itos, train, dev, test)`` as the makemore lecture builds them.

    `words` defaults to `load_names()`; a copy is shuffled as ``random.seed(seed);
    random.shuffle(words)`` does and cut at 80% and 90% of the words; each split is
    an ``(X, Y)`` pair from `build_char_dataset` with the vocabulary of all the words
    ('.' is 0). On names.txt that gives 182,625 / 22,655 / 22,866 contexts of 3.
    Raises ValueError as `build_char_dataset` does.
    """
    words = load_names() if words is None else list(words)
    stoi, itos = char_vocab(words)
    random.Random(seed).shuffle(words)  # the same draws as random.seed(seed); random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    splits = [build_char_dataset(part, block_size, stoi) for part in (words[:n1], words[n1:n2], words[n2:])]
    return (stoi, itos, *splits)
