"""Pure normalization of person names: folding, name tokens, generational suffixes and the
nickname table.

Nothing here touches the store; every function is deterministic and safe on any input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from context_service.identity.memo import MISS, Memo

_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "sir",
        "madam",
        "dame",
        "jr",
        "sr",
        "ii",
        "iii",
        "iv",
        "phd",
        "md",
        "esq",
    ]
)
# Titles of other languages (folded), dropped only before the name (``Herr Müller``, ``Sra.
# García``, ``Mme Dubois``): elsewhere some of them could be a name's own word. German, French,
# Spanish and Portuguese, Italian and Dutch forms, and English ones the list above lacks. Not
# words that are names too (Don, Dona, Lord, Pan, Hon).
_LEADING_TITLES = _TITLES | frozenset(
    "herr hr frau fr frl fraulein fru monsieur mme madame mlle mademoiselle mmes "
    "senor sra senora srta senorita sres dra signor signora signorina dott ssa "
    "mevrouw mevr meneer dhr mej rev revd reverend rabbi lady mister missus".split()
)
# Common English nicknames and the formal first names they stand for. A nickname that stands for
# several names (``sam``: Samuel or Samantha) lists them all; it then matches any of them but is
# its own blocking key.
_NICKNAME_TEXT = """
bob rob robbie bobby bert:robert;
bill will willy billy liam:william;
liz beth lizzie betty eliza betsy libby:elizabeth;
jim jimmy jamie:james;
mike mikey mick:michael;
tom tommy tomas:thomas;
kate katie kathy kat:katherine catherine kathryn;
cathy cat:catherine;
dan danny:daniel;
dave davy:david;
joe joey jose:joseph;
sam sammy:samuel samantha;
alex al lex:alexander alexandra;
chris kris:christopher christine christina;
matt matty:matthew;
nick nicky:nicholas;
tony:anthony;
steve stevie stephen:steven;
jen jenny jenn:jennifer;
peggy maggie meg:margaret;
dick rick rich ricky richie:richard;
ted ed eddie:edward;
andy drew:andrew;
ben benny:benjamin;
pat patty:patrick patricia;
trish tricia:patricia;
ken kenny:kenneth;
tim timmy:timothy;
deb debbie debby:deborah;
greg:gregory;
sue susie suzy:susan;
jon johnny jack:john;
chuck charlie:charles;
hank harry:henry;
larry:lawrence;
jerry:gerald jerome;
terry:terence teresa;
tina:christina;
chrissy:christine christina;
sandy:sandra;
becky:rebecca;
abby:abigail;
mandy:amanda;
vicky vicki tori:victoria;
jess jessie:jessica;
nate:nathan nathaniel;
fred freddie:frederick;
ron ronnie:ronald;
don donnie:donald;
phil:philip phillip;
ray:raymond;
russ:russell;
walt:walter;
gabe:gabriel;
zach zack:zachary;
josh:joshua;
jake:jacob;
ally allie:alison allison;
nat:natalie natasha;
val:valerie;
gina:georgina;
manny:manuel;
pete:peter;
tommaso:thomas;
bea:beatrice;
ellie:eleanor ellen;
frank:francis franklin;
fran:frances francis;
gerry:gerald;
izzy:isabel isabella;
jojo:joanna;
lou:louis louise;
max:maxwell maximilian
"""


def _nicknames(text: str) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for entry in text.split(";"):
        nicks, _, formal = entry.partition(":")
        for nick in nicks.split():
            table[nick] = tuple(formal.split())
    return table


_NICKNAMES = _nicknames(_NICKNAME_TEXT)
# Every name the nickname table knows, nicknames and formal names alike.
NICKNAME_TABLE_NAMES = frozenset(
    name for nick, formals in _NICKNAMES.items() for name in (nick, *formals)
)


_NO_DECOMPOSITION = str.maketrans(
    {"\u0131": "i", "ø": "o", "ł": "l", "ß": "ss", "æ": "ae", "đ": "d", "þ": "th", "œ": "oe"}
)


_FOLDED: Memo[str] = Memo()  # non-ASCII text only: ASCII is folded faster than looked up


def fold(text: str) -> str:
    """Casefold and strip accents: ``"Tomás"`` becomes ``"tomas"``, dotless i becomes i."""
    if text.isascii():  # nothing to decompose or strip (most values): much cheaper
        return text.lower()
    found = _FOLDED.get(text)
    if found is not MISS:
        return found
    return _FOLDED.put(text, _fold_unicode(text))


def _fold_unicode(text: str) -> str:
    # Case-folded and translated after the decomposition: a compatibility character may
    # decompose into one of them (the modifier ligatures U+A7F9 into "œ", U+1D2D into "Æ"),
    # and folding must be idempotent (every code point is, checked by a test).
    decomposed = (
        unicodedata.normalize("NFKD", text.casefold()).casefold().translate(_NO_DECOMPOSITION)
    )
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


# Apostrophes as phones type them too (U+2019 in ``O\u2019Brien``): words apart, as in ``O'Brien``.
_NAME_BREAKS = re.compile(r"[\s,.'\u2018\u2019\u02bc\-]+")


def _name_words(first: str | None, last: str | None, full: str | None) -> list[str]:
    text = " ".join(part for part in (first, last) if part) or (full or "")
    return [word for word in _NAME_BREAKS.split(fold(text)) if word]


def name_tokens(first: str | None, last: str | None, full: str | None) -> tuple[str, ...]:
    """Folded name tokens without titles, generational suffixes or punctuation, first name
    first."""
    return _tokens(_name_words(first, last, full))


def name_tokens_and_suffix(
    first: str | None, last: str | None, full: str | None
) -> tuple[tuple[str, ...], str]:
    """``name_tokens`` and ``generational_suffix`` of one name, its words read once."""
    words = _name_words(first, last, full)
    return _tokens(words), _suffix(words)


def _tokens(words: list[str]) -> tuple[str, ...]:
    if len(words) > 2 and words[-1] in _SPELLED_GENERATIONS:  # John Smith Junior
        words = words[:-1]
    start = 0
    while start < len(words) and words[start] in _LEADING_TITLES:  # Frau Dr. Anna Müller
        start += 1
    return tuple(word for word in words[start:] if word not in _TITLES)


# Generational suffixes, as written after a name (``John Smith Jr.``, ``John Smith III``).
_GENERATIONS = {"jr": "jr", "sr": "sr", "ii": "ii", "iii": "iii", "iv": "iv"}
_SPELLED_GENERATIONS = {"junior": "jr", "senior": "sr"}  # only as the last of three words or more


def generational_suffix(first: str | None, last: str | None, full: str | None) -> str:
    """The generational suffix a name carries (``jr``, ``sr``, ``ii``, ``iii``, ``iv``), or
    ``""``: ``John Smith Sr.`` and ``John Smith Jr.`` are a father and his son, so two records
    whose suffixes differ are two people. A suffix is read after the first word only
    (``Junior`` alone or first is a name)."""
    return _suffix(_name_words(first, last, full))


# Words between a given name and a surname that belong to the surname (``Maria De Luca``,
# ``Jan van der Berg``, ``Ahmed bin Said``): no second given name.
SURNAME_PARTICLES = frozenset(
    "abd abu al ap bat ben bin binti bint d da dal dalla das de degli dei del dell della dello "
    "delle den der des di do dos du e el het ibn la las le lo los mac mc ould san santa st ste "
    "ten ter van vande vander vom von y zu zum zur".split()
)


def first_written_word(text: str) -> str:
    """The first word of a name as written, spaced words apart, titles left out
    (``Dr. Jean-Luc Martin``: ``Jean-Luc``)."""
    for word in text.split():
        folded = [part for part in _NAME_BREAKS.split(fold(word)) if part]
        if folded and not all(part in _LEADING_TITLES for part in folded):
            return word
    return ""


def second_given_name(words: Iterable[str]) -> str:
    """The first of ``words`` (those after a first name) of two letters or more that is no
    surname particle (``Maria De Luca``, ``Jan van den Berg``; the ``O`` of O'Brien is one
    letter), or ``""``."""
    for word in words:
        if len(word) >= 2 and word not in SURNAME_PARTICLES:
            return word
    return ""


def _suffix(words: list[str]) -> str:
    found = ""
    for word in words[1:]:
        found = _GENERATIONS.get(word, found)
    if len(words) > 2 and words[-1] in _SPELLED_GENERATIONS:
        found = _SPELLED_GENERATIONS[words[-1]]
    return found


def canonical_first(token: str) -> str:
    """Map a nickname to its formal first name (``bob`` to ``robert``); an ambiguous nickname
    (``sam``) stays itself."""
    formal = _NICKNAMES.get(token)
    return formal[0] if formal and len(formal) == 1 else token


def first_name_forms(token: str) -> frozenset[str]:
    """The token and every formal name it may stand for (``sam``: sam, samuel, samantha)."""
    return frozenset((token, *_NICKNAMES.get(token, ())))


def _nicknames_of_formal(table: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for nick, formals in table.items():
        for formal in formals:
            found.setdefault(formal, []).append(nick)
    return {formal: tuple(sorted(nicks)) for formal, nicks in found.items()}


_BY_FORMAL = _nicknames_of_formal(_NICKNAMES)


@lru_cache(maxsize=65536)
def first_name_variants(token: str) -> frozenset[str]:
    """Every way one person may write this first name: the token, the formal names it stands
    for and their other nicknames (``bob``: bob, robert, rob, bobby...; ``robert`` the same).

    Used to recognise a typo in a nickname (``jimmmy`` for James), never for blocking.
    """
    formals = (token, *_NICKNAMES.get(token, ()))
    return frozenset(formals).union(*(_BY_FORMAL.get(formal, ()) for formal in formals))


def display_name(first: str | None, last: str | None, full: str | None) -> str | None:
    """A human-readable name from whatever parts a vendor gave."""
    joined = " ".join(part.strip() for part in (first, last) if part and part.strip())
    return joined or (full.strip() if full and full.strip() else None)
