"""Chinese-aware chunking that keeps every chunk's character offsets in its document."""

from __future__ import annotations

from dataclasses import dataclass

from qa.ingest.corpus import Document

CHUNK_SIZE = 300
CHUNK_OVERLAP = 0

# Paragraphs, then lines, then sentence ends (closing quotes stay with their sentence);
# clauses and single characters only for a sentence longer than a chunk.
SEPARATORS = [r"\n\s*\n", r"\n", r"[。！？；!?;][”’」』\"')）]*", r"[，、,：:]", ""]


@dataclass(frozen=True)
class Chunk:
    """A passage: ``document.text[start:end] == text``."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str


def split_documents(documents: list[Document], chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP) -> list[Chunk]:
    """Split documents into chunks of at most ``chunk_size`` characters, numbered across the corpus."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        length_function=len,
        strip_whitespace=True,
    )
    chunks: list[Chunk] = []
    for doc in documents:
        cursor, previous = 0, -1
        for piece in splitter.split_text(doc.text):
            # a piece starts after the previous one, and at most the overlap before its end
            # (repeated text has the same piece at several places: take the one in order)
            start = doc.text.find(piece, max(previous + 1, cursor - chunk_overlap))
            if start < 0:  # the splitter only strips and joins, so every piece is in the text
                raise RuntimeError(f"chunk not found in {doc.doc_id}: {piece[:30]!r}")
            chunks.append(Chunk(len(chunks), doc.doc_id, start, start + len(piece), piece))
            cursor, previous = start + len(piece), start
    return chunks
