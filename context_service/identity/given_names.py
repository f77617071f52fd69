"""Given names, told from typos: two different common given names are two people's names,
however few letters apart (``michael``/``michelle``), unless one is a nickname of the other or
both spell one name (``sara``/``sarah``). A token not listed (``micheal``) may be a typo."""

from __future__ import annotations

from functools import lru_cache

from context_service.identity.normalize import (
    NICKNAME_TABLE_NAMES,
    canonical_first,
    first_name_forms,
)

# Given names common enough to be told from a typo: two different ones (``michael`` and
# ``michelle``, ``paul`` and ``paula``, ``jim`` and ``tim``) are two people's names, however
# few letters apart, unless one is a nickname of the other or both spell one name
# (``_SPELLINGS``). A token not listed (``micheal``, ``jonh``) may still be a typo of one. The
# nickname table's names are given names too.
_GIVEN_NAME_TEXT = """
aarav aaron abena abigail adaeze adam aditya adrian adriana agnes agnieszka aiden aiko aisha
alan albert alberto alejandro alessandro alex alexa alexander alexandra alexei alexis alfie
alfred alice alicia alison allan allen allison alyssa ama amanda amara amber amelia amelie
amira amy ana anais ananya anastasia andrea andres andrew angel angela angelo anh anita anja
anjali ann anna anne annette annie anthony antonia antonio aoife april archie arjun arlo arthur
arun asa ashley audrey austin ava ayse bao barbara barry beatrice beatriz begona ben benjamin
benoit bernadette bernard beth betty beverly bill billy bjorn blake bob bobby bonnie brad
bradley brandon brenda brett brian brianna bridget brittany brooke bruce bryan burak cagla
caleb cameron camila camille caoimhe carl carla carlos carmen carol caroline carolyn carrie
catarina catherine cathy cecilia celine chad charles charlie charlotte chelsea chen cheryl
chiara chidi chinedu chloe chris christian christina christine christopher ciaran claire clara
claudia clement colin conceicao connie connor craig crystal cynthia daiki dale dan dana daniel
daniela danielle danny darren dave david dawn dean debbie deborah debra deepika denise dennis
derek diana diane divya diya dmitri dolores dominic don donald donna doris dorothy douglas
duarte dylan earl eddie edith edward efua eileen elaine elena eli elif elijah elisa elise eliza
elizabeth ella ellen ellie elodie emeka emi emily emma emre eoin eric erica erika erin esther
ethan etienne eugene eva evan evelyn faith fang fatima federica felix finn fiona folake frances
francesca francis franco francois frank fred frederick freya gabriel gabriela gabriella
gabrielle gael gail gary gavin gemma george georgia georgina gerald geraldine gina giulia
giuseppe glenn gloria gokhan goncalo gordon grace graham greg gregory greta hailey hana hannah
hao harold harriet harry haruto hazel heather helen helena helene henrietta henry hina hiroshi
holly howard hugh hugo hui huong ian ines irene irina isaac isabel isabella isabelle ishaan
isla ivan jack jackie jackson jacob jacqueline jade jake james jamie jan jana jane janet janice
jared jasmine jason jean jeanne jeannette jeff jeffrey jenna jennifer jenny jeremy jerome jerry
jesse jessica jessie jesus jill jim jimmy jing jo joan joana joanna joanne joao joaquin joe
joel john johnny jon jonas jonathan jordan jorg jose josef joseph josephine josh joshua joy
joyce juan juanita jude judith judy julia julian juliana julie juliet jun june jurgen justin
justine kamau karen karim karl katarzyna kate katherine kathleen kathryn kathy katie katrin
kavya kayla keith kelly ken kenji kenneth kevin khanh kim kimberly kiran kirsten kofi kristen
kristin kwame kyle lakshmi lance larry laura lauren laurence lawrence layla lea leah lee lena
leo leon leonard leonor lerato leslie lewis li liam lily lin linda lindsay lindsey linh lisa
logan loic lois lorenzo lori lorraine louis louisa louise lucas lucia lucy luis lukas lukasz
luke lydia lynn madison mael maelle malgorzata mandy marc marcia marco marcus margaret margaux
maria marian mariana marie marilyn mario marion mark marsha martha martin martina marvin mary
mason matt matteo matthew maureen max maxine meera megan mehmet mei melanie melissa mia michael
michaela michal michele michelle miguel mike mikhail mildred ming minh miranda mitchell molly
monica morgan moritz nadia nancy naoko naomi natalie natasha nathan nathaniel neha neil ngozi
nguyet niamh niccolo nicholas nick nicola nicolas nicole nikhil njeri noah noemie nora norma
norman oguz oisin olga oliver olivia oluwaseun omar oscar owen padraig pamela patricia patrick
paul paula pauline pawel peggy penny peter philip phillip phyllis piotr pooja poppy priya qiang
quang rachel rahul rajesh ralph ramon randy raphael ray raymond rebecca regina ren renee rhonda
richard rick rita rob robert roberta robin rod rodney roger rohan roisin ronald rory rose
rosemary ross roy ruben ruby rui russell ruth ryan sakura sally salma sam samantha samir samuel
sandra sanjay sara sarah scott sean sebastian selin sergei seth shane shannon sharon shawn
sheila shirley shreya simon simone siobhan sipho sofia sophia sophie sora soren stacy stanley
stella stephanie stephen steve steven stuart sunita susan suzanne sylvia takeshi tamara tammy
tanya tara tariq ted tendai teresa terry thabo thao theo theodore theresa thomas tiago tiffany
tim timothy tina todd tom tomas tomasz tommy tony tracy travis trevor troy tuan tyler valentina
valerie vanessa varun vera veronica vicky victor victoria vikram vincent virginia vivian walter
wanda wanjiru warren wayne wei wendy wesley william willie wojciech xiaoling ximena yan yaw
yelena yolanda youssef yuki yun yusuf yuto yvonne zachary zainab zanele zeynep zhen zoe zofia
alessandra fernanda fernando francesco giovanna giovanni giulio jaylen jayden joelle jordyn
kaylee ivana mohammed paola paolo pavel pavla petr petra roberto stefan stefanie pierre luc
claude thelma
"""
# Spellings of one name (said alike, or one name's forms in two languages), and nicknames
# the table above lacks: each group is one name, so its members may be one person's.
_SPELLING_TEXT = """
alan allan allen; alison allison alyson; amelia amelie; ana anna; ann anne; beatrice beatriz;
brian bryan; caroline carolyn; catherine katherine kathryn katharine cathryn katrin;
cathy kathy kathleen; cat kat; kate katie katy; liz liza; christina kristina;
christine kristine; chris kris;
daniela daniella; deborah debra debora; deb debbie debra; eric erik; erica erika;
gabriela gabriella gabrielle; helen helene; elena yelena; isabel isabelle; izzy isabelle;
jeffrey geoffrey; joseph josef; joanna joana; kirsten kristen kristin;
lawrence laurence; larry laurence; lea leah; lindsay lindsey; louis luis; lucas lukas lukasz;
marc mark; matthew mathew matteo; megan meghan; michael michal; michelle michele;
nicholas nicolas nikolas; philip phillip; rebecca rebekah; sara sarah; sophia sofia zofia;
teresa theresa; thomas tomasz; hana hanna hannah; jacob jakob; carl karl; zoe zoey;
ian iain; sean shaun shawn; jon jonathan; steven stephen stefan; peter petr piotr;
paul paolo pavel pawel; paula paola pavla; robert roberto; stephanie stefanie;
alexandra alessandra; mohammed muhammad mohamed muhammed mohammad mohamad mohd;
peter pierre pietro pedro; luke luc luca lucas; yahya yahyo; musa muso; juha juho;
nicola nicolo; charles carlos carlo;
kate kati; emma emmy; rose rosy; luke luka; trish trisha; juliet julieta; margaret margareta;
isabel isabela; tom toma; kat kata; leonor leonora; javier xavier; jimena ximena;
anna anny; ella elly; lena leni; sara sari
"""


