"""The live training view (viz.live): its numbers against the traces' own methods and SGD's ratios, its
throttle on a fake clock, the terminal's progress line, Ctrl-C at any moment, and the replay page it saves.

Drawing a frame costs seconds on a busy machine, so the throttle tests replace the drawing by a stub
(what is tested is when the view draws, not how); the tests of the picture draw real frames.
"""

import gc
import io
import json
import math
import re
import subprocess
import sys
import weakref

import numpy as np
import pytest

import viz.live_view as live_view
from micrograd_it.data import make_moons
from micrograd_it.losses import hinge
from micrograd_it.nn import MLP
from micrograd_it.optim import SGD
from tests.interrupts import interrupt_after, interrupted_at_line
from viz import live
from viz import live_numbers
from viz.replay import frame_numbers, replay_frame

X, Y = make_moons(n=24, noise=0.1, seed=0, labels=(-1, 1))


def small_net(activation="tanh"):
    """A net that saturates: biases of 3 (the README's bad init), trained at a high learning rate."""
    return MLP(2, [8, 8, 1], activation=activation, init="scaled", bias_init=3.0, seed=0)


def train(net, view, steps, lr=0.5, seen=None, on_trace=None):
    """Train `net` `steps` steps, calling view.update each; record in `seen` what the traces themselves say;
    `on_trace(tr)` is called with each step's trace."""
    optimizer = SGD(net, lr=lr)
    for _ in range(steps):
        with net.trace() as tr:
            loss = hinge([net(x) for x in X], Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        view.update(loss=loss, trace=tr)
        if on_trace is not None:
            on_trace(tr)
        if seen is not None:
            seen["loss"].append(loss.data)
            seen["dead"].append([tr.layers[i].dead() for i in range(2)])
            seen["saturated"].append([tr.layers[i].summary()["saturated_pct"] for i in range(2)])
            seen["frames"].append(replay_frame(tr.layers[0], loss.data))
    return optimizer


def new_seen():
    return {"loss": [], "dead": [], "saturated": [], "frames": []}


def test_the_replay_frame_from_arrays_is_the_studys_replay_frame():
    net = small_net()
    with net.trace() as tr:
        loss = hinge([net(x) for x in X], Y)
    loss.backward()
    for layer in tr.layers:
        assert frame_numbers(loss.data, layer.saturated(), layer.grad_in) == replay_frame(layer, loss.data)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "elu"])
def test_the_numbers_of_every_step_are_the_traces_own_and_the_ratios_sgds(activation):
    # tanh and sigmoid: the catalogue's rule on whole arrays; relu, elu: the layer's own saturated()
    net, seen = small_net(activation), new_seen()
    view = live(net, output="none")
    optimizer = train(net, view, 6, seen=seen)
    assert view.steps == 6 and view.losses == seen["loss"]
    for index in range(2):
        history = view.layer_history(index)
        assert history["dead_neurons"] == [dead[index] for dead in seen["dead"]]
        assert history["saturated_pct"] == pytest.approx([pct[index] for pct in seen["saturated"]], rel=1e-12)
    if activation == "tanh":  # the net did lose neurons: the comparison saw some
        assert any(layer for step in seen["dead"] for layer in step)
    # SGD computes its ratio in pure Python (a scaled two-pass std); the view from the data before and after
    assert len(view.ratio_history) == len(optimizer.ratio_history)
    for mine, sgds in zip(view.ratio_history, optimizer.ratio_history):
        assert mine.keys() == sgds.keys()
        for group in sgds:
            assert (mine[group] is None) == (sgds[group] is None), group
            if sgds[group] is not None:
                assert mine[group] == pytest.approx(sgds[group], abs=1e-9)


