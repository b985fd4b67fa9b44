"""The chat app, end to end: gradio_client against /ask and /answer, and real headless Chromium."""

import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from eval.load import free_port
from tests.conftest import QUESTION, ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
OWN_TEXT = "北碚区今年新建了12座智能工厂，总投资达到35亿元。\n\n这些工厂主要生产工业机器人和传感器。"
OWN_QUESTION = "北碚区今年新建了多少座智能工厂？"
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed")


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


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("chromium-home")  # its crash reports and config go there, not in ~/.config
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, env={**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache")})
        yield chromium
        chromium.close()


@pytest.fixture
def screenshot_dir(tmp_path) -> Path:
    return Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)  # make screenshot: docs/


def test_ask_endpoint_answers_and_abstains(app_url):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    assert client.predict(QUESTION, api_name="/ask") == "100万辆"
    assert client.predict("", api_name="/ask") == ""
    assert client.predict("長安汽車的新能源汽車年銷量突破了多少？", api_name="/ask") == "100万辆"  # Traditional characters


def test_answer_endpoint_returns_the_json_object(app_url, article):
    from gradio_client import Client

    client = Client(app_url, verbose=False)
    data = client.predict(QUESTION, "", api_name="/answer")
    assert list(data)[:8] == ["question", "answer", "confidence", "doc_id", "start", "end", "evidence", "passages"]
    assert data["answer"] == "100万辆" and article[data["start"] : data["end"]] == "100万辆" and data["doc_id"] == "article.txt" and data["grade"] == "sure"
    own = client.predict(OWN_QUESTION, OWN_TEXT, api_name="/answer")
    assert own["answer"] == "12座" and OWN_TEXT[own["start"] : own["end"]] == own["answer"]
    other = client.predict(QUESTION, OWN_TEXT, api_name="/answer")
    assert other["answer"] == "" and other["abstained_because"] == "no_passage" and other["grade"] == "none"  # that text alone: it says nothing of 长安汽车
    assert list(other)[-6:] == ["abstained_because", "guess", "phrase", "rules", "page", "grade"] and data["rules"] == []
    unsure = client.predict("重庆信息与智慧医学研究院哪天开始启用？", "", api_name="/answer")  # right, with a middling confidence: shown, marked unsure
    assert (unsure["grade"], unsure["answer"], unsure["abstained_because"]) == ("unsure", "1月6日", None)
    assert client.predict("重庆信息与智慧医学研究院哪天开始启用？", api_name="/ask") == "1月6日"  # /ask: the shown answer
    bad = client.predict(QUESTION, "x" * 200_001, api_name="/answer")
    assert bad["answer"] == "" and "over the limit" in bad["error"]
    earlier = [["璧山的生物制造中试平台是什么时候开工的？", "2025年11月"]]
    follow = client.predict("它的投资是多少？", "", earlier, api_name="/answer")
    assert follow["answer"] == "6.25亿元" and follow["understood_as"] == "璧山的生物制造中试平台的投资是多少？"


def test_ten_concurrent_calls_all_succeed(app_url):
    from gradio_client import Client

    def call(_):
        return Client(app_url, verbose=False).predict(QUESTION, api_name="/ask")

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(call, range(10)))
    assert answers == ["100万辆"] * 10


def ask(page, question: str, turn: int):
    """Type ``question``; wait until the ``turn``-th user and bot bubbles are there."""
    from playwright.sync_api import expect

    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#chat .user")).to_have_count(turn, timeout=60_000)
    expect(page.locator("#chat .bot")).to_have_count(turn, timeout=60_000)
    expect(box).to_have_value("")
    return page.locator("#chat .bot").last


