"""``from qa.reader import Reader``, the path the README documents; the reader lives in :mod:`qa.reading.reader`."""

from qa.reading.reader import READER_WEIGHTS, Reader

__all__ = ["READER_WEIGHTS", "Reader"]
