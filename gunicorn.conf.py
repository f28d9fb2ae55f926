"""gunicorn settings for `make serve` (and deployments); env overrides."""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threads keep idle keep-alive connections cheap: polling browsers hold one
# open and ask every two seconds.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 10
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
# The benchmark serves its bare floor app with this same file (bench/bare_wsgi.py).
wsgi_app = os.environ.get("GUNICORN_WSGI_APP", "config.wsgi:application")
