"""The figures, the network map, the neuron graph and the recorder take trace_values() layers as net.trace()'s.

Each is checked by its data (the mask, the counts, the map's numbers) against the layer's own
methods; the PNGs written by `main()` are for a person to look at.
"""

from micrograd_it import Value, trace_values
from micrograd_it.nn import MLP
from micrograd_it.recorder import StatsRecorder
from tests.lecture_code import LectureMLP, gpt_parameters, tiny_gpt_loss
from viz.graph import draw_graph
from viz.network import draw_network, network_numbers
from viz.plots_hist import activation_hist, grad_hist
from viz.plots_saturation import saturation_map, saturation_mask
from viz.plots_stats import stats_over_steps

X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
Y = [1.0, -1.0, -1.0, 1.0]
TOKENS = [0, 3, 1, 4, 2, 5, 1]


def traced_gpt(params=None):
    params = params or gpt_parameters(Value)
    with trace_values() as tr:
        loss = tiny_gpt_loss(TOKENS, params, [])
    loss.backward()
    return tr, loss


def traced_lecture_mlp():
    lecture = LectureMLP(MLP(3, [4, 4, 1], activation="tanh", last_activation="tanh", seed=1), Value)
    with trace_values() as tr:
        loss = sum((lecture(x) - y) ** 2 for x, y in zip(X, Y))
    loss.backward()
    return lecture, tr, loss


def test_saturation_map_and_histograms_read_a_traced_relu_layer():
    tr, _ = traced_gpt()
    [layer] = tr.layers
    mask, dead, _ = saturation_mask(layer)
    assert mask.tolist() == layer.saturated() and dead == layer.dead() and len(dead) >= 2
    ax = saturation_map(layer)
    assert layer.name in ax.get_title() and f"{len(dead)} dead neurons" in ax.get_title()
    counts = activation_hist(layer).patches
    assert sum(patch.get_height() for patch in counts) == layer.n_samples * layer.n_neurons
    assert grad_hist(layer).get_title()


def test_the_network_map_and_the_neuron_graph_take_the_lecture_mlps_trace():
    lecture, tr, loss = traced_lecture_mlp()
    _, layers = network_numbers(lecture, tr)
    assert [numbers.dead for numbers in layers] == [set(layer.dead()) for layer in tr.layers]
    assert [numbers.saturation for numbers in layers] == [layer.saturation() for layer in tr.layers]
    assert draw_network(lecture, tr).source
    source = draw_graph(loss, group="neuron", trace=tr).source
    # one node per neuron and sample of every traced layer (ids g<layer>_<neuron>_<sample>)
    cells = {line.split()[0] for line in source.splitlines() if line.startswith("g") and "shape=" in line}
    assert cells == {f"g{i}_{j}_{s}" for i, layer in enumerate(tr.layers)
                     for j in range(layer.n_neurons) for s in range(layer.n_samples)}


def test_the_recorder_keeps_each_traced_layer_by_its_name_over_steps():
    recorder = StatsRecorder()
    params = gpt_parameters(Value)
    for step in range(3):
        tr, _ = traced_gpt(params)
        recorder.record(tr)
        for matrix in params.values():
            for row in matrix:
                for p in row:
                    p.data -= 0.1 * p.grad
                    p.grad = 0.0
    [name] = recorder.layers
    assert name == tr.layers[0].name
    history = recorder[name]
    assert list(history.steps) == [0, 1, 2]
    assert list(history.dead)[-1] == len(tr.layers[0].dead())
    assert stats_over_steps(recorder, stat="dead").get_lines()


def main(folder="/tmp"):
    """Write the figures of these tests as PNGs into `folder`, for a person to look at."""
    tr, _ = traced_gpt()
    saturation_map(tr.layers[0]).figure.savefig(f"{folder}/trace_values_relu_map.png")
    lecture, mlp_trace, _ = traced_lecture_mlp()
    draw_network(lecture, mlp_trace).render(f"{folder}/trace_values_network", format="png", cleanup=True)
    print(tr, mlp_trace, sep="\n\n")


if __name__ == "__main__":
    main()