def test_a_loss_only_loop_with_parameters_given_by_params():
    net = small_net()
    view = live(params=net.parameters(), output="none")
    optimizer = SGD(net, lr=0.1)
    for _ in range(3):
        loss = hinge([net(x) for x in X], Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        view.update(loss=loss)
    assert view.steps == 3 and len(view.ratio_history) == 3
    with pytest.raises(ValueError, match="no traced layer"):
        view.layer_history(0)
    with pytest.raises(ValueError, match="no traced layer"):
        view.save("never.html")


def test_the_view_keeps_no_older_steps_trace_so_a_long_run_does_not_keep_every_graph(tmp_path):
    # each step's trace holds that step's whole graph (the makemore MLP's: ~15 MB); only the newest is drawn
    net = small_net()
    view = live(net, output="none")
    first_layers = []
    train(net, view, 1, lr=0.1, on_trace=lambda tr: first_layers.extend(weakref.ref(layer) for layer in tr.layers))
    train(net, view, 2, lr=0.1)
    gc.collect()
    assert len(first_layers) == 3 and all(ref() is None for ref in first_layers)
    # what the view keeps of the old steps still gives their numbers and the replay page
    assert view.layer_history(0)["steps"] == [0, 1, 2]
    assert str(view.save(tmp_path / "replay.html")).endswith("replay.html")


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_the_newest_step_is_kept_as_arrays_that_draw_what_the_layer_itself_draws(activation):
    net = small_net(activation)
    view = live(net, output="none")
    with net.trace() as tr:
        loss = hinge([net(x) for x in X], Y)
    loss.backward()
    view.update(loss=loss, trace=tr)
    kept = view._records[-1].trace_layers
    assert all(isinstance(layer, live_numbers.LayerArrays) for layer in kept)  # no Value: the graph can go
    for original, arrays in zip(tr.layers, kept):
        redrawn = live_numbers.drawable(arrays)
        for what in ("preact", "act", "grad_out", "grad_in", "saturated", "dead", "saturation"):
            mine, theirs = getattr(redrawn, what), getattr(original, what)
            assert (mine() if callable(mine) else mine) == (theirs() if callable(theirs) else theirs), what
        assert (redrawn.name, redrawn.activation) == (original.name, original.activation)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="threshold"):
        live(threshold=1.5, output="none")
    with pytest.raises(ValueError, match="output"):
        live(output="window")
    with pytest.raises(ValueError, match="max_fps"):
        live(max_fps=0, output="none")
    for total in (-3, 0, 2.5, True, "10"):
        with pytest.raises(ValueError, match=f"total must be a positive int.*{total!r}"):
            live(output="none", total=total)
    with pytest.raises(TypeError, match=r"live\(net\) needs a Module.*'a net' \(str\)"):
        live("a net", output="none")
    with pytest.raises(TypeError, match=r"live\(params=...\) needs a Module.*\(bytes\)"):
        live(params=b"ab", output="none")
    view = live(output="none")
    with pytest.raises(TypeError, match="'abc'"):
        view.update(loss="abc")
    with pytest.raises(TypeError, match="trace"):
        view.update(loss=1.0, trace=[1, 2])
    assert view.steps == 0  # a refused update keeps nothing
    view.close()
    with pytest.raises(RuntimeError, match="closed"):
        view.update(loss=1.0)


