"""Production settings come from the environment and pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-0123456789",
    "DJANGO_SECURE": "1",
    "DJANGO_ALLOWED_HOSTS": "chat.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_complains_without_secure_settings():
    env = {**PRODUCTION_ENV, "DJANGO_SECURE": "0"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stdout + result.stderr


def test_missing_secret_key_stops_start_up_when_debug_is_off():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_every_response_carries_the_strict_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(
        part.strip().split(" ", 1) for part in policy.split(";") if part.strip()
    )
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
        "form-action": "'self'",
    }
    assert "unsafe" not in policy


def test_htmx_config_allows_no_eval_and_no_injected_styles(client, db):
    import json

    from bs4 import BeautifulSoup

    page = BeautifulSoup(client.get("/").content, "html.parser")
    config = json.loads(page.select_one('meta[name="htmx-config"]')["content"])
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    rules = {r["code"]: r for r in config["responseHandling"]}
    assert rules["204"]["swap"] is False
    assert rules["400"]["swap"] is True and rules["400"]["error"] is False


def test_without_redis_the_cache_is_shared_by_the_processes_of_one_machine(
    tmp_path,
):
    """gunicorn's workers are processes: a rate-limit count or presence
    written by one must be read by the next."""
    env = {"DJANGO_CACHE_DIR": str(tmp_path / "cache"), "REDIS_URL": ""}
    write = manage(
        "shell",
        "-c",
        "from django.core.cache import cache; "
        "cache.set('shared-probe', 'from-process-1', 60)",
        **env,
    )
    assert write.returncode == 0, write.stderr
    read = manage(
        "shell",
        "-c",
        "from django.core.cache import cache; print(cache.get('shared-probe'))",
        **env,
    )
    assert read.returncode == 0, read.stderr
    assert read.stdout.strip().splitlines()[-1] == "from-process-1"


def test_in_debug_rendered_messages_are_not_cached():
    """Under make dev templates change beneath the running process: a cached
    rendering would show a designer the markup they just replaced."""
    probe = (
        "from django.core.cache import caches; "
        "print(type(caches['template_fragments']).__name__)"
    )
    debug = manage("shell", "-c", probe, DJANGO_DEBUG="1")
    assert debug.returncode == 0, debug.stderr
    assert debug.stdout.strip().splitlines()[-1] == "DummyCache"
    production = manage("shell", "-c", probe, **PRODUCTION_ENV)
    assert production.returncode == 0, production.stderr
    assert production.stdout.strip().splitlines()[-1] == "LocMemCache"


@pytest.mark.django_db(transaction=True)
def test_tests_on_sqlite_run_on_a_wal_file_as_production_does():
    """A shared-cache in-memory database (Django's default for tests) locks
    tables between the live server's connections and fails at once with
    "database table is locked": production never does that (issue 27)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        assert connection.vendor == "postgresql"
        return
    assert not connection.is_in_memory_db()
    assert Path(connection.settings_dict["NAME"]).is_file()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] > 0
