"""``labkit view`` in a real headless browser (Debian's chromium + chromedriver through Selenium), as a person
uses it: the run list, a run of each kind made here, failed items, one item, two runs compared, a growing run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.view.test_app import item, write_run

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (make setup installs it)")
if not (shutil.which("chromium") and shutil.which("chromedriver")):
    pytest.skip("Debian's chromium / chromium-driver not installed (make setup installs them as root)",
                allow_module_level=True)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("view") / "runs"
    chat = [{"role": "system", "content": "You are a careful agent."}, {"role": "user", "content": "Delete my files."},
            {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "delete_file",
                                                                             "arguments": '{"path": "a.txt"}'}}]},
            {"role": "tool", "name": "delete_file", "content": '{"success": true}'}]
    a = [item(i) for i in range(30)]
    a[4] = {"key": "q4", "ok": False, "error": "BackendError: time-out"}
    a[7]["value"]["messages"] = chat
    write_run(root / "hpss" / "20261207-101500-search", a, {"test": {"spearman": 0.41}},
              "# HPSS run\n\n| strategy | rho |\n|---|---|\n| 5 | 0.41 |\n\n![plot](plot.png)\n")
    write_run(root / "hpss" / "20261207-111500-search", [item(i) for i in range(30)], {"test": {"spearman": 0.45}})
    write_run(root / "safety" / "20261207-120000-run", [item(0)])
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "view", str(root), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/api/runs", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium")
    from selenium.webdriver.chrome.service import Service

    browser = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    browser.implicitly_wait(5)
    yield browser, url, root
    browser.quit()
    proc.terminate()
    proc.wait(10)


def shot(browser, name: str) -> None:
    """With LABKIT_VIEW_SHOTS=<folder>, keep a screenshot of the page (the README's come from here)."""
    folder = os.environ.get("LABKIT_VIEW_SHOTS")
    if folder:
        browser.set_window_size(1200, 900)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


def wait_for(check, timeout: float = 10.0):
    end = time.time() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception:  # noqa: BLE001 - the page is still rendering
            if time.time() > end:
                raise
        if time.time() > end:
            raise AssertionError("the page did not show it in time")
        time.sleep(0.2)


def test_list_run_filter_item(site) -> None:
    from selenium.webdriver.common.by import By

    browser, url, _ = site
    browser.get(url + "/")
    rows = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "table.runs tr[data-path]"))
    assert len(rows) == 3 and "interrupted" in browser.find_element(By.TAG_NAME, "main").text
    shot(browser, "list")
    browser.find_element(By.LINK_TEXT, "20261207-101500-search").click()
    wait_for(lambda: "30 items, 1 failed" in browser.find_element(By.ID, "run-counts").text)
    shot(browser, "run")
    report = browser.find_element(By.ID, "report")
    assert report.find_element(By.TAG_NAME, "table") and "0.41" in report.text
    browser.find_element(By.ID, "status").send_keys("failed")
    browser.find_element(By.ID, "apply").click()
    wait_for(lambda: "1-1 of 1" in browser.find_element(By.ID, "page").text)
    assert "time-out" in browser.find_element(By.ID, "items").text
    browser.find_element(By.ID, "status").send_keys("all")
    browser.find_element(By.ID, "q").send_keys("q7")
    browser.find_element(By.ID, "apply").click()
    wait_for(lambda: "1-1 of 1" in browser.find_element(By.ID, "page").text)
    browser.find_element(By.CSS_SELECTOR, "a.item-link").click()
    record = wait_for(lambda: browser.find_element(By.ID, "record"))
    msgs = browser.find_elements(By.CSS_SELECTOR, ".msg")
    shot(browser, "item")
    assert len(msgs) == 4 and "delete_file" in record.text and "Delete my files." in record.text


def test_compare_two_runs(site) -> None:
    from selenium.webdriver.common.by import By

    browser, url, _ = site
    browser.get(url + "/")
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "table.runs tr[data-path]"))
    for path in ("hpss/20261207-101500-search", "hpss/20261207-111500-search"):
        browser.find_element(By.CSS_SELECTOR, f"input[value='{path}']").click()
    browser.find_element(By.ID, "compare").click()
    table = wait_for(lambda: browser.find_element(By.ID, "metric-diff"))
    assert "test.spearman" in table.text and "0.04" in table.text
    assert "q4" in browser.find_element(By.ID, "changed").text
    shot(browser, "compare")


def test_a_growing_run_updates(site) -> None:
    from selenium.webdriver.common.by import By

    browser, url, root = site
    browser.get(url + "/#/run/" + "safety%2F20261207-120000-run")
    wait_for(lambda: "1 items" in browser.find_element(By.ID, "run-counts").text)
    with open(root / "safety" / "20261207-120000-run" / "results.jsonl", "a") as fh:
        fh.write("".join(json.dumps(item(i)) + "\n" for i in range(1, 5)))
    wait_for(lambda: "5 items" in browser.find_element(By.ID, "run-counts").text)
    assert "1-5 of 5" in browser.find_element(By.ID, "page").text
    (root / "safety" / "20261207-120000-run" / "metrics.json").write_text("{}")
    wait_for(lambda: browser.find_element(By.ID, "run-status").text == "finished")


def test_unknown_pages_say_what_is_wrong(site) -> None:
    from selenium.webdriver.common.by import By

    browser, url, _ = site
    browser.get(url + "/#/run/" + "..%2F..%2Fetc")
    assert "outside the runs folder" in wait_for(lambda: browser.find_element(By.ID, "error")).text
