"""A headless Chromium for the page tests: Debian's chromium and chromium-driver driven by Selenium.

`browser()` is a pytest fixture-maker's helper: it returns a started driver, or calls pytest.skip with the
reason when Selenium, chromium or chromedriver is missing (CI installs them; see .ci/run). `console_errors`
and `network_requests` read the browser's own logs, so a test can fail on any console error and on any
request other than the page itself.
"""

import json
import os
import shutil
import tempfile

import pytest

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1600,1000"]


def _first(paths, name):
    for path in paths:
        if os.path.exists(path):
            return path
    return shutil.which(name)


def start_browser():
    """Return (driver, profile folder) of a fresh headless Chromium; skip the test when none can run here."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install '.[test]')")
    chromium, driver_path = _first(CHROMIUM, "chromium"), _first(DRIVER, "chromedriver")
    if not chromium or not driver_path:
        pytest.skip("no chromium/chromedriver here (apt-get install chromium chromium-driver)")
    profile = tempfile.mkdtemp(prefix="mgit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
    except Exception as error:  # noqa: BLE001 - a browser that cannot start here is a skip, said out loud
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"headless chromium could not start: {str(error).splitlines()[0]}")
    driver.set_page_load_timeout(60)
    return driver, profile


def stop_browser(driver, profile):
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver):
    """Return the SEVERE entries of the browser's console log since the last call."""
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def network_requests(driver, documents=None):
    """Return the URLs requested since the last call (from Chromium's performance log).

    `documents`: keep only requests made for these documents (their URLs), e.g. the page and its iframes;
    the browser's own start page keeps loading its resources in the background and is left out that way.
    """
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            params = message["params"]
            if documents is None or params.get("documentURL") in documents:
                urls.append(params["request"]["url"])
    return urls


def load_time_ms(driver):
    """Return navigationStart -> loadEventEnd of the current page, in milliseconds (as the browser measured it)."""
    return driver.execute_script(
        "const t = performance.timing; return t.loadEventEnd - t.navigationStart;")
