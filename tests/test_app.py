"""The chat app, end to end: gradio_client against /ask, and real headless Chromium."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import QUESTION, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 240
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app exited: {proc.stdout.read()}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail("app did not start in 240 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def test_ask_endpoint_answers_and_abstains(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    assert "100万辆" in client.predict(QUESTION, api_name="/ask")
    assert client.predict("", api_name="/ask") == ""


def test_ten_concurrent_calls_all_succeed(app_url):
    from gradio_client import Client

    def call(_):
        return Client(app_url, verbose=False).predict(QUESTION, api_name="/ask")

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(call, range(10)))
    assert len(answers) == 10 and all("100万辆" in a for a in answers)


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed")
def test_chat_in_a_real_browser(app_url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app_url)
        box = page.locator("#question textarea")
        box.fill(QUESTION)
        box.press("Enter")
        bot = page.locator("#chat .bot").last
        expect(bot).to_contain_text("100万辆", timeout=60_000)
        expect(bot.locator("strong")).to_have_text("100万辆")
        expect(bot.locator("mark")).to_have_text("100万辆")
        expect(bot).to_contain_text("新能源汽车年销量突破")  # the evidence sentence
        expect(page.locator("#passages")).to_contain_text("长安汽车")
        docs = ROOT / "docs"
        docs.mkdir(exist_ok=True)
        page.screenshot(path=str(docs / "screenshot.png"), full_page=True)

        # bad input gets a polite message in the chat, never an error toast
        for text, expected in [("x" * 10_000, "问题太长"), ("🙂🙂🙂", None)]:
            box.fill(text)
            box.press("Enter")
            page.wait_for_timeout(500)
            expect(page.locator("#chat .bot")).to_have_count(page.locator("#chat .user").count(), timeout=60_000)
            if expected:
                expect(page.locator("#chat .bot").last).to_contain_text(expected)
        page.locator("#send").click()  # empty message
        expect(page.locator("#chat .bot").last).to_contain_text("请输入一个问题", timeout=30_000)
        assert page.locator(".toast-body").count() == 0
        browser.close()
