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

key() is what is compared: NFKC, casefold, skeleton, casefold again (some
prototypes are capitals: 0 → O). accounts.models keeps a digest of every
user's key; signup refuses a name whose keys_to_check() meet one of those or
a reserved name's key.
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

# Hangul fillers are letters (so Django's username pattern accepts them)
# that draw nothing: a name of them would look blank.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
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


def key(username: str) -> str:
    folded = unicodedata.normalize("NFKC", username).casefold()
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


def has_invisible_characters(username: str) -> bool:
    """Format characters (category Cf: bidi overrides and isolates, LRM/RLM,
    zero-width joiners) reorder or hide text around a name."""
    return any(
        unicodedata.category(char) == "Cf" or char in _BLANK_LETTERS
        for char in username
    )
