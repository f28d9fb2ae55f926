"""gunicorn settings for `make serve`, deployments and the benchmark; every
value can be overridden from the environment (GUNICORN_*)."""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Why gthread, one process per core and 8 threads (docs/benchmarks.md, "Worker
# class and counts"): polling browsers keep a connection open and ask every
# two seconds; gthread holds idle keep-alive connections in its poller at no
# cost and hands requests to threads, where sync workers close every
# connection after one response. On the empty poll, gthread with one worker
# per core matched or beat four sync workers and four gthread workers in
# throughput, with a lower p99, in half the memory. Rendering is CPU-bound
# under the GIL, so more processes than cores buy nothing; threads cover the
# waits on the database and the cache.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", str(os.cpu_count() or 2)))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Longer than the 2 s poll interval, so a polling tab keeps its connection.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
# The benchmark serves its bare floor app with this same file (bench/bare_wsgi.py).
wsgi_app = os.environ.get("GUNICORN_WSGI_APP", "config.wsgi:application")
