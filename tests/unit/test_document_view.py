"""The full-text view: Markdown headings shown as headings (no ``##``), answers still marked in place."""

from qa.frontends.app.render import document_html
from qa.ingest.document import Document


def test_markdown_headings_are_rendered_as_headings_and_marks_stay_in_place():
    text = "首段。\n## 深度融合\n正文一。\n### 集群化创新\n正文二。"
    at = text.index("正文一")
    view = document_html([Document("a.txt", text)], [("a.txt", at, at + 3)], {})
    assert "#" not in view and '<p class="heading h2">深度融合</p>' in view and '<p class="heading h3">集群化创新</p>' in view
    assert '<mark class="latest">正文一</mark>' in view
