"""The one cache scheme: content keys, atomic files, staged folders."""

import pytest

from qa.encoders.cache_files import cache_key, staged, write_atomic


def test_keys_follow_the_parts_and_file_contents(tmp_path):
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"one")
    first = cache_key("reader/1", weights)
    assert first == cache_key("reader/1", weights) and len(first) == 16
    assert cache_key("reader/2", weights) != first  # a new format version
    weights.write_bytes(b"two")
    assert cache_key("reader/1", weights) != first
    assert cache_key("ab", "c") != cache_key("a", "bc")  # parts are kept apart


def test_write_atomic_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "data.bin"
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_a_failed_staged_build_leaves_the_old_folder(tmp_path):
    target = tmp_path / "entry"
    with staged(target) as folder:
        (folder / "a").write_text("1")
    assert (target / "a").read_text() == "1"
    with pytest.raises(RuntimeError), staged(target) as folder:
        (folder / "a").write_text("half")
        raise RuntimeError("interrupted")
    assert (target / "a").read_text() == "1" and [p.name for p in tmp_path.iterdir()] == ["entry"]
