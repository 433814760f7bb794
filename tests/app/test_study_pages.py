"""The study's interactive pages: the too-high learning rate's replay shows, at each step of its slider, the
dead count the study measured at that step (in the page of its own and inside the report), and the explorer
pages of a saturated and a healthy neuron say where the gradient stops. In headless Chromium (skipped, saying
why, where none can run)."""

import json
import os
import re

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from micrograd_it_app import study
from tests.browser import console_errors, network_requests, start_browser, stop_browser
from viz.graph import saturation_color

# small enough to run in seconds, with a batch small enough (2) that neurons die and come back between steps
SMALL = dict(steps=6, hidden=6, batch=2, emb_dim=2, full_samples=5, full_hidden=6)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    result = study.run_study(str(tmp_path_factory.mktemp("study")), study.StudyOptions(**SMALL))
    return {run.key: run for run in result.runs}, result


@pytest.fixture(scope="module")
def driver():
    browser, profile = start_browser()
    yield browser
    stop_browser(browser, profile)


def test_the_replay_records_each_steps_numbers(small_run):
    runs, _ = small_run
    high = runs["high_lr"]
    assert len(high.replay) == SMALL["steps"]
    assert [len(frame["dead"]) for frame in high.replay] == high.dead_over_steps
    for frame, saturated_pct in zip(high.replay, high.saturated_over_steps):
        flags = "".join(frame["saturated"])
        assert 100.0 * flags.count("1") / len(flags) == pytest.approx(saturated_pct)
    assert [frame["loss"] for frame in high.replay] == high.losses
    assert len(set(high.dead_over_steps)) > 1, "pick sizes where the dead count changes, or the slider test proves little"


def test_the_replay_is_small(small_run):
    runs, _ = small_run
    page = open(runs["high_lr"].pages["replay"], encoding="utf-8").read()
    data = re.search(r'id="micrograd-replay">(.*?)</script>', page, re.S).group(1)
    per_entry = len(data) / (SMALL["steps"] * SMALL["batch"] * SMALL["hidden"])
    assert per_entry < 40  # bytes per (step, sample, neuron): the default study (30 x 32 x 32) stays well under 1 MB


def slide_and_check(driver, run):
    slider = driver.find_element(By.ID, "replay-step")
    slider.send_keys(Keys.HOME)
    for step, dead in enumerate(run.dead_over_steps):
        if step:
            slider.send_keys(Keys.ARROW_RIGHT)  # as a person moves it: one step per key press
        assert driver.find_element(By.ID, "replay-at").text == str(step)
        assert driver.find_element(By.ID, "replay-dead").text == str(dead), f"step {step}"
        fills = driver.execute_script(
            "return Array.from(document.querySelectorAll('#network [data-unit^=\"l0_\"]'))"
            ".map(e => [e.getAttribute('data-unit'), e.querySelector('polygon, path').getAttribute('fill')])")
        expected = {f"l0_{j}": saturation_color(fraction).lower() for j, fraction in enumerate(run.replay[step]["saturation"])}
        assert {key: fill.lower() for key, fill in fills} == expected


def test_the_replay_slider_shows_the_studys_dead_count_at_each_step(driver, small_run):
    runs, _ = small_run
    high = runs["high_lr"]
    url = "file://" + os.path.abspath(high.pages["replay"])
    console_errors(driver)
    network_requests(driver)
    driver.get(url)
    slide_and_check(driver, high)
    assert console_errors(driver) == []
    assert network_requests(driver, documents={url}) == [url]


def test_the_report_embeds_the_replay_and_links_the_explorers(driver, small_run):
    runs, result = small_run
    high = runs["high_lr"]
    url = "file://" + os.path.abspath(result.report)
    console_errors(driver)
    driver.get(url)
    links = {link.get_attribute("href").rsplit("/", 1)[-1] for link in driver.find_elements(By.CSS_SELECTOR, "a[href]")}
    assert {os.path.basename(path) for path in high.pages.values()} <= links
    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, "iframe.replay"))
    try:
        slide_and_check(driver, high)
    finally:
        driver.switch_to.default_content()
    assert console_errors(driver) == []


@pytest.mark.parametrize("kind, words", [("explore_saturated", "is flat here"), ("explore_healthy", "grad")])
def test_the_neuron_explorers_first_step_says_what_tanh_did(driver, small_run, kind, words):
    runs, _ = small_run
    path = runs["high_lr"].pages.get(kind)
    if path is None:
        pytest.skip(f"this run has no {kind} neuron")
    url = "file://" + os.path.abspath(path)
    console_errors(driver)
    driver.get(url)
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return !!window.microgradExplorer"))
    driver.find_element(By.ID, "step").click()
    driver.find_element(By.ID, "step").click()  # the seed, then tanh's own step
    text = driver.find_element(By.ID, "explain").text
    assert "tanh" in text and words in text
    data = json.loads(driver.execute_script("return document.getElementById('micrograd-graph').textContent"))
    assert data["nodes"][0]["op"] == "tanh"
    assert console_errors(driver) == []
