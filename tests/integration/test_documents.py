"""Documents in other formats, built by the tests: a two-page Chinese PDF printed by Chromium
(its own header and footer on every page), a Word file and a saved page with a sidebar of other
headlines; answered with offsets into the extracted text and, for the PDF, the page."""

import html
import os
import subprocess

import pytest

from qa.ingest.corpus import read_document

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGE_ONE = ["重庆新增5家产业创新综合体，全市总数达18家。", "这些综合体聚焦智能网联新能源汽车、新一代电子信息制造业等领域。"] * 6
PAGE_TWO = ["2025年12月20日，长安汽车宣布，旗下新能源汽车年销量突破100万辆。", "璧山的生物制造中试平台总投资6.25亿元，已有12个研发课题入驻。"]


@pytest.fixture(scope="module")
def pdf(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed")
    folder = tmp_path_factory.mktemp("pdf")
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in PAGE_ONE) + "<p style='page-break-before: always'>" + "</p><p>".join(map(html.escape, PAGE_TWO)) + "</p>"
    (folder / "news.html").write_text(f"<html><head><meta charset='utf-8'><title>重庆双链融合简报</title></head><body style='font-size:16pt'>{paragraphs}</body></html>", encoding="utf-8")
    out = folder / "news.pdf"
    home = {"XDG_CONFIG_HOME": str(folder / "config"), "XDG_CACHE_HOME": str(folder / "cache")}  # Chromium writes there, not in ~
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={folder / 'profile'}", f"--print-to-pdf={out}", (folder / "news.html").as_uri()], capture_output=True, timeout=120, check=True, env={**os.environ, **home})
    return out


def test_a_printed_pdf_reads_without_its_headers_and_footers_and_knows_its_pages(pdf):
    document = read_document(pdf, doc_id="news.pdf")
    assert "news.html" not in document.text and "重庆双链融合简报" not in document.text  # Chromium's header (date, title) and footer (URL, 1/2)
    at = document.text.index("100万辆")
    assert document.page_at(at) == 2 and document.page_at(0) == 1 and document.title == "重庆双链融合简报"
    assert "全市总数达18家。" in document.text and all(r.box and r.page in (1, 2) for r in document.regions)


def test_an_answer_over_a_pdf_gives_its_page(pdf, assistant):
    from qa.assistant import Assistant
    from qa.retrieval.retriever import Retriever

    retriever = Retriever([pdf], embedder=assistant.retriever.embedder)
    answer = Assistant(retriever, assistant.reader, settings=assistant.settings).ask("长安汽车新能源汽车年销量突破了多少？")
    text = retriever.document_text(answer.doc_id)
    assert answer.answer == "100万辆" and text[answer.start : answer.end] == "100万辆" and answer.page == 2 and answer.to_json()["page"] == 2
    first = Assistant(retriever, assistant.reader, settings=assistant.settings).ask("全市产业创新综合体总数达到多少家？")
    assert first.answer == "18家" and first.page == 1


def test_a_saved_page_answers_from_its_article_not_its_sidebar(tmp_path, assistant):
    from qa.assistant import Assistant
    from qa.retrieval.retriever import Retriever

    article = "".join(f"<p>{html.escape(p)}</p>" for p in PAGE_TWO + PAGE_ONE[:2])
    side = "<aside><h3>相关新闻</h3><ul><li><a href='/a'>长安汽车新能源汽车年销量突破300万辆</a></li><li><a href='/b'>全市综合体总数达99家</a></li></ul></aside>"
    page = f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>长安汽车销量破百万</title></head><body><nav><a href='/'>首页</a></nav><article><h1>长安汽车销量破百万</h1>{article}</article>{side}<footer>版权所有</footer></body></html>"
    (tmp_path / "news.html").write_text(page, encoding="utf-8")
    retriever = Retriever([tmp_path / "news.html"], embedder=assistant.retriever.embedder)
    answer = Assistant(retriever, assistant.reader, settings=assistant.settings).ask("长安汽车新能源汽车年销量突破了多少？")
    assert answer.answer == "100万辆" and answer.page is None and "300万辆" not in retriever.document_text(answer.doc_id)


def test_a_photographed_paragraph_is_read_by_ocr_and_answered(tmp_path, assistant):
    """An image of a rendered paragraph (the CJK font Chromium's tests install), read offline by
    the [ocr] extra's models and answered with offsets into the text read."""
    pytest.importorskip("rapidocr_onnxruntime")
    from PIL import Image, ImageDraw, ImageFont

    from qa.assistant import Assistant
    from qa.retrieval.retriever import Retriever

    font_file = subprocess.run(["fc-match", "Noto Sans CJK SC", "-f", "%{file}"], capture_output=True, text=True).stdout.strip()
    if "CJK" not in font_file:
        pytest.skip("no CJK font (make test installs fonts-noto-cjk)")
    font = ImageFont.truetype(font_file, 40)
    image = Image.new("RGB", (1400, 60 * (len(PAGE_TWO) + 1)), "white")
    for i, line in enumerate(PAGE_TWO):
        ImageDraw.Draw(image).text((30, 30 + 60 * i), line, fill="black", font=font)
    image.save(tmp_path / "photo.png")
    document = read_document(tmp_path / "photo.png", doc_id="photo.png")
    assert "突破100万辆" in document.text and "6.25亿元" in document.text and document.page_at(0) == 1
    retriever = Retriever(documents=[document], embedder=assistant.retriever.embedder)
    answer = Assistant(retriever, assistant.reader, settings=assistant.settings).ask("璧山的生物制造中试平台总投资多少？")
    assert answer.answer == "6.25亿元" and document.text[answer.start : answer.end] == "6.25亿元"