class FakeClock:
    """Seconds that move only when the test says (or when a stub drawing takes `draw_cost`)."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.fixture
def stub_drawing(monkeypatch):
    """Replace the drawing by a stub that records the step drawn and costs `clock.draw_cost` fake seconds."""
    drawn = []
    state = {"clock": None, "cost": 0.0}

    def draw_frame(figure, records, shown, threshold, title):
        drawn.append(records[-1].step)
        if state["clock"] is not None:
            state["clock"].now += state["cost"]
        return {"step": records[-1].step, "loss": records[-1].loss, "layers": []}

    monkeypatch.setattr(live_view, "draw_frame", draw_frame)
    monkeypatch.setattr(live_view, "frame_png", lambda figure, text, dpi=72: b"png")
    return drawn, state


def test_the_view_draws_at_most_max_fps_frames_a_second_and_always_the_final_step(stub_drawing):
    drawn, _ = stub_drawing
    clock, frames = FakeClock(), []
    view = live(output=frames.append, clock=clock, max_fps=2.0)
    for step in range(100):  # 100 steps a second for one second
        clock.now = step * 0.01
        view.update(loss=float(step))
    # at 2 frames a second: steps 0 (t = 0), 50 (t = 0.5); the final one (99) on close
    assert drawn == [0, 50]
    view.close()
    assert drawn == [0, 50, 99]
    assert [frame.summary["step"] for frame in frames] == [0, 50, 99]
    view.close()  # twice: nothing more
    assert drawn == [0, 50, 99]


def test_slow_drawing_stays_within_its_time_budget_over_the_whole_run_first_and_final_frames_included(stub_drawing):
    drawn, state = stub_drawing
    clock = FakeClock()
    state["clock"], state["cost"] = clock, 0.2  # each frame costs 0.2 s: at 5%, one frame per 4 s
    view = live(output=lambda frame: None, clock=clock, max_fps=2.0, draw_budget=0.05)
    start = clock.now
    for step in range(1000):  # a step every 0.1 s (plus the drawing's own time): 100 s of training
        clock.now += 0.1
        view.update(loss=1.0)
        if step >= 100:  # from the point where two frames fit the budget: drawing within 5% of the time so far
            assert view.draw_seconds + 0.2 <= 0.05 * (clock.now - start) + 1e-9  # the final frame reserved too
    view.close()
    assert drawn[0] == 0 and drawn[-1] == 999
    assert view.draw_seconds == pytest.approx(0.2 * len(drawn))
    assert view.draw_seconds <= 0.05 * (clock.now - start)
    # and not far below it: frames come as often as the budget allows (every 4 s, i.e. ~40 steps, once running)
    assert view.draw_seconds >= 0.05 * (clock.now - start) - 3 * 0.2
    assert all(gap >= 36 for gap in np.diff(drawn[1:-1]))  # 4 s: 38 steps of 0.1 s and a frame of 0.2 s


def test_a_run_shorter_than_two_frames_budget_draws_only_its_first_and_final_frames(stub_drawing):
    drawn, state = stub_drawing
    clock = FakeClock()
    state["clock"], state["cost"] = clock, 0.2
    view = live(output=lambda frame: None, clock=clock, draw_budget=0.05)  # 2 frames fit after 8 s
    for step in range(70):  # 7 s
        clock.now += 0.1
        view.update(loss=1.0)
    view.close()
    assert drawn == [0, 69]


def test_the_final_frame_is_not_drawn_twice(stub_drawing):
    drawn, _ = stub_drawing
    view = live(output=lambda frame: None, clock=FakeClock())
    view.update(loss=1.0)
    view.close()
    assert drawn == [0]


def test_on_a_terminal_the_progress_line_says_loss_dead_and_saturated():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    net, stream, seen = small_net(), Terminal(), new_seen()
    with live(net, stream=stream, total=3, title="moons") as view:
        train(net, view, 3, seen=seen)
    text = stream.getvalue()
    assert "moons" in text and "3/3" in text
    last_line = text.replace("\r", "\n").strip().splitlines()[-1]
    dead = len(seen["dead"][-1][0])
    assert f"loss={seen['loss'][-1]:.4f}" in last_line
    assert f"layers.0: dead={dead}/8, saturated={seen['saturated'][-1][0]:.1f}%" in last_line
    assert view.frames_drawn == 0  # a terminal gets no pictures


def test_a_log_or_a_pipe_gets_nothing():
    stream = io.StringIO()  # not a terminal
    view = live(stream=stream)
    view.update(loss=1.0)
    view.close()
    assert stream.getvalue() == "" and view.frames_drawn == 0


def test_a_script_never_imports_ipython():
    code = ("import sys, viz; v = viz.live(); v.update(loss=1.0); v.close(); "
            "print('IPython' in sys.modules, type(v._output).__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "NoOutput"]


def test_ctrl_c_at_any_line_of_a_steps_measurement_keeps_nothing_of_it():
    net = small_net()
    view = live(net, output="none")
    train(net, view, 2)
    with net.trace() as tr:
        loss = hinge([net(x) for x in X], Y)
    loss.backward()
    lines = interrupted_at_line(lambda: view.update(loss=loss, trace=tr), live_numbers, 0)
    assert view.steps == 3
    for at_line in range(1, lines + 1, max(1, lines // 40)):
        before = (view.steps, view.losses[:], len(view.ratio_history))
        interrupted_at_line(lambda: view.update(loss=loss, trace=tr), live_numbers, at_line)
        after = (view.steps, view.losses, len(view.ratio_history))
        assert after == before or (after[0] == before[0] + 1 and after[1] == before[1] + [loss.data]), at_line
    view.update(loss=loss, trace=tr)  # still usable


def test_ctrl_c_inside_the_drawing_leaves_the_last_frame_and_a_usable_view(monkeypatch, tmp_path):
    frames, calls = [], []
    real_png = live_view.frame_png

    def png_interrupted_once(figure, text, dpi=72):
        calls.append(text)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_png(figure, text, dpi)

    monkeypatch.setattr(live_view, "frame_png", png_interrupted_once)
    net, clock = small_net(), FakeClock()
    view = live(net, output=frames.append, clock=clock)
    train(net, view, 1)  # frame of step 0
    clock.now = 10.0
    with pytest.raises(KeyboardInterrupt):
        train(net, view, 1)  # step 1 is measured, its drawing interrupted
    assert view.steps == 2 and view.last_frame.summary["step"] == 0 and len(frames) == 1
    assert view.save(tmp_path / "replay.html")
    view.close()  # draws the final step
    assert view.last_frame.summary["step"] == 1 and len(frames) == 2


def test_a_real_signal_at_random_moments_leaves_the_view_consistent(tmp_path):
    net = small_net()
    view = live(net, output="none")
    for delay in (0.05, 0.13, 0.29, 0.41):
        interrupt_after(delay, lambda: train(net, view, 30))  # bounded: a signal swallowed by a finaliser ends too
        n = view.steps
        assert len(view.losses) == n and len(view.ratio_history) == n
        if n:  # on a busy machine the first signal may land before the first update
            assert len(view.layer_history(0)["dead"]) == n
    train(net, view, 1)  # still usable
    page = view.save(tmp_path / "replay.html")
    assert len(_replay_data(page)["frames"]) == view.steps


def _replay_data(path):
    text = open(path, encoding="utf-8").read()
    return json.loads(re.search(r'<script type="application/json" id="micrograd-replay">(.*?)</script>', text,
                                re.S)[1])


def test_save_writes_the_studys_replay_page_of_the_steps_watched(tmp_path):
    net, seen = small_net(), new_seen()
    view = live(net, output="none")
    train(net, view, 4, seen=seen)
    data = _replay_data(view.save(tmp_path / "run.html"))
    assert data["frames"] == seen["frames"]  # the study's replay_frame of each step's trace
    assert data["layer_key"] == "l0"


def _png_description(png):
    from PIL import Image

    return Image.open(io.BytesIO(png)).text["Description"]


def test_a_real_frame_carries_the_final_steps_numbers(tmp_path):
    net, seen, frames = small_net(), new_seen(), []
    with live(net, output=frames.append, max_fps=1e-9) as view:  # one frame at the start, one at the end
        train(net, view, 3, seen=seen)
    assert [frame.summary["step"] for frame in frames] == [0, 2]
    final = frames[-1]
    dead = len(seen["dead"][-1][0])
    expected = (f"step 2: loss {seen['loss'][-1]:.6g}; layers.0: {dead}/8 dead, "
                f"{seen['saturated'][-1][0]:.1f}% saturated")
    assert expected in final.text and _png_description(final.png) == final.text
    (tmp_path / "frame.png").write_bytes(final.png)


def test_a_torch_model_traced_by_trace_torch():
    torch = pytest.importorskip("torch")
    from micrograd_it.torch_trace import trace_torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    with torch.no_grad():
        model[0].bias.fill_(3.0)  # the same bad init: most tanh outputs at +1
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    inputs, targets = torch.tensor(X, dtype=torch.float32), torch.tensor(Y, dtype=torch.float32)
    view, dead, saturated, ratios, losses = live(model, output="none"), [], [], [], []
    for _ in range(4):
        before = {name: p.detach().clone() for name, p in model.named_parameters()}
        with trace_torch(model) as tr:
            loss = ((model(inputs).squeeze(1) - targets) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        view.update(loss=loss, trace=tr)
        losses.append(loss.item())
        dead.append(tr.layers[0].dead())
        saturated.append(tr.layers[0].summary()["saturated_pct"])
        # torch's own numbers: log10(std(update) / std(data)) per tensor (each is its own group here)
        ratios.append({name: math.log10((p.detach().double() - before[name].double()).std(correction=0).item()
                                        / p.detach().double().std(correction=0).item())
                       for name, p in model.named_parameters() if p.numel() > 1})
    history = view.layer_history(0)
    assert history["dead_neurons"] == dead and history["saturated_pct"] == pytest.approx(saturated, rel=1e-12)
    assert view.losses == losses
    for mine, theirs in zip(view.ratio_history, ratios):
        for name, value in theirs.items():
            assert mine[name] == pytest.approx(value, abs=1e-6), name


def test_code_without_a_module_traced_by_trace_values():
    from micrograd_it import Value, trace_values

    net = small_net()  # its Values used by hand below: no net.trace(), no Module passed to the view
    params = net.parameters()
    view, dead, saturated, losses = live(params=params, output="none"), [], [], []

    def forward(x):  # one function call per sample: trace_values makes a row per sample
        h = x
        for layer in net.layers[:-1]:
            h = [sum((w * xi for w, xi in zip(n.w, h)), n.b).tanh() for n in layer.neurons]
        return sum((w * hi for w, hi in zip(net.layers[-1].neurons[0].w, h)), net.layers[-1].neurons[0].b)

    for _ in range(4):
        with trace_values() as tr:
            loss = hinge([forward([Value(a) for a in x]) for x in X], Y)
        for p in params:
            p.grad = 0.0
        loss.backward()
        for p in params:
            p.data -= 0.5 * p.grad
        view.update(loss=loss, trace=tr)
        losses.append(loss.data)
        dead.append([layer.dead() for layer in tr.layers])
        saturated.append([layer.summary()["saturated_pct"] for layer in tr.layers])
    # the two tanh layers (a row per sample) and the hinge loss's relu (one row of 24)
    assert len(tr.layers) == 3 and tr.layers[0].n_samples == len(X) and tr.layers[0].n_neurons == 8
    assert view.losses == losses
    for index in range(3):
        history = view.layer_history(index)
        assert history["dead_neurons"] == [step[index] for step in dead]
        assert history["saturated_pct"] == pytest.approx([step[index] for step in saturated], rel=1e-12)
    assert len(view.ratio_history) == 4


def test_the_notebook_check_of_the_kernels_messages_can_fail():
    # tests/live_checks.py on made-up messages: the right ones pass, each wrong one fails
    import base64
    import copy

    import matplotlib.figure

    from tests import live_checks
    from viz.live_frame import frame_png

    final = {"step": 9, "steps": 10, "loss": 2.5, "dead": 3, "saturated_pct": 40.0}
    text = "live training view, step 9: loss 2.5; h: 3/8 dead, 40.0% saturated"
    png = base64.b64encode(frame_png(matplotlib.figure.Figure(figsize=(1, 1)), text)).decode("ascii")
    numbers = {"step": 9, "loss": 2.5, "layers": [{"name": "h", "dead": 3, "saturated_pct": 40.0, "n_neurons": 8,
                                                   "n_samples": 4}]}

    def message(kind, seconds, display_id="a"):
        return (1, {"msg_type": kind, "header": {"date": f"2026-12-06T13:00:{seconds:02d}+00:00"},
                    "content": {"transient": {"display_id": display_id}, "data": {"image/png": png, "text/plain": text},
                                "metadata": {"micrograd_it": {"live_view": copy.deepcopy(numbers)}}}})

    good = [message("display_data", 0), message("update_display_data", 5)]
    live_checks.check_messages(good, final)
    wrong = [good + [message("display_data", 6, "b")],  # a second output area
             [message("display_data", 0)] + [message("update_display_data", 1)] * 9,  # 10 frames in a second
             good[:1] + [message("update_display_data", 5, "b")]]  # an update of another area
    for messages in wrong:
        with pytest.raises(AssertionError):
            live_checks.check_messages(messages, final)
    for key, value in (("loss", 2.4), ("dead", 4), ("step", 8)):
        with pytest.raises(AssertionError):
            live_checks.check_messages(good, dict(final, **{key: value}))
