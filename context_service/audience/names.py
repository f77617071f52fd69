"""The customer's own names in free text, for a view that hides ``identity.names``.

Hiding ``identity.names`` hides the customer's name itself: the identity line says "Customer
(name hidden)", and no free text may say it either (a deal titled "Maya Patel - Team plan
upgrade", a ticket comment "Thanks Maya, ..."). ``names_as_viewed`` replaces, in such a view,
each of the profile's own names with ``NAME_HIDDEN_IN_TEXT``: every name its records give
(``identity.names``, the chosen ``identity.name`` and the names sources disagree on), whole,
and each given name and surname in it as a whole word, case-insensitively, accents as written
(``Zoë`` is not ``Zoe``). A name written with its parts spread over spaces or a line break is
still the whole name.

Some names are also ordinary words, and replacing them everywhere would mangle the text (a
customer called May Will: "you may need to", "we will"). So a part of a name is replaced
alone only by this rule:

- one letter (an initial): never alone, only as part of the whole name;
- a short English function word (``An``, ``In``, ``So``, ``The``, ``Do``...; the capitalised
  form opens sentences): never alone, only as part of the whole name;
- two letters (``Li``, ``Wu``, ``Jo``) or a common English word (``May``, ``Will``, ``Bill``,
  ``Grace``, ``Mark``, ``Brown``, ``King``...): only where it is written capitalised
  (``Thanks Will`` and ``WILL`` go, ``we will`` stays; a capitalised ``May`` opening a
  sentence goes too: hiding errs on the side of the customer's privacy);
- any other part: every occurrence, in any case.

The customer's email addresses are left whole (``maya.patel@example.com`` is the contact the
view shows, or its masked form): a name is never replaced inside one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator

from context_service.audience.policy import View
from context_service.models import Snapshot

NAME_HIDDEN_IN_TEXT = "[name hidden]"

# What is never rewritten: an email address (as ``snapshot.redaction`` finds them) and the
# marker itself (so that text passed here twice is left as it is). An address starts where a
# run of its characters starts: tried inside a run too, a long one cost quadratic time.
_LOCAL = r"[\w.!#$%&'*+/=?^`{|}~-]"
_EMAIL = rf"(?<!{_LOCAL}){_LOCAL}+@[\w-]+(?:\.[\w-]+)+"
_MARKER = re.escape(NAME_HIDDEN_IN_TEXT)
# Scripts written without spaces between words: Han, Hiragana, Katakana, Hangul.
_UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
# A word of a name: letters, joined by an apostrophe or a hyphen (``O'Brien``, ``Mary-Jane``).
_APOSTROPHES = "'\u2019"  # typed straight or curly
_WORD = re.compile(rf"[^\W\d_]+(?:[{_APOSTROPHES}-][^\W\d_]+)*")
_JOINERS = re.compile(f"[{_APOSTROPHES}-]")
_APOSTROPHE = f"[{_APOSTROPHES}]"

# Short English words that open sentences capitalised: a name part that is one of them is
# replaced only as part of the whole name.
_FUNCTION_WORDS = frozenset(
    """
    a i am an as at be by do go he hi if in is it me my no of oh ok on or so to up us we ye yo
    and are but can did for had has her him his its let not now our out she the too was who
    why yes yet you
    """.split()
)
# Common English words that are also given names or surnames: replaced only capitalised.
_COMMON_WORDS = frozenset(
    """
    may will bill mark grace hope rose joy faith frank art jack dawn rich sandy chase hunter
    summer april june august autumn winter ray pat sue don rob bob bud penny holly ivy lily
    daisy iris olive pearl violet ruby amber jade sky skye river stone wood woods brown white
    black green gray grey young long king page price baker cook miller hall hill bell rice love
    best guy drew gene norm sunny lane field fields park parks west north south east case cross
    rush early little short strong sharp swift wise small lord knight bishop mason carter cole
    gold silver steel banks marsh moss nash rock star storm snow frost rain gale dale glen hart
    buck fox wolf crane swan finch robin jay wren lark bird bush reed ford major noble sterling
    victor honey candy cherry ginger sage basil forest wade chance christian constance prudence
    patience charity mercy harmony melody destiny trinity miles pierce lance grant rex max
    """.split()
)


def names_as_viewed(snap: Snapshot, view: View) -> Callable[[str], str] | None:
    """A function that replaces the customer's own names in free text, for a view that hides
    ``identity.names``; ``None`` when the view shows names (or the profile has none)."""
    if view.shows("identity.names"):
        return None
    names = tuple(sorted(set(own_names(snap))))
    plain, with_emails = _pattern(names, emails=False), _pattern(names, emails=True)
    if plain is None or with_emails is None:
        return None

    def hide(text: str) -> str:
        if not text:
            return text
        # Only text with an ``@`` can hold an address to keep whole (``_EMAIL``).
        return (with_emails if "@" in text else plain).sub(_replace, text)

    return hide


def own_names(snap: Snapshot) -> Iterator[str]:
    """The names the profile's records give the customer (none already replaced)."""
    found: Iterable[str | None] = (
        snap.identity.name,
        *snap.identity.names,
        *(c.chosen for c in snap.conflicts if c.field == "name"),
        *(v.value for c in snap.conflicts if c.field == "name" for v in c.values),
    )
    for name in found:
        if name and name.strip() and NAME_HIDDEN_IN_TEXT not in name:
            yield name