@pytest.mark.browser
@needs_chromium
def test_chat_in_a_real_browser(app_url, browser, screenshot_dir):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url)
    bot = ask(page, QUESTION, 1)
    expect(bot.locator("strong")).to_have_text("100万辆")
    expect(bot.locator("mark")).to_have_text("100万辆")
    expect(bot).to_contain_text("新能源汽车年销量突破")  # the evidence sentence
    # the article view: the answer highlighted in place and scrolled into view
    latest = page.locator("#doc-view mark.latest")
    expect(latest).to_have_text("100万辆")
    expect(latest).to_be_in_viewport()
    page.screenshot(path=str(screenshot_dir / "screenshot.png"), full_page=True)

    # a cited passage jumps to its place in the article view
    page.get_by_role("tab", name="检索到的段落").click()
    link = page.locator("#passages [data-jump]").last
    target = page.locator(f"#{link.get_attribute('data-jump')}")
    link.click()
    expect(page.locator("#doc-view")).to_be_visible()
    expect(target).to_be_in_viewport()

    # bad input gets a polite message in the chat, never an error toast
    expect(ask(page, "x" * 10_000, 2)).to_contain_text("问题太长")
    ask(page, "🙂🙂🙂", 3)
    page.locator("#send").click()  # empty message
    expect(page.locator("#chat .bot")).to_have_count(4, timeout=60_000)
    expect(page.locator("#chat .bot").last).to_contain_text("请输入一个问题")

    # a follow-up question leans on the turn before it; its answer is highlighted in the article
    page.locator("#doc-view").scroll_into_view_if_needed()
    expect(ask(page, "璧山的生物制造中试平台是什么时候开工的？", 5).locator("strong")).to_have_text("2025年11月")
    follow = ask(page, "它的投资是多少？", 6)
    expect(follow.locator("strong")).to_have_text("6.25亿元")
    expect(follow).to_contain_text("理解为：璧山的生物制造中试平台的投资是多少？")
    page.get_by_role("tab", name="全文").click()
    expect(page.locator("#doc-view mark.latest")).to_have_text("6.25亿元")
    page.screenshot(path=str(screenshot_dir / "follow-up.png"), full_page=True)

    # an abstention says why; with the box ticked it also shows the withheld guess, marked as unsure
    withheld = "埃菲尔铁塔有多高？"
    plain = ask(page, withheld, 7)
    expect(plain).to_contain_text("文章中没有找到这个问题的答案")
    expect(plain).not_to_contain_text("最可能的答案")
    page.locator("#show-guess input").check()
    guessed = ask(page, withheld, 8)
    expect(guessed).to_contain_text("最可能的答案，但不确定")

    # an unsure answer is shown marked as such, in words and in its own colour, here and in the full text
    unsure = ask(page, "重庆信息与智慧医学研究院哪天开始启用？", 9)
    expect(unsure).to_contain_text("【不确定】可能是")
    expect(unsure.locator(".unsure-answer")).to_contain_text("1月6日")
    expect(unsure).to_contain_text("请对照原文核实")
    expect(unsure.locator(".unsure-answer")).to_have_count(1)
    expect(page.locator("#chat .bot").first).not_to_contain_text("不确定")  # 100万辆: sure
    latest = page.locator("#doc-view mark.latest")
    expect(latest).to_have_class("latest unsure")
    colour = latest.evaluate("m => getComputedStyle(m).backgroundColor")
    earlier = page.locator("#doc-view mark:not(.latest)").first.evaluate("m => getComputedStyle(m).backgroundColor")
    assert colour == "rgb(96, 165, 250)" and earlier == "rgb(253, 230, 138)"  # the unsure blue, the sure answers' yellow
    page.screenshot(path=str(screenshot_dir / "unsure.png"), full_page=True)
    assert page.locator(".toast-body").count() == 0
    page.close()