_GIVEN_NAMES = frozenset(_GIVEN_NAME_TEXT.split()) | NICKNAME_TABLE_NAMES


def _spellings(text: str) -> dict[str, frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for number, entry in enumerate(text.split(";")):
        for name in entry.split():
            groups.setdefault(name, set()).add(number)
    return {name: frozenset(numbers) for name, numbers in groups.items()}


_SPELLINGS = _spellings(_SPELLING_TEXT)


def is_given_name(token: str) -> bool:
    """Whether a folded name token is a common given name (``michelle``, ``jim``), so not a
    typo of another one."""
    return token in _GIVEN_NAMES


@lru_cache(maxsize=65536)
def other_given_names(x: str, y: str) -> bool:
    """Whether two first-name tokens are two different given names, so two people's however
    close their letters (``michael``/``michelle``, ``daniel``/``danielle``, ``jim``/``tim``):
    both common given names, neither a nickname of the other (``bob``/``robert``), not two
    nicknames of one name (``mike``/``mick``) nor two spellings of one (``sara``/``sarah``,
    ``catherine``/``katherine``). A typo (``micheal``) is no given name. The male and female
    forms of one name (``francesco``/``francesca``, ``jean``/``jeanne``) are two names, and so
    are a male ``-o`` and a female ``-a`` of one stem listed or not (``carlo``/``carla``), a
    listed name and its ``-a`` form (``leon``/``leona``, ``justin``/``justina``), and two names
    that differ in their first letter only (``josie``/``rosie``, ``molly``/``polly``), unless
    listed as one name's spellings (``yahya``/``yahyo``, ``marc``/``mark``). So are two
    four-letter names, one listed, a last vowel apart (``lily``/``lila``, ``rosa``/``rose``):
    a wrong letter in a short name often makes another name."""
    if x == y:
        return False
    listed = is_given_name(x) and is_given_name(y)
    if not (listed or _male_and_female(x, y) or _other_first_letter(x, y) or _other_end(x, y)):
        return False
    return not one_name(x, y)


def one_name(x: str, y: str) -> bool:
    """Whether two given-name tokens are one name: the same, a nickname of the other
    (``bob``/``robert``), or two spellings of one (``mohammed``/``muhammad``,
    ``peter``/``petr``)."""
    if x == y or first_name_forms(x) & first_name_forms(y):
        return True
    forms_x = {x, canonical_first(x)}
    forms_y = {y, canonical_first(y)}
    return any(
        _SPELLINGS.get(p, frozenset()) & _SPELLINGS.get(q, frozenset())
        for p in forms_x
        for q in forms_y
    )


def _male_and_female(x: str, y: str) -> bool:
    """Whether two names are one stem of three letters or more with a male ``-o`` and a female
    ``-a`` (``carlo``/``carla``, ``bruno``/``bruna``), or a listed given name and the same
    with a female ``-a`` added (``leon``/``leona``, ``christian``/``christiana``): a brother
    and sister, twins. A keyboard slip swaps, drops or doubles a letter inside a word; it does
    not turn the last ``o`` into an ``a``, nor add an ``a`` at the end."""
    if len(x) == len(y) >= 4:
        return x[:-1] == y[:-1] and {x[-1], y[-1]} == {"o", "a"} and x[:-1].isalpha()
    shorter, longer = (x, y) if len(x) < len(y) else (y, x)
    # Not a name that ends in "a" already: Sara/Saraa is a key held down, not a new name.
    return (
        len(shorter) >= 3
        and shorter[-1] != "a"
        and longer == shorter + "a"
        and is_given_name(shorter)
    )


_VOWELS_AND_Y = frozenset("aeiouy")


def _other_end(x: str, y: str) -> bool:
    """Whether two four-letter names, one of them listed, differ in their last vowel only
    (``lily``/``lila``, ``ella``/``elle``, ``rosa``/``rose``): Jaro-Winkler reads them 0.88
    alike, a typo's level, though the names are often sisters'. A wrong key (``john``/``johm``)
    is a slip, and ``-i``/``-y`` one name's two spellings (``jodi``/``jody``, ``toni``/``tony``)."""
    ends = {x[-1], y[-1]}
    return (
        len(x) == len(y) == 4
        and x[:-1] == y[:-1]
        and len(ends) == 2
        and ends <= _VOWELS_AND_Y
        and ends != {"i", "y"}
        and not _neighbours(x[-1], y[-1])
        and (is_given_name(x) or is_given_name(y))
    )


# First letters that spell one sound in some language or transliteration, so two names that
# differ only there may be one name: Karen/Caren, Sofia/Zofia, Yvonne/Ivonne, Yana/Jana,
# Wiktor/Viktor, Gillian/Jillian, Celina/Selina, Xavier/Zavier, Javier/Xavier, Qasim/Kasim,
# and any two vowels (Ibrahim/Ebrahim, Osman/Usman: one Arabic or Persian name written two
# ways). Neighbouring keys (``_neighbours``) are a slip, whatever the letters.
_SOUND_ALIKE_FIRST_LETTERS = frozenset(
    frozenset(pair) for pair in ("ck", "sz", "iy", "jy", "vw", "gj", "cs", "xz", "jx", "kq")
) | frozenset(frozenset((a, b)) for a in "aeiou" for b in "aeiou" if a != b)


def _other_first_letter(x: str, y: str) -> bool:
    """Whether two names of five letters or more differ in their first letter only
    (``josie``/``rosie``, ``molly``/``polly``, ``kelly``/``nelly``): names that rhyme, as
    siblings' often do, not a slip of one (a keyboard slip keeps the first letter far more
    often than it changes it), unless the two letters may spell one sound (``karen``/``caren``)."""
    return (
        len(x) == len(y) >= 5
        and x[1:] == y[1:]
        and x[0] != y[0]
        and x[0].isalpha()
        and y[0].isalpha()
        and frozenset((x[0], y[0])) not in _SOUND_ALIKE_FIRST_LETTERS
        and not _neighbours(x[0], y[0])
    )


_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}


def _neighbours(a: str, b: str) -> bool:
    """Whether two letters are neighbouring keys on a QWERTY keyboard (a slip, not a name)."""
    if a not in _KEY or b not in _KEY:
        return False
    (ra, ia), (rb, ib) = sorted((_KEY[a], _KEY[b]))
    return (ra == rb and abs(ia - ib) == 1) or (rb == ra + 1 and ib in (ia - 1, ia))
