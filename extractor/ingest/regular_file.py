"""Open a user's path only when it is a regular file, without ever blocking, and read it within a size.

A named pipe would block ``open()`` until a writer comes (forever, in a batch), ``/dev/zero`` never
ends, and a symlink loop makes ``Path.resolve()`` raise: each of those is one clear InputError here.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import BinaryIO, Callable

from extractor.errors import InputError

_KINDS: tuple[tuple[Callable[[int], bool], str, str], ...] = (
    (stat.S_ISDIR, "a directory", "这是一个目录，不是文件"),
    (stat.S_ISFIFO, "a named pipe (FIFO)", "这是一个命名管道（FIFO），不是普通文件"),
    (stat.S_ISCHR, "a character device", "这是一个字符设备（如 /dev/zero），不是普通文件"),
    (stat.S_ISBLK, "a block device", "这是一个块设备，不是普通文件"),
    (stat.S_ISSOCK, "a socket", "这是一个套接字，不是普通文件"),
)


class UnreadableNowError(InputError):
    """The path is missing or cannot be opened at this moment (permissions, disk): another try may work,
    unlike a path that is a pipe, a device or a loop."""


def _not_regular(path: Path, mode: int) -> InputError:
    for test, what, zh in _KINDS:
        if test(mode):
            if what == "a directory":
                return InputError(f"{path} is a directory, not a file", hint_zh=zh)
            return InputError(f"{path} is {what}, not a regular file; only regular files are read", hint_zh=zh)
    return InputError(f"{path} is not a regular file", hint_zh="不是普通文件，无法读取")


def _open_error(path: Path, exc: OSError) -> InputError:
    if exc.errno == errno.ENOENT:
        return UnreadableNowError(f"no such file: {path}", hint_zh="文件不存在")
    if exc.errno == errno.ELOOP:
        return InputError(f"{path} is a symbolic link that loops (it never reaches a file)",
                          hint_zh="符号链接循环指向自身，无法读取")
    if exc.errno == errno.EISDIR:
        return InputError(f"{path} is a directory, not a file", hint_zh="这是一个目录，不是文件")
    return UnreadableNowError(f"{path} cannot be read: {exc.strerror or exc}", hint_zh="文件无法读取（权限或磁盘错误）")


def open_regular(path: str | Path) -> BinaryIO:
    """The file opened for binary reading; InputError when it is missing, not a regular file or a loop."""
    p = Path(path)
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer before fstat can tell.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise _open_error(p, exc) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _not_regular(p, mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def too_large(size: int, what: str, max_bytes: int) -> InputError:
    mb = 1024 * 1024
    return InputError(f"{what} is {size // mb} MB; the limit is {max_bytes // mb} MB (NIANBAO_MAX_INPUT_MB raises it)",
                      hint_zh=f"文件过大（上限 {max_bytes // mb} MB）")


def hash_regular(path: str | Path, max_bytes: int, digest: "hashlib._Hash") -> str:
    """The hex digest of a regular file of at most ``max_bytes``, read 1 MB at a time."""
    p = Path(path)
    with open_regular(p) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > max_bytes:
            raise too_large(size, str(p), max_bytes)
        try:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        except OSError as exc:
            raise UnreadableNowError(f"{p} cannot be read: {exc.strerror or exc}",
                                     hint_zh="文件无法读取（权限或磁盘错误）") from None
    return digest.hexdigest()


def read_regular(path: str | Path, max_bytes: int) -> bytes:
    """All bytes of a regular file of at most ``max_bytes``; reads one byte past the limit at most,
    so a file that grows while it is read is refused too."""
    p = Path(path)
    with open_regular(p) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > max_bytes:
            raise too_large(size, str(p), max_bytes)
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise UnreadableNowError(f"{p} cannot be read: {exc.strerror or exc}",
                                     hint_zh="文件无法读取（权限或磁盘错误）") from None
    if len(data) > max_bytes:
        raise too_large(len(data), str(p), max_bytes)
    return data
