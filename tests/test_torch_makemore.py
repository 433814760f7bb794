"""The lecture's model in PyTorch (micrograd_it.torch_makemore): each stage's init against the lecture's formulas
drawn independently here from the same generator, the first steps against a loop written differently
(torch.optim.SGD and F.linear), and the final losses against a plain evaluation of the full splits."""

import math

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the lecture's torch model needs it")
F = torch.nn.functional

from micrograd_it import makemore_lecture as lecture  # noqa: E402
from micrograd_it import torch_makemore  # noqa: E402


def lecture_draws(seed, W1=1.0, b1=1.0, W2=1.0, b2=1.0):
    """The lecture's cell, typed from its formulas: one generator, randn in the order C, W1, b1, W2, b2."""
    g = torch.Generator().manual_seed(seed)
    C = torch.randn((27, 10), generator=g)
    w1 = torch.randn((30, 200), generator=g) * W1
    bias1 = torch.randn(200, generator=g) * b1
    w2 = torch.randn((200, 27), generator=g) * W2
    bias2 = torch.randn(27, generator=g) * b2
    return [C, w1, bias1, w2, bias2], g


# the lecture's factors, written from its code (not read from makemore_lecture): W1, b1, W2, b2
LECTURE_FACTORS = {"original": (1.0, 1.0, 1.0, 1.0), "softmax fixed": (1.0, 1.0, 0.01, 0.0),
                   "tanh fixed": (0.2, 0.01, 0.01, 0.0), "kaiming": ((5 / 3) / 30 ** 0.5, 0.01, 0.01, 0.0)}


@pytest.mark.parametrize("name", list(LECTURE_FACTORS))
def test_each_stage_draws_the_lectures_parameters_from_the_same_generator(name):
    W1, b1, W2, b2 = LECTURE_FACTORS[name]
    expected, g_expected = lecture_draws(lecture.SEED, W1, b1, W2, b2)
    g = torch.Generator().manual_seed(lecture.SEED)
    params = torch_makemore.init_params(name, g)
    assert [tuple(p.shape) for p in params] == [(27, 10), (30, 200), (200,), (200, 27), (27,)]
    for ours, theirs in zip(params, expected):
        assert torch.equal(ours.detach(), theirs) and ours.requires_grad
    # the generator is left where the lecture's is: its first batch is the same
    assert torch.equal(torch.randint(0, 1000, (32,), generator=g), torch.randint(0, 1000, (32,), generator=g_expected))


def test_the_scales_are_the_lectures_numbers():
    kaiming = lecture.stage("kaiming")
    assert kaiming.W1 == pytest.approx(5 / 3 / math.sqrt(30), rel=1e-15) and kaiming.b1 == 0.01
    assert [s.name for s in lecture.STAGES] == list(LECTURE_FACTORS)
    assert lecture.learning_rate(99_999, 200_000) == 0.1 and lecture.learning_rate(100_000, 200_000) == 0.01
    with pytest.raises(ValueError, match="'xavier'"):
        lecture.stage("xavier")


@pytest.fixture(scope="module")
def tensors():
    return torch_makemore.lecture_tensors()


def test_the_tensors_are_the_lectures_split(tensors):
    # the counts of the lecture's split (data's README, checked against the lecture's own shuffle in test_data)
    assert [tensors[k].shape[0] for k in ("Xtr", "Xdev", "Xte")] == [182_625, 22_655, 22_866]
    assert tensors["Xtr"].dtype == torch.int64 and tuple(tensors["Xtr"].shape[1:]) == (3,)


def test_the_first_steps_match_a_loop_written_differently(tensors):
    steps = 6
    run = torch_makemore.train_stage("kaiming", tensors, steps=steps)
    params, g = lecture_draws(lecture.SEED, *LECTURE_FACTORS["kaiming"])
    params = [p.requires_grad_() for p in params]
    C, W1, b1, W2, b2 = params
    # half of `steps` at 0.1, then 0.01: the lecture's schedule scaled to this run
    optimizer = torch.optim.SGD(params, lr=0.1)
    losses = []
    for step in range(steps):
        if step == steps // 2:
            optimizer.param_groups[0]["lr"] = 0.01
        ix = torch.randint(0, tensors["Xtr"].shape[0], (32,), generator=g)
        h = torch.tanh(F.linear(C[tensors["Xtr"][ix]].flatten(1), W1.T, b1))
        loss = F.cross_entropy(F.linear(h, W2.T, b2), tensors["Ytr"][ix])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert run["losses"] == pytest.approx(losses, rel=1e-5)
    assert run["loss_step0"] == run["losses"][0] and run["decay_step"] == steps // 2
    with torch.no_grad():
        def split_loss(X, Y):
            return F.cross_entropy(torch.tanh(C[X].flatten(1) @ W1 + b1) @ W2 + b2, Y).item()
        assert run["train_loss"] == pytest.approx(split_loss(tensors["Xtr"], tensors["Ytr"]), rel=1e-4)
        assert run["val_loss"] == pytest.approx(split_loss(tensors["Xdev"], tensors["Ydev"]), rel=1e-4)


def test_the_kept_steps_are_the_first_and_last_batches(tensors):
    run = torch_makemore.train_stage("original", tensors, steps=3)
    params, g = lecture_draws(lecture.SEED)
    C, W1, b1, W2, b2 = params
    ix = torch.randint(0, tensors["Xtr"].shape[0], (32,), generator=g)
    preact = C[tensors["Xtr"][ix]].view(-1, 30) @ W1 + b1
    assert torch.equal(run["init"]["hpreact"], preact) and torch.equal(run["init"]["h"], torch.tanh(preact))
    h = torch.tanh(preact)
    # the seed's boolean_tensor and its white columns
    assert run["init"]["saturated_pct"] == pytest.approx(100 * (h.abs() > 0.99).double().mean().item(), abs=1e-12)
    assert run["init"]["dead"] == [j for j in range(200) if bool((h[:, j].abs() > 0.99).all())]
    # what tanh passes back is (1 - h**2) times what reaches h; near |h| = 1, 1 - h**2 in float32 cancels
    # (torch's kernel may fuse it), so the two agree to 1e-3 there, computed in float64 here
    expected = (1 - h.double() ** 2) * run["init"]["grad_h"].double()
    assert torch.allclose(run["init"]["grad_hpreact"].double(), expected, rtol=1e-3, atol=1e-12)
    assert run["trained"]["step"] == 2 and run["init"]["step"] == 0
    assert run["init"]["loss"] == run["losses"][0] and run["trained"]["loss"] == run["losses"][2]


def test_one_step_is_both_init_and_trained(tensors):
    run = torch_makemore.train_stage("tanh fixed", tensors, steps=1)
    assert run["init"] is run["trained"] and run["losses"] == [run["loss_step0"]]


@pytest.mark.parametrize("steps", [0, -1, 2.5, True])
def test_bad_steps_are_refused_naming_the_value(tensors, steps):
    with pytest.raises(ValueError, match=f"steps must be a positive int, got {steps!r}"):
        torch_makemore.train_stage("original", tensors, steps=steps)
