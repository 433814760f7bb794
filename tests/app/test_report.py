"""report.html: well-formed, every figure embedded, nothing external, and its numbers are the run's."""

import base64
import re
from html.parser import HTMLParser

import pytest

from micrograd_it_app._html import esc, figure
from micrograd_it_app._study_numbers import study_numbers
from micrograd_it_app.report import build_report
from micrograd_it_app.study import ConfigRun, StudyOptions, StudyResult

# Elements HTML allows without a closing tag; everything else must be closed in order.
VOID = {"meta", "img", "br", "hr", "link", "input", "source", "col", "area", "base", "wbr", "embed", "param", "track"}
# SVG elements may close themselves (<path/>); HTMLParser reports those through handle_startendtag.


class StructureChecker(HTMLParser):
    """Records tags, checks they nest properly, and collects every src/href and every embedded figure."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.links, self.figures, self.images, self.text = [], [], [], [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("src", "href", "xlink:href", "action", "data"):
            if attrs.get(name):
                self.links.append(attrs[name])
        if tag == "figure":
            self.figures.append(attrs.get("data-file"))
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        for name in ("src", "href", "xlink:href"):
            value = dict(attrs).get(name)
            if value:
                self.links.append(value)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check(page):
    checker = StructureChecker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == [], (checker.errors, checker.stack)
    return checker


PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
SVG = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
       '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<!-- generated -->\n'
       '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><g><title>n&lt;1</title>'
       '<circle cx="5" cy="5" r="4" onclick="alert(1)"/></g><script>alert(2)</script></svg>\n')


def numbers(loss, low, high, saturated, dead, n_neurons=6, n_samples=4):
    return {"loss": loss, "n_samples": n_samples, "n_neurons": n_neurons, "preact_min": low, "preact_max": high,
            "preact_std": (high - low) / 4, "saturated_pct": saturated, "dead": dead,
            "mostly_saturated": len(dead) + 1, "pass_through": 0.25}


def fake_result(tmp_path, bad_low=-19.25):
    """A StudyResult with made-up but distinctive numbers and tiny figure files, for structure tests."""
    def files(prefix):
        written = {}
        for kind in ("hist_act", "hist_preact", "saturation_map", "grad_hist", "update_ratio", "loss"):
            path = tmp_path / f"{prefix}_{kind}.png"
            path.write_bytes(PNG_1x1)
            written[kind] = str(path)
        network = tmp_path / f"{prefix}_network.svg"
        network.write_text(SVG)
        written["network"] = str(network)
        if prefix != "high_lr":  # the seed-size map of the one-pass net (high_lr starts from the fixed init)
            network_full = tmp_path / f"{prefix}_network_full.svg"
            network_full.write_text(SVG)
            written["network_full"] = str(network_full)
        return written

    runs = [
        ConfigRun("bad_init", "bad init", 1.0, 0.5, one_pass=numbers(23.5, bad_low, 20.5, 61.5, []),
                  losses=[23.5, 9.0], dead_over_steps=[0, 0], final=numbers(8.75, -5, 5, 60.0, [])),
        ConfigRun("fixed_init", "fixed init", "scaled", 0.5, one_pass=numbers(3.25, -6.5, 6.25, 11.5, []),
                  losses=[3.25, 3.0], dead_over_steps=[0, 0], final=numbers(2.875, -3, 3, 9.0, [])),
        ConfigRun("high_lr", "too-high learning rate", "scaled", 5.0, one_pass=numbers(3.25, -6.5, 6.25, 11.5, []),
                  losses=[3.25, 30.0], dead_over_steps=[0, 3], final=numbers(17.5, -40, 40, 97.5, [1, 4, 5])),
    ]
    for run in runs:
        run.figures = files(run.key)
    gallery = tmp_path / "activations.png"
    gallery.write_bytes(PNG_1x1)
    shared = {"gallery": str(gallery)}
    for kind in ("loss_comparison", "dead_over_steps"):
        (tmp_path / f"{kind}.png").write_bytes(PNG_1x1)
        shared[kind] = str(tmp_path / f"{kind}.png")
    result = StudyResult(out_dir=str(tmp_path), options=StudyOptions(steps=2), runs=runs, figures=shared,
                         tanh_table=[(0.0, 0.0, 1.0), (5.0, 0.9999, 1.8e-4)], seconds=1.5)
    result.numbers = study_numbers(result)  # as run_study() does once its runs are in
    return result


def test_report_is_well_formed_and_self_contained(tmp_path):
    result = fake_result(tmp_path)
    page = build_report(result)
    checker = check(page)
    assert page.startswith("<!DOCTYPE html>")
    # nothing to fetch: no link leaves the page (data: URIs only), no script at all
    assert all(link.startswith("data:") or link.startswith("#") for link in checker.links), checker.links
    assert "<script" not in page.lower() and "onclick" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", page, re.I)


def test_every_figure_file_is_embedded_once(tmp_path):
    result = fake_result(tmp_path)
    checker = check(build_report(result))
    expected = {path for run in result.runs for path in run.figures.values()} | set(result.figures.values())
    expected_names = {str(p).rsplit("/", 1)[-1] for p in expected}
    embedded = [name for name in checker.figures if name]
    assert set(embedded) == expected_names
    # PNGs as base64 data URIs of exactly the file's bytes; SVGs inline
    assert all(src == "data:image/png;base64," + base64.b64encode(PNG_1x1).decode() for src in checker.images)
    page = build_report(result)
    assert page.count("<svg") == 5 and "<?xml" not in page and "<!DOCTYPE svg" not in page


def test_prose_numbers_come_from_the_result(tmp_path):
    # Change a measured number: the page must change with it (nothing typed in by hand).
    text_a = "".join(check(build_report(fake_result(tmp_path, bad_low=-19.25))).text)
    text_b = "".join(check(build_report(fake_result(tmp_path, bad_low=-7.75))).text)
    assert "-19.2" in text_a and "-19.2" not in text_b and "-7.8" in text_b
    assert "61.5%" in text_a  # the bad init's saturated %
    assert "3 of 6 neurons are dead" in text_a and "1, 4, 5" in text_a  # the high-lr run's dead list
    assert "step 1" in text_a  # the first step with a dead neuron, from dead_over_steps


def test_figure_and_table_escape_everything(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(PNG_1x1)
    html = figure(str(path), 'caption <b>"x"</b> & y', str(tmp_path))
    assert "<b>" not in html and "&lt;b&gt;" in html and "&amp; y" in html
    # The template escapes every value it is given: a hostile run title ends up as text in the tables.
    result = fake_result(tmp_path)
    result.runs[0].title = "<script>alert(1)</script>"
    page = build_report(result)
    assert "<script>" not in page and esc("<script>alert(1)</script>") in page
    check(page)


def test_figure_refuses_other_files(tmp_path):
    path = tmp_path / "a.pdf"
    path.write_bytes(b"%PDF")
    with pytest.raises(ValueError, match="only .png and .svg"):
        figure(str(path), "x")


def test_the_seed_size_maps_of_both_inits_are_shown_together_out_of_the_text_column(tmp_path):
    page = build_report(fake_result(tmp_path))
    section = page[page.index("5. The network, neuron by neuron"):]
    wide = re.search(r'<div class="wide">(.*?)</div>\s*<h3>', section, re.S).group(1)
    names = re.findall(r'<figure data-file="([^"]+)"', wide)
    assert names == ["bad_init_network_full.svg", "fixed_init_network_full.svg"]
    assert ".wide {" in page  # the style that lets a ~1500 px map keep its size


def with_seeds(result, tmp_path, dead_now_of_seed_1=(0, 2)):
    """Give `result` three seed runs of the too-high learning rate (2 neurons, 2 inputs, 3 steps) and their figures."""
    def seed_run(seed, dead_now, dead_steps, weights):
        run = ConfigRun("high_lr", f"seed {seed}", "scaled", 5.0, seed=seed, losses=[3.0, 9.0, 8.0],
                        final=numbers(8.0 + seed, -30, 30, 90.0, list(dead_now), n_neurons=2))
        run.dead_neurons_over_steps = dead_steps
        run.dead_over_steps = [len(dead) for dead in dead_steps]
        run.hidden_weights_over_steps = weights
        return run
    moving = [[[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 1.5]], [[3.0, 0.0], [0.0, 1.5]]]
    high = result.runs[2]
    high.seed, high.hidden_weights_over_steps = 0, moving
    high.dead_neurons_over_steps, high.dead_over_steps = [[], [1], [1]], [0, 1, 1]
    result.seed_runs = [high, seed_run(1, dead_now_of_seed_1, [[0], [0], []], moving),
                        seed_run(2, (1,), [[], [], [1]], moving)]
    for kind, name in (("high_lr_seeds", "high_lr_seeds.png"), ("after_death", "high_lr_after_death.png")):
        (tmp_path / name).write_bytes(PNG_1x1)
        result.figures[kind] = str(tmp_path / name)
    result.numbers = study_numbers(result)
    return result


def test_the_seed_table_and_the_dead_neurons_numbers_are_the_runs(tmp_path):
    page = build_report(with_seeds(fake_result(tmp_path), tmp_path))
    checker = check(page)
    assert {"high_lr_seeds.png", "high_lr_after_death.png"} <= set(checker.figures)
    rows = re.findall(r"<tr>(.*?)</tr>", page)
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in rows]
    seed_rows = [row for row in cells if len(row) == 7]
    # seed, dead after, most dead on a step, died, stayed dead, revived, loss
    assert seed_rows[0] == ["0", "3", "1", "1", "1", "0", "17.50"]  # neuron 1 died at step 1 and stayed dead
    assert seed_rows[1] == ["1", "2", "1", "1", "0", "1", "9.00"]  # neuron 0 dead on steps 0-1, alive on step 2
    assert seed_rows[2] == ["2", "1", "1", "1", "1", "0", "10.00"]
    assert seed_rows[3] == ["median (min-max)", "2 (1-3)", "1 (1-1)", "1 (1-1)", "1 (0-1)", "0 (0-1)",
                            "10.00 (9.00-17.50)"]
    text = " ".join("".join(checker.text).split())
    assert "2 (1-3) of 2 neurons are dead" in text
    # Each step's relative update, the same in every run: neuron 0 moves 1, 0, 0.5; neuron 1 moves 0, 0.5, 0.
    # Dead neuron-steps: seed 0 (1,1), (2,1) -> median 0.25; seed 1 (0,0), (1,0) -> 0.5; seed 2 (2,1) -> 0.
    # Alive ones: seed 0 -> median of 1, 0, 0, 0.5 = 0.25; seed 1 -> 0.25; seed 2 -> 0.5.
    assert "move by 25% (0%-50%) of their own size" in text and "against 25% (25%-50%)" in text
    assert "times less" not in text and "does not hold" in text  # no claim the numbers do not carry
    changed = build_report(with_seeds(fake_result(tmp_path), tmp_path, dead_now_of_seed_1=(0,)))
    assert "1 (1-3) of 2 neurons are dead" in " ".join("".join(check(changed).text).split())


def test_a_result_without_seed_runs_has_no_seed_section(tmp_path):
    page = build_report(fake_result(tmp_path))
    assert "seeds</h3>" not in page and "never learn" not in page


def test_the_report_formats_the_results_numbers_and_computes_none(tmp_path):
    # Put distinctive numbers into StudyResult.numbers by hand: the page must show exactly them, so it
    # cannot have computed them again from the runs.
    result = with_seeds(fake_result(tmp_path), tmp_path)
    spreads = result.numbers["seeds"]["spreads"]
    spreads["dead_now"] = {"median": 41, "min": 40, "max": 43}
    spreads["live_step_update"] = {"median": 0.125, "min": 0.0625, "max": 0.5}
    result.numbers["first_dead_step"] = 17
    result.numbers["update_ratio"].update(fixed_init=-2.0, high_lr=-1.0)
    result.numbers["update_percent"].update(fixed_init=1.0, high_lr=10.0)
    text = " ".join("".join(check(build_report(result)).text).split())
    assert "41 (40-43) of 2 neurons are dead" in text
    assert "against 12% (6.2%-50%)" in text
    assert "first dead neuron appears at step 17" in text
    assert "averages -2.00 at learning rate 0.5 and -1.00 at 5" in text and "about 10% of their own size" in text
    import micrograd_it_app.report as report
    assert not hasattr(report, "after_death") and not hasattr(report, "seed_summary")
