"""A cache directory that only its owner can write, and records in it that only its owner could have made.

What the compile cache (``bayesmixed._nutpie_compile``) reads from disk passes through here:

- the directory must be a directory of the current user; it is created ``0700`` (``0700`` is restored on one of
  ours that is wider); one that belongs to someone else is not used at all (one warning, then every process
  compiles for itself);
- every file read from it must be a regular file (not a link) of the current user with no permission bits for
  group or others; files are written ``0600`` under a temporary name and renamed into place (:func:`os.replace`),
  so a reader never sees half a file and two writers never write into one file;
- records are JSON (never pickle), signed with an HMAC-SHA256 under a random per-user key kept in the directory
  (``key``, ``0600``); a record whose signature does not verify is ignored. The signature covers digests of any
  other files the record vouches for (numba's cache files), which are checked before anything reads them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any

from ._warnings import warn_user

__all__ = ["usable_dir", "private_file", "user_key", "sign", "write_private", "write_record", "read_record",
           "file_digest", "tighten"]

_KEY_NAME = "key"
_WARNED: set[str] = set()


def _uid() -> int:
    """The current user (a function, so that tests can pretend files belong to someone else)."""
    return os.geteuid() if hasattr(os, "geteuid") else -1


def _warn_once(path: Path, why: str) -> None:
    if str(path) not in _WARNED:
        _WARNED.add(str(path))
        warn_user(
            f"bayesmixed's compile cache {str(path)!r} is not used: {why}. Models are compiled in every process "
            "(slower, not wrong). Set BAYESMIXED_CACHE_DIR to a directory of your own, or "
            "BAYESMIXED_COMPILE_CACHE=0 to silence this."
        )


def usable_dir(path: Path) -> Path | None:
    """``path`` made ready as a private cache directory (created ``0700``), or None (with one warning) when it
    cannot be: it belongs to another user, is not a directory, or cannot be created."""
    if os.name != "posix":  # pragma: no cover - no owner/mode model to check; only the signatures protect
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir(mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError as err:
        _warn_once(path, f"it cannot be created ({err.strerror})")
        return None
    if not stat.S_ISDIR(st.st_mode):
        _warn_once(path, "it is not a directory")
        return None
    if st.st_uid != _uid():
        _warn_once(path, f"it belongs to another user (uid {st.st_uid}), who could plant code in it")
        return None
    if st.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)
        except OSError as err:
            _warn_once(path, f"others may write in it and its mode cannot be restricted ({err.strerror})")
            return None
    return path


def private_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (not a link) of the current user that nobody else may read or write."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if os.name != "posix":  # pragma: no cover
        return True
    return st.st_uid == _uid() and not st.st_mode & 0o077


def tighten(path: Path) -> None:
    """Mode ``0600`` on a file we wrote (numba writes its cache files with the umask's mode)."""
    try:
        if os.lstat(path).st_uid == _uid():
            os.chmod(path, 0o600)
    except OSError:
        pass


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a new ``0600`` file under a unique temporary name, renamed over
    ``path`` (a broken or foreign file there is replaced, never written into)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def user_key(directory: Path) -> bytes | None:
    """The HMAC key of this user's cache in ``directory``, made (32 random bytes, ``0600``) on first use; None
    when the directory cannot hold one. A key file that is not private to us is replaced (every record signed
    with it is then ignored and rebuilt)."""
    path = directory / _KEY_NAME
    for _ in range(3):
        if private_file(path):
            try:
                key = bytes.fromhex(path.read_text().strip())
            except (OSError, ValueError):
                key = b""
            if len(key) == 32:
                return key
        try:
            if os.path.lexists(path):
                os.unlink(path)
            # made under a temporary name, then linked into place: a concurrent reader never sees an empty key,
            # and of two processes creating one at once, the first link wins and the other reads it
            tmp = directory / f".key.{os.getpid()}.{secrets.token_hex(6)}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
            finally:
                os.unlink(tmp)
        except OSError:
            return None
    return None


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=True).encode()


def sign(key: bytes, payload: dict[str, Any]) -> str:
    return hmac.new(key, _canonical(payload), hashlib.sha256).hexdigest()


def write_record(path: Path, key: bytes, payload: dict[str, Any]) -> None:
    """Write ``payload`` (JSON-able) as a signed record, atomically, ``0600``."""
    body = {"payload": payload, "mac": sign(key, payload)}
    write_private(path, json.dumps(body, sort_keys=True, allow_nan=True).encode())


def read_record(path: Path, key: bytes) -> dict[str, Any] | None:
    """The payload of a record written by :func:`write_record` with ``key``, or None when the file is missing,
    not private to us, truncated, not JSON, or not signed with our key."""
    if not private_file(path):
        return None
    try:
        with open(path, "rb") as fh:  # nothing but JSON is parsed; nothing in it is executed
            body = json.loads(fh.read(16 << 20).decode())
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("payload"), dict) or not isinstance(body.get("mac"), str):
        return None
    if not hmac.compare_digest(sign(key, body["payload"]), body["mac"]):
        return None
    return body["payload"]


def file_digest(path: Path) -> str | None:
    """SHA-256 of a private file's bytes, or None when it is missing or not private to us."""
    if not private_file(path):
        return None
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()
