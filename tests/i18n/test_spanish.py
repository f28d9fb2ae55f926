import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

PO = Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"


def test_room_page_renders_in_spanish_from_accept_language(
    auth_client, room, other_user, make_messages, soup
):
    from chat import services

    make_messages(room, 30)
    services.message_create(room=room, author=other_user, content="/me saluda")
    response = auth_client.get(
        f"/rooms/{room.slug}/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9"
    )
    assert response.status_code == 200
    page = soup(response)
    assert page.html["lang"] == "es"
    assert page.select_one("#send-form button").get_text(strip=True) == "Enviar"
    assert page.select_one("label[for=send-content]").get_text(strip=True) == "Mensaje"
    assert page.select_one("#load-older a").get_text(strip=True) == "Cargar anteriores"
    assert page.select_one("#leave-form button").get_text(strip=True) == "Salir"
    assert "Accept-Language" in response["Vary"]


def test_english_stays_the_default(auth_client, room, soup):
    page = soup(auth_client.get(f"/rooms/{room.slug}/"))
    assert page.html["lang"] == "en"
    assert page.select_one("#send-form button").get_text(strip=True) == "Send"


def test_spanish_errors_in_fragments(htmx_client, room, soup):
    response = htmx_client.post(
        f"/rooms/{room.slug}/messages/", {"content": " "}, HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 400
    error = soup(response).select_one("#send-error").get_text(strip=True)
    assert error == "Escribe un mensaje antes de enviar."


def _po_entries(text: str) -> list[dict[str, str]]:
    """msgid/msgstr (msgstr[0] for plurals) of each entry, continuations joined."""
    entries, current, key = [], {}, None
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if current:
                entries.append(current)
            current, key = {}, None
        elif line.startswith("#"):
            current.setdefault("flags", "")
            current["flags"] += line
        elif line.startswith(
            ("msgctxt ", "msgid ", "msgid_plural ", "msgstr ", "msgstr[0] ")
        ):
            key, _, value = line.partition(" ")
            current[key] = value.strip()[1:-1]
        elif line.startswith('"') and key:
            current[key] += line.strip()[1:-1]
    return [e for e in entries if e.get("msgid")]


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(text: str) -> str:
    """A .po string as gettext compiles it (\\" is ", \\\\ is \\, \\n a newline)."""
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


def test_spanish_catalogue_is_complete_and_compiled():
    import gettext

    entries = _po_entries(PO.read_text())
    assert len(entries) > 50
    for entry in entries:
        assert "fuzzy" not in entry.get("flags", ""), entry
        assert entry.get("msgstr") or entry.get("msgstr[0]"), entry["msgid"]
    with PO.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    # The committed .mo is the compiled .po: every entry is in it.
    for entry in entries:
        if "msgid_plural" in entry:
            continue
        msgid = _unescape(entry["msgid"])
        if "msgctxt" in entry:  # the same words in another sense
            found = compiled.pgettext(entry["msgctxt"], msgid)
        else:
            found = compiled.gettext(msgid)
        assert found == _unescape(entry["msgstr"]), entry["msgid"]
