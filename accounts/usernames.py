"""When two usernames look alike, and which names nobody may take.

skeleton() is the UTS #39 skeleton (Unicode Security Mechanisms, section 4):
NFD, every character replaced by its prototype from Unicode's confusables
data, NFD again, so that "alice" with a Cyrillic a (U+0430) and "alice"
have the same one.
The data comes from confusable-homoglyphs, which lists each confusables
entry in both directions (source → prototype, prototype → its sources)
rather than as the one-way table; _prototypes() recovers the table: a
character listed with several homoglyphs is a prototype; one listed with a
single homoglyph that has several, or that is a sequence (m → rn), is a
source of it; two characters that list only each other are one source and
one prototype, and the smaller is taken for both, which compares the same.

key() is what is compared: characters that draw nothing dropped, NFKC,
casefold, skeleton, casefold again (some prototypes are capitals: 0 → O).
accounts.models keeps a digest of the key of every user's username and
display name; signup and the settings refuse a name whose keys_to_check()
meet someone else's, or a reserved name's key (is_reserved for a display
name, which may have several words).
"""

import hashlib
import unicodedata
from functools import cache

# Refused at signup, and so is anything that looks like one of them; @all,
# @here and the like would read as mentions of everyone.
RESERVED_USERNAMES = (
    "admin",
    "administrator",
    "root",
    "staff",
    "support",
    "system",
    "moderator",
    "security",
    "help",
    "everyone",
    "here",
    "channel",
    "all",
    "me",
)

# A display name may not hold one of these even beside other words: they
# claim to speak for the site ("admin (staff)", "Alice - Support"). Not
# "root", a surname too: "root" alone is refused as a reserved name.
ROLE_WORDS = (
    "admin",
    "administrator",
    "staff",
    "support",
    "system",
    "moderator",
    "security",
)

# Characters that draw nothing but take a place, as a space does: Hangul
# fillers are letters (so Django's username pattern accepts them), the
# Braille blank a symbol. A name of them would look blank, and one beside a
# name would look like nothing at all.
_BLANK_CHARACTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Marks that draw nothing of their own: variation selectors (an emoji's
# presentation: kept in display names), the combining grapheme joiner, the
# Khmer inherent vowels, Mongolian free variation selectors. key() drops
# them, format characters (category Cf) and the blanks above, so that a
# name with one of them inside still meets the name without.
_EMPTY_MARKS = frozenset(
    "\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)
_LRM = "\u200e"  # the data wraps right-to-left characters in it


@cache
def _prototypes() -> dict[str, str]:
    from confusable_homoglyphs.confusables import confusables_data

    listed: dict[str, list[str]] = {}
    for text, homoglyphs in confusables_data.items():
        listed.setdefault(text.replace(_LRM, ""), []).extend(
            h["c"].replace(_LRM, "") for h in homoglyphs
        )
    table = {}
    for char, homoglyphs in listed.items():
        if len(char) != 1 or len(homoglyphs) != 1:
            continue  # a sequence, or a prototype with several sources
        other = homoglyphs[0]
        other_is_prototype = len(other) > 1 or len(listed.get(other, ())) > 1
        # Else the two list only each other: the smaller stands for both.
        if other_is_prototype or (other and other < char):
            table[char] = other
    # Prototypes are skeletons already: map what the tie-break changed in
    # the sequences too, so that skeleton(skeleton(x)) == skeleton(x).
    return {char: _map(table, proto) for char, proto in table.items()}


def _map(table: dict[str, str], text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize(
        "NFD", "".join(table.get(char, char) for char in decomposed)
    )


def skeleton(text: str) -> str:
    return _map(_prototypes(), text)


def draws_nothing(char: str) -> bool:
    return (
        char in _BLANK_CHARACTERS
        or char in _EMPTY_MARKS
        or unicodedata.category(char) == "Cf"
    )


def key(username: str) -> str:
    """What is compared: "alice" with a variation selector after it, or a
    zero-width space inside, meets "alice"."""
    visible = "".join(char for char in username if not draws_nothing(char))
    folded = unicodedata.normalize("NFKC", visible).casefold()
    return skeleton(folded).casefold()


def keys_to_check(username: str) -> set[str]:
    """The name's key, and the key of its skeleton before folding: a capital
    I folds to i but looks like l, so "aIice" must meet "alice" too."""
    return {key(username), key(skeleton(username))}


def digest(username_key: str) -> str:
    """What is stored: a key can be several times longer than the name."""
    return hashlib.sha256(username_key.encode()).hexdigest()


@cache
def reserved_keys() -> frozenset[str]:
    return frozenset(key(name) for name in RESERVED_USERNAMES)


@cache
def role_keys() -> frozenset[str]:
    return frozenset(key(word) for word in ROLE_WORDS)


def _words(name_key: str) -> list[str]:
    """The key cut at everything but letters, marks and digits: at spaces,
    brackets, punctuation, symbols."""
    words, word = [], []
    for char in name_key:
        if unicodedata.category(char)[0] in "LMN":
            word.append(char)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return words


def is_reserved(name: str) -> bool:
    """A name that reads as a reserved one: it is one or looks like one (as
    a username would be refused), or its words all are ("everyone (all)"),
    or one of them is a role word ("admin (staff)", "Alice [moderator]")."""
    for name_key in keys_to_check(name):
        if name_key in reserved_keys():
            return True
        words = _words(name_key)
        if words and all(word in reserved_keys() for word in words):
            return True
        if any(word in role_keys() for word in words):
            return True
    return False


def has_invisible_characters(username: str) -> bool:
    """Format characters (category Cf: bidi overrides and isolates, LRM/RLM,
    zero-width joiners) reorder or hide text around a name; blank ones
    (Hangul fillers, the Braille blank) look like nothing."""
    return any(
        unicodedata.category(char) == "Cf" or char in _BLANK_CHARACTERS
        for char in username
    )
