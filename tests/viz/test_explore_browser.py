"""The explorer page in a real headless Chromium: its contract read from the DOM after real clicks, no console
errors, no network request, hover, collapse/expand, and the notebook's iframe. Skipped, saying why, where no
browser can run (see tests/browser.py)."""

import html
import math

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from micrograd_it import Value
from tests.browser import console_errors, network_requests, start_browser, stop_browser
from tests.viz.test_explore import engine_grads, saturated_mlp
from tests.viz.test_graph import lecture_neuron
from viz.explore import explore
from viz.explore_steps import backward_order, replay



@pytest.fixture(scope="module")
def driver():
    browser, profile = start_browser()
    yield browser
    stop_browser(browser, profile)


def open_page(driver, path):
    """Load `path` from disk, then check that the page logged no error and asked the network for nothing."""
    console_errors(driver)
    network_requests(driver)  # forget what came before (the browser's own start page)
    driver.get(path.as_uri())
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return !!window.microgradExplorer"))
    assert console_errors(driver) == []
    assert network_requests(driver, documents={path.as_uri()}) == [path.as_uri()]  # the page itself, nothing else


def shown_grads(driver):
    """{node id: [data-grad of each drawn element]} as the DOM has them now."""
    pairs = driver.execute_script("return Array.from(document.querySelectorAll('[data-node]'))"
                                  ".map(e => [e.getAttribute('data-node'), e.getAttribute('data-grad')])")
    shown = {}
    for node, grad in pairs:
        shown.setdefault(int(node), []).append(grad)
    return shown


def press(driver, control, times=1):
    button = driver.find_element(By.ID, control)
    for _ in range(times):
        button.click()


def assert_shows_engine_grads(driver, root):
    expected = engine_grads(root)
    values = root.nodes()
    shown = shown_grads(driver)
    assert shown, "no element carries data-node"
    for node, grads in shown.items():
        for grad in grads:
            want = expected[id(values[node])]
            assert grad != "" and math.isclose(float(grad), want, rel_tol=1e-12, abs_tol=0.0) or float(grad) == want, \
                (node, grad, want)


def check_contract(driver, tmp_path, root, **options):
    page = explore(root, **options)
    path = tmp_path / "page.html"
    page.save(path)
    open_page(driver, path)
    assert all(grad == "" for grads in shown_grads(driver).values() for grad in grads)
    steps = len(page.data["order"])
    press(driver, "step", steps)
    assert_shows_engine_grads(driver, root)
    assert console_errors(driver) == []
    return page


def test_lecture_neuron_contract(driver, tmp_path):
    root, _ = lecture_neuron()
    check_contract(driver, tmp_path, root)


def test_a_plus_a_accumulates_two_contributions(driver, tmp_path):
    a = Value(3.0, label="a")
    root = a + a
    root.label = "r"
    check_contract(driver, tmp_path, root)
    assert "it accumulates" in driver.find_element(By.ID, "explain").text
    assert shown_grads(driver)[[id(v) for v in root.nodes()].index(id(a))] == ["2"]


def test_small_saturated_mlp_contract_and_flat_step(driver, tmp_path):
    loss, net, trace = saturated_mlp(2)
    page = check_contract(driver, tmp_path, loss, names=net, trace=trace)
    # walk back to the step of a saturated tanh: the text says the gradient was multiplied by a tiny local
    details, order = page.data["details"], page.data["order"]
    flat_step = next(k for k, step in enumerate(order) if "inputs" in step and details[step["node"]]["flat"])
    press(driver, "back", len(order) - (flat_step + 1))
    assert "is flat here" in driver.find_element(By.ID, "explain").text


def test_mid_way_the_page_shows_the_partial_sums_of_the_engines_order(driver, tmp_path):
    root, _ = lecture_neuron()
    page = explore(root)
    page.save(tmp_path / "n.html")
    open_page(driver, tmp_path / "n.html")
    values, order = root.nodes(), backward_order(root)
    for done in range(len(order) + 1):  # after the seed and `done` chain-rule steps
        partial = replay(root, order[:done])
        press(driver, "step")
        for node, grads in shown_grads(driver).items():
            want = partial.get(id(values[node]))
            assert grads == [""] if want is None else [float(g) for g in grads] == [want]
    press(driver, "back", 3)
    assert driver.execute_script("return window.microgradExplorer.position()") == len(order) + 1 - 3
    press(driver, "reset")
    assert all(grads == [""] for grads in shown_grads(driver).values())


def test_arrow_keys_and_play(driver, tmp_path):
    root, _ = lecture_neuron()
    page = explore(root)
    page.save(tmp_path / "n.html")
    open_page(driver, tmp_path / "n.html")
    body = driver.find_element(By.TAG_NAME, "body")
    position = lambda: driver.execute_script("return window.microgradExplorer.position()")  # noqa: E731
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_LEFT)
    assert position() == 1
    driver.find_element(By.CSS_SELECTOR, "#speed option[value='100']").click()
    press(driver, "play")
    WebDriverWait(driver, 30).until(lambda d: position() == len(page.data["order"]))
    assert driver.find_element(By.ID, "play").text.endswith("Play")  # it paused itself at the end
    assert_shows_engine_grads(driver, root)


