"""One ingest step for every format, on documents the tests build: Word files, web pages, PDFs
made here (blank, encrypted, corrupt), the PDF line logic on made-up lines, and the bad-file
catalogue (each one clear error, nothing half-read)."""

import io
import zipfile

import pytest

from qa.ingest import word
from qa.ingest.corpus import CorpusError, parse_document, sniffed
from qa.ingest.pages import Line, repeated_edges

BOX = (0.0, 0.0, 1.0, 1.0)


def docx_bytes(build) -> bytes:
    from docx import Document as Docx

    document = Docx()
    build(document)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def blank_pdf() -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    pdf.new_page(612, 792)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_a_word_file_keeps_headings_paragraphs_and_tables_in_reading_order():
    def build(d):
        d.core_properties.title = "重庆双链融合"
        d.add_heading("政策框架", level=2)
        d.add_paragraph("全市产业创新综合体总数达18家。")
        table = d.add_table(rows=2, cols=2)
        for (r, c), text in {(0, 0): "城市", (0, 1): "数量", (1, 0): "重庆", (1, 1): "18家"}.items():
            table.cell(r, c).text = text
        d.add_paragraph("表后一段。")

    document = parse_document(docx_bytes(build), "a.docx")
    assert document.text == "政策框架\n\n全市产业创新综合体总数达18家。\n\n城市\t数量\n\n重庆\t18家\n\n表后一段。"
    assert document.title == "重庆双链融合" and [r.kind for r in document.regions] == ["heading", "paragraph", "table", "table", "paragraph"]
    assert all(document.text[r.start : r.end] for r in document.regions) and document.page_at(3) is None


def test_a_saved_page_keeps_its_article_and_drops_navigation_sidebar_scripts_and_footer():
    article = "".join(f"<p>第{i}段：长安汽车宣布，旗下新能源汽车年销量突破100万辆，这是重庆汽车产业的重要里程碑。</p>" for i in range(1, 6))
    page = (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>长安汽车销量破百万</title><meta name='date' content='2025-12-21'>"
        "<script>var s = '销量突破500万辆';</script></head><body><nav><a href='/'>首页</a> <a href='/n'>新闻</a></nav>"
        f"<article><h1>长安汽车销量破百万</h1>{article}</article>"
        "<aside><h3>相关新闻</h3><ul><li><a href='/a'>长安汽车年销量突破300万辆</a></li><li><a href='/b'>重庆新增综合体99家</a></li></ul></aside>"
        "<footer>版权所有 联系电话 023-12345678</footer></body></html>"
    )
    document = parse_document(page.encode(), "news.html")
    assert "突破100万辆" in document.text and not any(bad in document.text for bad in ("300万辆", "500万辆", "首页", "版权所有", "99家"))
    assert document.title.startswith("长安汽车销量破百万") and "2025-12-21" in document.title


def test_page_headers_and_footers_are_the_lines_repeated_at_the_edges_of_most_pages():
    bodies = ["长安汽车宣布销量突破100万辆。", "综合体总数达18家。", "璧山平台投资6.25亿元。"]
    pages = [[Line("重庆日报 2026年1月20日", BOX), Line(body, BOX), Line("中间重复的一行", BOX), Line(f"{body}的下文", BOX), Line(f"第 {n} 页", BOX)] for n, body in enumerate(bodies, 1)]
    assert repeated_edges(pages) == {(0, "重庆日报#年#月#日"), (-1, "第#页")}  # a line repeated mid-page is text
    assert repeated_edges(pages[:1]) == set()  # one page: nothing repeats


@pytest.fixture
def blind_ocr(monkeypatch):
    """An OCR engine that finds no text (the unit layer loads no model)."""
    from qa.ingest import ocr

    monkeypatch.setattr(ocr, "_engine", lambda: (lambda image: (None, 0.0)))


def test_bad_files_get_one_clear_error_each(monkeypatch, blind_ocr):
    cases = {
        ("scan.pdf", blank_pdf()): "holds no text",
        ("locked.pdf", blank_pdf().replace(b"/Root 1 0 R", b"/Root 1 0 R /Encrypt <</Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"11" * 32 + b"> /P -4>>")): "encrypted",
        ("broken.pdf", b"%PDF-1.4\ngarbage"): "not a readable PDF",
        ("truncated.docx", docx_bytes(lambda d: d.add_paragraph("一段。"))[:300]): "corrupt or truncated",
        ("lies.pdf", "一段文字。".encode()): "named .pdf but its bytes are a TEXT file",
        ("lies.txt", blank_pdf()): "named .txt but its bytes are a PDF file",
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64): "not a readable image",
        ("page.jpg", b"\xff\xd8\xff" + b"\x00" * 64): "not a readable image",
        ("photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64): "named .pdf but its bytes are an image",
        ("notes.rtf", b"{\\rtf1 hello}"): "unknown format .rtf",
        ("empty.html", b"<html><head><script>var a = 1;</script></head><body></body></html>"): "no article text",
    }
    for (name, raw), message in cases.items():
        with pytest.raises(CorpusError, match=message):
            parse_document(raw, name)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * 2_000_000)
    monkeypatch.setattr(word, "MAX_UNPACKED", 1_000_000)
    with pytest.raises(CorpusError, match="zip bomb"):
        parse_document(bomb.getvalue(), "bomb.docx")


def test_without_the_ocr_extra_a_scan_or_photo_names_the_extra(monkeypatch):
    from qa.ingest import ocr

    def missing():
        raise ImportError("No module named 'rapidocr_onnxruntime'")

    monkeypatch.setattr(ocr, "_engine", missing)
    for name, raw in (("scan.pdf", blank_pdf()), ("photo.png", b"\x89PNG\r\n\x1a\n")):
        with pytest.raises(CorpusError, match=r"need OCR: pip install 'qa-chongqing\[ocr\]'"):
            parse_document(raw, name)


def test_an_image_over_the_pixel_limit_is_refused(monkeypatch, blind_ocr):
    pytest.importorskip("PIL")
    from PIL import Image

    from qa.ingest import ocr

    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buffer, format="PNG")
    monkeypatch.setattr(ocr, "MAX_PIXELS", 10_000)
    with pytest.raises(CorpusError, match="200×100 pixels, over the limit"):
        parse_document(buffer.getvalue(), "big.png")


def test_the_format_is_read_from_the_bytes():
    assert [sniffed(raw) for raw in (b"%PDF-1.7", b"PK\x03\x04x", b"\x89PNG", b"  <!DOCTYPE html><html>", "正文".encode())] == ["pdf", "zip", "image", "html", "text"]