def _replace(match: re.Match[str]) -> str:
    return match.group() if match.group("keep") else NAME_HIDDEN_IN_TEXT


@functools.lru_cache(maxsize=512)
def _pattern(names: tuple[str, ...], *, emails: bool) -> re.Pattern[str] | None:
    """One pattern for ``names``: the whole names, then the parts the rule allows, longest
    first (so that a whole name is replaced once, not part by part), after the marker and,
    with ``emails``, email addresses, which are kept whole. Names are whole words, except in
    scripts written without spaces between words (Chinese, Japanese, Korean: "您好张伟"),
    where a name of two characters or more is found anywhere, its parts in either order (张伟
    given as "伟 张")."""
    alternatives: dict[str, int] = {}
    unspaced: dict[str, int] = {}
    for name in names:
        chunks = name.split()
        if chunks and all(_UNSPACED.search(chunk) for chunk in chunks):
            for order in {tuple(chunks), tuple(reversed(chunks))}:
                joined = "".join(order)
                if len(joined) > 1:
                    unspaced[r"\s*".join(re.escape(chunk) for chunk in order)] = len(joined)
            continue
        if len(chunks) > 1:  # a one-word name is a part, replaced as the rule says
            whole = r"\s+".join(_written(chunk) for chunk in chunks)
            alternatives[f"(?i:{whole})"] = len(name)
        for part in _parts(name):
            shown = _part_pattern(part)
            if shown is not None:
                alternatives.setdefault(shown, len(part))
    if not alternatives and not unspaced:
        return None
    found = [f"(?P<keep>{_EMAIL}|{_MARKER})" if emails else f"(?P<keep>{_MARKER})"]
    if alternatives:
        ordered = sorted(alternatives, key=lambda alt: -alternatives[alt])
        found.append(rf"(?<!\w)(?:{'|'.join(ordered)})(?!\w)")
    if unspaced:
        found.append("|".join(sorted(unspaced, key=lambda alt: -unspaced[alt])))
    return re.compile("|".join(found))


def _parts(name: str) -> Iterator[str]:
    """Each word of ``name`` and, for a joined one, each of its pieces (``O'Brien-Smith``: also
    ``O'Brien``, ``Smith``, ``O`` and ``Brien``)."""
    for word in _WORD.findall(name):
        yield word
        if "-" in word:
            yield from word.split("-")
        if len(pieces := _JOINERS.split(word)) > 1:
            yield from pieces


def _part_pattern(part: str) -> str | None:
    """The pattern of one part of a name as the rule replaces it alone, or ``None``."""
    folded = part.casefold()
    if len(part) == 1 or folded in _FUNCTION_WORDS:
        return None
    if len(part) == 2 or folded in _COMMON_WORDS:
        first, rest = part[0], part[1:]
        return f"{re.escape(first.upper())}(?i:{_written(rest)})"
    return f"(?i:{_written(part)})"


def _written(text: str) -> str:
    """``text`` as a pattern, any apostrophe matching either way it is typed."""
    return _APOSTROPHE.join(re.escape(piece) for piece in re.split(_APOSTROPHE, text))
