"""The one-machine cache: Django's file cache, culled now and then, with
add() and incr() that count right across processes.

FileBasedCache lists its whole directory on every set to decide whether to
cull. With the thousands of entries a busy chat keeps (rate-limit counts,
presence, rendered messages), that listing cost about 3 ms per write, more
than the request that made it. Here the directory is listed once every
CULL_EVERY writes per process thread, which keeps it bounded all the same.

FileBasedCache's add() is has_key() then set(), and its incr() get() then
set(): two workers (or two threads of one) counting the same key at once
both read 3 and both write 4. Rate limits count with them
(chat.ratelimit), so here each runs under an exclusive lock on a lock file,
which every process on the machine shares: flock(2) through Django's
django.core.files.locks, held by an open file, so it is released if the
process dies. Keys share LOCKS lock files by their hash: a file per key
would leave a file behind for every rate-limit window.
"""

import os
import pickle
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.filebased import FileBasedCache
from django.core.files import locks
from django.core.files.move import file_move_safe


class FileCache(FileBasedCache):
    CULL_EVERY = 500
    LOCKS = 16

    def _cull(self) -> None:
        self._writes = getattr(self, "_writes", 0) + 1
        if self._writes % self.CULL_EVERY == 0:
            super()._cull()

    @contextmanager
    def _locked(self, fname: str) -> Iterator[None]:
        """Holds the lock of the entry `fname` (what _key_to_file names),
        against every process and thread taking it. Lock files are not
        named *.djcache: culling and clear() leave them alone."""
        stripe = int(os.path.basename(fname)[:8], 16) % self.LOCKS
        path = os.path.join(self._dir, f"counting-{stripe}.lock")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        except FileNotFoundError:  # the directory was removed: as set() does
            self._createdir()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        with open(fd, "wb") as lock_file:
            locks.lock(lock_file, locks.LOCK_EX)
            try:
                yield
            finally:
                locks.unlock(lock_file)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        with self._locked(self._key_to_file(key, version)):
            return super().add(key, value, timeout, version)

    def incr(self, key, delta=1, version=None):
        """As Redis's INCR after Django's check that the key exists: a
        ValueError for a missing (or expired) key, and the entry keeps its
        expiry (BaseCache.incr would give it the default timeout)."""
        fname = self._key_to_file(key, version)
        with self._locked(fname):
            try:
                with open(fname, "rb") as f:
                    if self._is_expired(f):
                        raise FileNotFoundError
                    f.seek(0)
                    expiry = pickle.load(f)
                    value = pickle.loads(zlib.decompress(f.read()))
            except FileNotFoundError:
                raise ValueError(f"Key '{key}' not found") from None
            value += delta
            # As set() writes: a whole new file renamed over the old one.
            fd, tmp_path = tempfile.mkstemp(dir=self._dir)
            renamed = False
            try:
                with open(fd, "wb") as f:
                    f.write(pickle.dumps(expiry, self.pickle_protocol))
                    f.write(zlib.compress(pickle.dumps(value, self.pickle_protocol)))
                file_move_safe(tmp_path, fname, allow_overwrite=True)
                renamed = True
            finally:
                if not renamed:
                    os.remove(tmp_path)
        return value