@pytest.mark.browser
@needs_chromium
def test_own_text_answers_only_in_its_own_session(app_url, browser, tmp_path, screenshot_dir):
    from playwright.sync_api import expect

    mine, theirs = browser.new_context(viewport={"width": 1280, "height": 1000}), browser.new_context(viewport={"width": 1280, "height": 900})
    page, other = mine.new_page(), theirs.new_page()
    page.goto(app_url)
    other.goto(app_url)
    page.locator("#own-text").get_by_text("换一篇文章").click()
    page.locator("#paste textarea").fill(OWN_TEXT)
    page.locator("#use-document").click()
    status = page.locator("#doc-status")
    expect(status).to_contain_text("粘贴的文本", timeout=120_000)
    bot = ask(page, OWN_QUESTION, 1)
    expect(bot.locator("strong")).to_have_text("12座")
    expect(page.locator("#doc-view mark.latest")).to_have_text("12座")
    expect(page.locator("#doc-view")).to_contain_text("这些工厂主要生产工业机器人")
    page.screenshot(path=str(screenshot_dir / "own-text.png"), full_page=True)

    # another browser session still asks about the bundled article
    expect(ask(other, QUESTION, 1).locator("strong")).to_have_text("100万辆")
    expect(other.locator("#doc-status")).to_contain_text("article.txt")

    # bad files get a clear message and change nothing
    for name, data, message in [("bad.txt", b"\xff\xfe\x00\x00bad", "not UTF-8"), ("empty.md", b"  \n", "empty"),
                                ("big.txt", "字".encode() * 200_001, "over the limit"), ("binary.txt", b"PK\x03\x04\x00\x00\x08\x00", "its bytes are a ZIP file")]:
        path = tmp_path / name
        path.write_bytes(data)
        page.locator("#upload input[type=file]").set_input_files(str(path))
        page.locator("#use-document").click()
        expect(status).to_contain_text(message, timeout=60_000)
        expect(status).to_contain_text("当前文章：粘贴的文本")
    expect(ask(page, OWN_QUESTION, 2).locator("strong")).to_have_text("12座")

    page.locator("#use-default").click()
    expect(status).to_contain_text("article.txt")
    expect(ask(page, QUESTION, 1).locator("strong")).to_have_text("100万辆")
    mine.close()
    theirs.close()


@pytest.mark.browser
@needs_chromium
def test_a_pdf_answer_is_shown_marked_on_its_page(app_url, browser, tmp_path, screenshot_dir):
    """A two-page PDF printed by Chromium (its header and footer on each page) is uploaded; the
    answer cites its page and the view shows that page, drawn, with the answer marked."""
    from playwright.sync_api import expect

    first = "".join(f"<p>重庆新增5家产业创新综合体，第{i}批聚焦智能网联新能源汽车。</p>" for i in range(1, 13))
    second = "<p style='page-break-before: always'>2025年12月20日，长安汽车宣布，旗下新能源汽车年销量突破100万辆。</p>"
    (tmp_path / "news.html").write_text(f"<html><head><meta charset='utf-8'><title>简报</title></head><body style='font-size:16pt'>{first}{second}</body></html>", encoding="utf-8")
    pdf = tmp_path / "news.pdf"
    home = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_CACHE_HOME": str(tmp_path / "cache")}  # Chromium writes there, not in ~
    subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", f"--print-to-pdf={pdf}", (tmp_path / "news.html").as_uri()], capture_output=True, timeout=120, check=True, env={**os.environ, **home})
    context = browser.new_context(viewport={"width": 1280, "height": 1100})
    page = context.new_page()
    page.goto(app_url)
    page.locator("#own-text").get_by_text("换一篇文章").click()
    page.locator("#upload input[type=file]").set_input_files(str(pdf))
    page.locator("#use-document").click()
    expect(page.locator("#doc-status")).to_contain_text("news.pdf", timeout=120_000)
    bot = ask(page, QUESTION, 1)
    expect(bot.locator("strong")).to_have_text("100万辆")
    expect(bot).to_contain_text("第 2 页")
    figure = page.locator("#doc-view figure.page-image")
    expect(figure.locator("figcaption")).to_contain_text("第 2 页")
    expect(figure.locator("img")).to_be_visible()
    assert figure.locator("img").evaluate("img => img.naturalWidth") > 500
    page.screenshot(path=str(screenshot_dir / "pdf-answer.png"), full_page=True)
    context.close()


@pytest.mark.browser
@needs_chromium
def test_a_session_indexes_one_text_at_a_time(app_url, browser):
    """A long text answers from keywords while its dense side is embedded in the background;
    another text from the same session meanwhile gets a clear message and changes nothing."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url)
    page.locator("#own-text").get_by_text("换一篇文章").click()
    long_text = "".join(f"第{i}号仓库位于北碚区第{i % 97}街，存放第{i}批零件，共{i * 7}箱。" for i in range(2_500))  # ~80,000 characters
    page.locator("#paste textarea").fill(long_text)
    page.locator("#use-document").click()
    status = page.locator("#doc-status")
    expect(status).to_contain_text("语义索引建立中", timeout=120_000)
    page.locator("#paste textarea").fill(long_text.replace("仓库", "车库"))
    page.locator("#use-document").click()
    expect(status).to_contain_text("上一篇文本还在建立索引", timeout=60_000)
    expect(status).to_contain_text("粘贴的文本")  # the first text is still the one answered from
    page.close()
