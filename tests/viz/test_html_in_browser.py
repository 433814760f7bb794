"""What Jupyter would show as text/html, read back from headless Chromium's DOM.

One page holds the HTML of a Trace, a LayerTrace, a Value and two graphs (draw_dot,
draw_network), as a notebook front end would insert them. The browser must parse the
graphs as inline SVG with their tooltips, decode the saturation map to the mask's
pixels, show hostile text as text, log no error and fetch nothing.
"""

import shutil

import pytest

webdriver = pytest.importorskip("selenium.webdriver")
pytest.importorskip("matplotlib")

from micrograd_it import Value  # noqa: E402
from micrograd_it.losses import mse  # noqa: E402
from micrograd_it.nn import MLP  # noqa: E402
from viz import draw_dot, draw_network  # noqa: E402

CHROMIUM, DRIVER = shutil.which("chromium") or shutil.which("chromium-browser"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM and DRIVER):
        pytest.skip("headless Chromium and chromedriver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    net = MLP(2, [6, 1], init=4.0, seed=0)
    net.layers[0].neurons[2].b.data = 50.0  # tanh(50 + w.x) = 1 on every sample: a dead neuron to mark
    with net.trace() as tr:
        loss = mse([net([0.4 * i, -0.3 * i]) for i in range(8)], [0.5] * 8)
    loss.backward()
    a = Value(2.0, label='<img src=x onerror="alert(1)">')
    o = (a * Value(-3.0, label="b")).tanh()
    o.label = "o"
    o.backward()
    parts = {"trace": tr._repr_html_(), "layer": tr.layers[0]._repr_html_(), "value": a._repr_html_(),
             "graph": draw_dot(o)._repr_mimebundle_()["text/html"],
             "network": draw_network(net, tr)._repr_mimebundle_()["text/html"]}
    body = "".join(f'<section id="{name}">{html}</section>' for name, html in parts.items())
    path = tmp_path_factory.mktemp("page") / "reprs.html"
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}</body></html>")
    browser.get(path.as_uri())
    browser.save_screenshot(str(path.with_suffix(".png")))
    return browser, tr


def test_graphs_are_inline_svg_with_their_tooltips(page):
    browser, _ = page
    kinds = browser.execute_script(
        "return [...document.querySelectorAll('.micrograd-it-graph > svg')].map(s => s instanceof SVGSVGElement)")
    assert kinds == [True, True]
    tooltips = browser.execute_script(
        "return [...document.querySelectorAll('#network svg a')]"
        ".map(a => a.getAttributeNS('http://www.w3.org/1999/xlink', 'title'))")
    assert len([text for text in tooltips if "saturated on" in text]) == 7  # one per neuron, 6 + 1
    widths = browser.execute_script(
        "return [...document.querySelectorAll('.micrograd-it-graph > svg')]"
        ".map(s => [s.getBoundingClientRect().width, s.width.baseVal.value, document.body.clientWidth])")
    for shown, natural, page_width in widths:
        assert shown <= page_width + 0.5 and (natural <= page_width or shown < natural)  # shrunk to fit
    titles = browser.execute_script("return [...document.querySelectorAll('#graph svg title')].length")
    assert titles > 3  # every node and edge carries its <title>: the browser's hover text


def test_the_saturation_map_decodes_to_the_layers_mask(page):
    browser, tr = page
    pixels = browser.execute_script("""
        const img = document.querySelector('#layer img');
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
        const context = canvas.getContext('2d');
        context.drawImage(img, 0, 0);
        const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
        const rows = [];
        for (let y = 0; y < canvas.height; y++) {
            const row = [];
            for (let x = 0; x < canvas.width; x++) row.push(data[4 * (y * canvas.width + x)]);
            rows.push(row);
        }
        return rows;""")
    flags = tr.layers[0].saturated()
    assert pixels[2:] == [[255 if flag else 0 for flag in row] for row in flags]
    assert tr.layers[0].dead() == [2]
    assert [j for j, red in enumerate(pixels[0]) if red == 0xD5] == [2]


def test_tables_and_hostile_text(page):
    browser, tr = page
    cells = browser.execute_script(
        "return [...document.querySelectorAll('#trace tbody tr')].map(r => [...r.cells].map(c => c.textContent))")
    assert cells == [line.split() for line in str(tr).splitlines()[1:]]
    label = browser.execute_script("return document.querySelector('#value tbody td').textContent")
    assert label == '<img src=x onerror="alert(1)">'
    assert browser.execute_script("return document.querySelectorAll('#value img').length") == 0


def test_no_console_error_and_no_request(page):
    browser, _ = page
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith('data:'))")
    assert fetched == []
