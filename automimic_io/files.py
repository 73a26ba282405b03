"""Files: read an input with a bound, write an output atomically.

An input must be a regular file: a folder, a device (``/dev/zero``), a pipe (``/dev/stdin``, a
FIFO) or a socket is refused at once with one line naming it, never read until memory runs out
and never waited on. Errors name the path given, never a temporary file.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

MAX_INPUT_BYTES = 16 * 1024 * 1024  # automaton files and other small inputs

Content = str | bytes | Callable[[BinaryIO], object]  # text, bytes, or a writer of the file
_NOT_REGULAR = (
    (stat.S_ISDIR, "is a directory"), (stat.S_ISFIFO, "is a pipe"),
    (stat.S_ISCHR, "is a device"), (stat.S_ISBLK, "is a device"), (stat.S_ISSOCK, "is a socket"),
)


class InputError(ValueError):
    """An input file that cannot be read: ``path`` and ``problem`` make its one-line message."""

    def __init__(self, path: str | os.PathLike, problem: str) -> None:
        self.path, self.problem = os.fspath(path), problem
        super().__init__(f"{self.path}: {problem}")


def read_bytes(path: str | os.PathLike, *, limit: int = MAX_INPUT_BYTES,
               what: str = "input") -> bytes:
    """The content of the regular file ``path``, at most ``limit`` bytes, else InputError.

    Examples
    --------
    >>> read_bytes("/dev/zero")
    Traceback (most recent call last):
    ...
    automimic_io.files.InputError: /dev/zero: is a device, expected a regular input file
    """
    try:  # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as error:
        raise InputError(path, f"cannot read the file ({error.strerror})") from None
    try:
        info = os.fstat(descriptor)
        for test, kind in _NOT_REGULAR:
            if test(info.st_mode):
                raise InputError(path, f"{kind}, expected a regular {what} file")
        if info.st_size > limit:
            raise InputError(path, f"the file is too large ({info.st_size} bytes, limit {limit})")
        os.set_blocking(descriptor, True)
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            content = handle.read(limit + 1)
    except OSError as error:
        raise InputError(path, f"cannot read the file ({error.strerror})") from None
    finally:
        os.close(descriptor)
    if len(content) > limit:
        raise InputError(path, f"the file is too large (over {limit} bytes, the limit)")  # it grew
    return content


def decode(raw: bytes, path: str | os.PathLike, what: str = "UTF-8") -> str:
    """``raw`` as UTF-8 text (a byte-order mark dropped); InputError for binary or other bytes.

    The message never quotes the content.

    >>> decode(b"ab", "f"), decode(b"\\xef\\xbb\\xbfab", "f")
    ('ab', 'ab')
    """
    if b"\x00" in raw:
        raise InputError(path, f"this is a binary file, expected {what} text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(path, f"not UTF-8 text (byte {error.start})") from None


def read_text(path: str | os.PathLike, *, limit: int = MAX_INPUT_BYTES,
              what: str = "UTF-8") -> str:
    """The UTF-8 text of the regular file ``path`` (see :func:`read_bytes`, :func:`decode`)."""
    return decode(read_bytes(path, limit=limit, what=what), path, what)


def write_atomic(path: str | os.PathLike, content: Content) -> None:
    """Write ``content`` to ``path``: a temporary file in the same folder, flushed to disk, renamed
    over ``path``, then the folder flushed, so ``path`` holds the old or the new content, whole.

    ``content`` is text (written as UTF-8), bytes, or a function that writes into the open binary
    file. The file gets the usual permissions (those of the file it replaces, else 0o666 less the
    umask); errors name ``path``, never the temporary file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "new" / "f.txt"
    >>> write_atomic(path, "hé")
    >>> write_atomic(path, lambda handle: handle.write(path.read_bytes() * 2))
    >>> path.read_text(encoding="utf-8"), sorted(p.name for p in path.parent.iterdir())
    ('héhé', ['f.txt'])
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory, expected a file name", str(path))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(errno.ENOTDIR, "cannot create its folder: a file is in the "
                                 "way", str(path)) from None
    except OSError as error:
        raise type(error)(error.errno, error.strerror, str(path)) from None
    try:
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                                 suffix=".tmp")
    except OSError as error:
        raise type(error)(error.errno, error.strerror, str(path)) from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if callable(content):
                content(handle)
            else:
                handle.write(content.encode("utf-8") if isinstance(content, str) else content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _file_mode(path))
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError) and error.errno and error.filename in (None, temporary):
            raise type(error)(error.errno, error.strerror, str(path)) from None  # e.g. disk full
        raise
    _sync_folder(path.parent)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when ``a`` and ``b`` name the same existing file, by whatever path or link.

    >>> same_file("/dev/null", "/dev/../dev/null"), same_file("/dev/null", "/absent")
    (True, False)
    """
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entry list, so the rename survives a crash."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # a system that cannot open folders (Windows) keeps the rename anyway
        return
    try:
        os.fsync(descriptor)
    except OSError:  # some file systems cannot flush a folder; the rename is done
        pass
    finally:
        os.close(descriptor)


def _file_mode(path: Path) -> int:
    """The mode of the file ``path`` replaces, else what ``open`` would give a new file."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)  # reading the umask means setting it: set it back at once
        os.umask(umask)
        return 0o666 & ~umask
