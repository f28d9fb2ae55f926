"""The one-machine cache: Django's file cache, culled now and then.

FileBasedCache lists its whole directory on every set to decide whether to
cull. With the thousands of entries a busy chat keeps (rate-limit counts,
presence, rendered messages), that listing cost about 3 ms per write, more
than the request that made it. Here the directory is listed once every
CULL_EVERY writes per process thread, which keeps it bounded all the same.
"""

from django.core.cache.backends.filebased import FileBasedCache


class FileCache(FileBasedCache):
    CULL_EVERY = 500

    def _cull(self) -> None:
        self._writes = getattr(self, "_writes", 0) + 1
        if self._writes % self.CULL_EVERY == 0:
            super()._cull()
