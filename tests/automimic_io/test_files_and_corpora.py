"""automimic_io: bounded reading of regular files only, atomic writes, one rule for symbols and
one corpus format."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import automimic_io as io
from automimic_io.files import InputError

ROOT = str(Path(__file__).resolve().parents[2])

# ------------------------------------------------------------------ reading


def test_a_regular_file_is_read_whole(tmp_path):
    (tmp_path / "f.txt").write_bytes(b"\xef\xbb\xbfab\n")
    assert io.read_bytes(tmp_path / "f.txt") == b"\xef\xbb\xbfab\n"
    assert io.read_text(tmp_path / "f.txt") == "ab\n"


@pytest.mark.parametrize(("make", "needle"), [
    (lambda tmp: "/dev/zero", "is a device, expected a regular corpus file"),
    (lambda tmp: tmp, "is a directory, expected a regular corpus file"),
    (lambda tmp: tmp / "absent", "no such file"),
])
def test_what_is_not_a_regular_file_is_refused_naming_it(tmp_path, make, needle):
    path = make(tmp_path)
    with pytest.raises(InputError) as error:
        io.read_bytes(path, what="corpus")
    assert str(error.value) == f"{path}: {needle}"


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    check = f"import automimic_io\ntry:\n automimic_io.read_bytes({str(fifo)!r})\nexcept " \
            "automimic_io.InputError as e:\n print(e)"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                          timeout=20, env=os.environ | {"PYTHONPATH": ROOT})
    assert done.stdout.strip() == f"{fifo}: is a pipe, expected a regular input file", done.stderr


def test_stdin_as_a_pipe_is_refused():
    check = "import automimic_io\ntry:\n automimic_io.read_bytes('/dev/stdin')\nexcept " \
            "automimic_io.InputError as e:\n print(e)"
    done = subprocess.run([sys.executable, "-c", check], input="never read", capture_output=True,
                          text=True, timeout=20, env=os.environ | {"PYTHONPATH": ROOT})
    assert done.stdout.strip() == "/dev/stdin: is a pipe, expected a regular input file"


def test_the_size_limit_is_checked_before_reading(tmp_path):
    (tmp_path / "f").write_bytes(b"1234")
    assert io.read_bytes(tmp_path / "f", limit=4) == b"1234"
    with pytest.raises(InputError, match=r"too large \(4 bytes, limit 3\)"):
        io.read_bytes(tmp_path / "f", limit=3)


@pytest.mark.parametrize(("raw", "needle"), [
    (b"\x00\x01PK secret", "this is a binary file, expected UTF-8 text"),
    (b"ab\xff secret", "not UTF-8 text (byte 2)"),
])
def test_undecodable_bytes_are_named_never_quoted(raw, needle):
    with pytest.raises(InputError) as error:
        io.decode(raw, "f.bin")
    assert str(error.value) == f"f.bin: {needle}"
    assert "secret" not in str(error.value)


# ------------------------------------------------------------------ writing


@pytest.mark.parametrize("content", ["hé\n", b"h\xc3\xa9\n", lambda handle: handle.write(b"h\xc3\xa9\n")])
def test_write_atomic_takes_text_bytes_or_a_writer(tmp_path, content):
    path = tmp_path / "sub" / "f.txt"
    io.write_atomic(path, content)
    assert path.read_bytes() == "hé\n".encode()
    assert [p.name for p in path.parent.iterdir()] == ["f.txt"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_written_files_get_the_usual_permissions(tmp_path, umask):
    before = os.umask(umask)
    try:
        io.write_atomic(tmp_path / "new.txt", "x")
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o666 & ~umask
    os.chmod(tmp_path / "new.txt", 0o640)
    io.write_atomic(tmp_path / "new.txt", "y")
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o640


def test_the_file_and_its_folder_are_flushed_to_disk(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def fsync(descriptor):
        synced.append(stat.S_ISDIR(os.fstat(descriptor).st_mode))
        real(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    io.write_atomic(tmp_path / "f.txt", "x")
    assert synced == [False, True]  # the temporary file, then the folder after the rename


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "f.txt"
    path.write_text("old")

    def fail(handle):
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        io.write_atomic(path, fail)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_errors_name_the_file_never_the_temporary(tmp_path, monkeypatch):
    def replace(source, target):
        raise OSError(errno.EXDEV, "Invalid cross-device link", source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError) as error:
        io.write_atomic(tmp_path / "train.txt", "x")
    assert error.value.filename == str(tmp_path / "train.txt")
    assert list(tmp_path.iterdir()) == []


def test_errors_name_the_file_when_a_file_blocks_its_folder(tmp_path):
    (tmp_path / "blocker").write_text("keep")
    with pytest.raises(NotADirectoryError) as error:
        io.write_atomic(tmp_path / "blocker" / "train.txt", "x")
    assert error.value.filename == str(tmp_path / "blocker" / "train.txt")
    with pytest.raises(IsADirectoryError):
        io.write_atomic(tmp_path, "x")


# ------------------------------------------------------------------ symbols and corpora


def test_one_rule_splits_text_into_symbols():
    assert io.symbols_of("abba", ("a", "b")) == ("a", "b", "b", "a")
    assert io.symbols_of("the  cat", ("the", "cat")) == ("the", "cat")
    assert io.join_symbols(("a", "b"), ("a", "b")) == "ab"
    assert io.join_symbols(("the", "cat"), ("the", "cat")) == "the cat"


@pytest.mark.parametrize(("text", "strings"), [
    ("a b\nb a\n", [("a", "b"), ("b", "a")]),  # a line with two symbols: whitespace decides
    ("ab\n\nb\n", [("a", "b"), (), ("b",)]),  # no such line: characters; blank = empty string
    ("ab\r\nb a\r\n", [("ab",), ("b", "a")]),
    ("ab \r\nb\r\n", [("a", "b"), ("b",)]),
    ("ab", [("a", "b")]),
])
def test_a_corpus_text_decides_how_its_lines_split(text, strings):
    assert io.parse_corpus(text) == strings


def test_chars_reads_characters_even_across_spaces():
    assert io.parse_corpus("a b\n", chars=True) == [("a", " ", "b")]
    assert io.parse_corpus("ab c\n", chars=False) == [("ab", "c")]


@given(st.lists(st.lists(st.sampled_from(["a", "b", "c"]), max_size=5), max_size=6),
       st.sampled_from([("a", "b", "c"), ("a", "b", "c", "dd")]))
def test_a_written_corpus_reads_back_with_its_alphabet(tmp_path_factory, strings, alphabet):
    path = tmp_path_factory.mktemp("corpus") / "c.txt"
    io.write_corpus(path, strings, alphabet)
    chars = io.single_characters(alphabet)
    assert io.read_corpus(path, chars=chars) == [tuple(s) for s in strings]


def test_a_corpus_file_is_bounded(tmp_path):
    (tmp_path / "c.txt").write_text("a b\n" * 10)
    with pytest.raises(InputError, match="too large"):
        io.read_corpus(tmp_path / "c.txt", limit=10)
    with pytest.raises(InputError, match="is a device"):
        io.read_corpus("/dev/zero")
