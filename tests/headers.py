"""What every answer of the stack carries, for tests of the paths that answer
before it (the fast poll, the sidebar's unchanged refresh): they must send
the same security headers as the full path would."""

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
)


def assert_same_security_headers(fast, slow) -> None:
    for header in SECURITY_HEADERS:
        assert fast[header] == slow[header], header
    assert "HX-Request" in fast["Vary"]