def test_hover_shows_the_tooltip_with_the_nodes_numbers(driver, tmp_path):
    root, leaves = lecture_neuron()
    page = explore(root)
    page.save(tmp_path / "n.html")
    open_page(driver, tmp_path / "n.html")
    w1 = [id(v) for v in root.nodes()].index(id(leaves["w1"]))
    tooltip = driver.find_element(By.ID, "tooltip")
    assert not tooltip.is_displayed()
    ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, f'[data-node="{w1}"]')).perform()
    WebDriverWait(driver, 10).until(lambda d: tooltip.is_displayed())
    assert tooltip.text.startswith("w1\ndata -3\n") and "final: 0.99999" in tooltip.text and "leaf" in tooltip.text
    op = driver.find_element(By.CSS_SELECTOR, "[data-op-of='0']")  # the tanh: its local derivative
    ActionChains(driver).move_to_element(op).perform()
    WebDriverWait(driver, 10).until(lambda d: "1 − t² at t =" in tooltip.text)


def test_collapse_and_expand_change_the_number_of_drawn_nodes(driver, tmp_path):
    loss, net, trace = saturated_mlp(2)
    page = explore(loss, names=net, trace=trace)
    page.save(tmp_path / "mlp.html")
    open_page(driver, tmp_path / "mlp.html")
    drawn = lambda: driver.execute_script("return document.querySelectorAll('#graph [data-node]').length")  # noqa
    collapsed = drawn()
    driver.find_element(By.CSS_SELECTOR, '[data-group="g0_0_0"]').click()
    opened = drawn()
    assert opened > collapsed
    press(driver, "step", len(page.data["order"]))
    assert_shows_engine_grads(driver, loss)  # the opened neuron's Values too
    driver.find_element(By.CSS_SELECTOR, '[data-frame="g0_0_0"] .frame-header').click()
    assert drawn() == collapsed
    assert console_errors(driver) == []


def test_in_a_notebooks_iframe(driver, tmp_path):
    root, _ = lecture_neuron()
    page = explore(root)
    wrapper = tmp_path / "notebook.html"
    wrapper.write_text(f"<!DOCTYPE html><html><body><h1>a notebook cell's output</h1>{page._repr_html_()}</body></html>",
                       encoding="utf-8")
    console_errors(driver)
    network_requests(driver)
    driver.get(wrapper.as_uri())
    driver.switch_to.frame(driver.find_element(By.TAG_NAME, "iframe"))
    try:
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return !!window.microgradExplorer"))
        press(driver, "step", len(page.data["order"]))
        assert_shows_engine_grads(driver, root)
    finally:
        driver.switch_to.default_content()
    assert console_errors(driver) == []
    assert network_requests(driver, documents={wrapper.as_uri(), "about:srcdoc"}) == [wrapper.as_uri()]
    assert html.escape("micrograd-graph") in page._repr_html_()


# -- a laptop's window: a small graph fits, the view follows the step ---------------------------------------------

LAPTOP = (1366, 768)  # CSS px of the viewport: a common laptop screen


def laptop_view(driver, tmp_path, root, name):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": LAPTOP[0], "height": LAPTOP[1], "deviceScaleFactor": 1, "mobile": False})
    path = tmp_path / name
    explore(root).save(path)
    open_page(driver, path)


def current_box(driver):
    """The union of the step's node (Value and op) on screen, and the viewport and the drawing's box."""
    return driver.execute_script("""
        var rects = Array.from(document.querySelectorAll('#graph .current')).map(e => e.getBoundingClientRect());
        var view = document.getElementById('graph').getBoundingClientRect();
        var top = document.getElementById('controls').getBoundingClientRect().bottom;
        return {left: Math.min(...rects.map(r => r.left)), right: Math.max(...rects.map(r => r.right)),
                top: Math.min(...rects.map(r => r.top)), bottom: Math.max(...rects.map(r => r.bottom)),
                viewLeft: Math.max(view.left, 0), viewRight: Math.min(view.right, innerWidth),
                viewTop: top, viewBottom: innerHeight, n: rects.length};""")


def assert_step_on_screen(driver, position):
    box = current_box(driver)
    assert box["n"] >= 1, position
    assert box["viewLeft"] - 0.5 <= box["left"] and box["right"] <= box["viewRight"] + 0.5, (position, box)
    assert box["viewTop"] - 0.5 <= box["top"] and box["bottom"] <= box["viewBottom"] + 0.5, (position, box)


def test_the_lecture_neuron_fits_a_laptop_window_and_every_step_is_on_screen(driver, tmp_path):
    try:
        root, _ = lecture_neuron()
        laptop_view(driver, tmp_path, root, "neuron.html")
        widths = driver.execute_script("""var g = document.getElementById('graph');
            return [document.documentElement.scrollWidth, innerWidth, g.scrollWidth, g.clientWidth];""")
        assert widths[0] <= widths[1] and widths[2] <= widths[3], widths  # no horizontal scrolling at all
        steps = len(backward_order(root)) + 1
        for position in range(1, steps + 1):
            press(driver, "step")
            assert_step_on_screen(driver, position)  # the last: the '*' node of x1*w1, at the left
        driver.save_screenshot(str(tmp_path / "laptop_last_step.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_a_graph_wider_than_the_window_follows_the_step(driver, tmp_path):
    try:
        x = Value(0.5, label="x")
        out = x
        for _ in range(20):  # a chain far wider than 1366 px, even shrunk to the smallest fit
            out = (out * 1.01 + 0.01).tanh()
        laptop_view(driver, tmp_path, out, "chain.html")
        sizes = driver.execute_script("var g = document.getElementById('graph'); return [g.scrollWidth, g.clientWidth];")
        assert sizes[0] > sizes[1]  # it scrolls: too wide to shrink to the window
        for position in range(1, len(backward_order(out)) + 2):
            press(driver, "step")
            assert_step_on_screen(driver, position)
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
