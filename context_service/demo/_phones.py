"""Fictional phone numbers, one per person, written the many ways people and systems write them.

Numbers come from ranges reserved for fiction: North American ``NPA-555-01xx`` (then
``NPA-555-2xxx``... once those run out), Ofcom's drama ranges in the UK (``020 7946 0xxx`` first),
ACMA's in Australia and the Bundesnetzagentur's in Germany. A person's number is picked by a
dense per-country slot, so two people never get the same number by accident: a shared number in
the demo data is always on purpose (a household landline, a persona).
"""

from __future__ import annotations

from typing import NamedTuple

from context_service.demo._util import words as _words


class Phone(NamedTuple):
    """A phone number as country calling code plus national digit groups."""

    country_code: str
    groups: tuple[str, ...]


# Area codes the personas use (415, 617, 305, 206) are left out so nobody else gets them.
_US_NPAS = _words(
    """
    201 202 203 205 207 208 209 210 212 213 214 215 216 217 218 219 224 225 228 229 231 234
    239 240 248 251 252 253 254 256 260 262 267 269 270 272 276 281 301 302 303 304 307 308
    309 310 312 313 314 315 316 317 318 319 320 321 323 325 330 331 334 336 337 339 347 351
    352 360 361 385 386 401 402 404 405 406 407 408 409 410 412 413 414 417 419 423 424 425
    430 432 434 435 440 442 443 458 469 470 475 478 479 480 484 501 502 503 504 505 507 508
    509 510 512 513 515 516 517 518 520 530 540 541 551 559 561 562 563 567 570 571 573 574
    575 580 585 586 601 602 603 605 606 607 608 609 610 612 614 615 616 618 619 620 623 626
    628 630 631 636 641 646 650 651 657 660 661 662 669 678 681 682 701 702 703 704 706 707
    708 712 713 714 715 716 717 718 719 720 724 725 727 731 732 734 737 740 747 754 757 760
    762 763 765 769 770 772 773 774 775 779 781 785 786 801 802 803 804 805 806 808 810 812
    813 814 815 816 817 818 828 830 831 832 843 845 847 848 850 856 857 858 859 860 862 863
    864 865 870 872 878 901 903 904 906 907 908 909 910 912 913 914 915 916 917 918 919 920
    925 928 929 931 936 937 940 941 947 949 951 952 954 956 959 970 971 972 973 978 979 980
    """
)
_CA_NPAS = ("416", "647", "437", "604", "778", "514", "438", "403", "587", "613", "902", "780")
# (national groups before the last one, fixed start of the last group + 3 free digits)
_GB_BLOCKS = (
    (("20", "7946"), "0"), (("161", "496"), "0"), (("113", "496"), "0"), (("117", "496"), "0"),
    (("121", "496"), "0"), (("131", "496"), "0"), (("141", "496"), "0"), (("151", "496"), "0"),
    (("114", "496"), "0"), (("115", "496"), "0"), (("116", "496"), "0"), (("118", "496"), "0"),
    (("191", "498"), "0"), (("29", "2018"), "0"), (("28", "9649"), "6"), (("7700",), "900"),
)  # fmt: skip
_AU_BLOCKS = (("2", "5550"), ("3", "5550"), ("7", "5550"), ("8", "5550"), ("2", "7010"))
_DE_BLOCKS = (("30", "23125"), ("69", "90009"), ("40", "66969"), ("221", "4710"), ("89", "99998"))


def _nanp(npas: tuple[str, ...], slot: int) -> Phone | None:
    """Slot -> (area code, line) one to one; neighbouring slots get unrelated numbers."""
    count = len(npas)
    if slot < 100 * count:
        lap, line = divmod(slot, 100)
        line = line * 37 % 100
        return Phone("1", (npas[(lap + line * 7) % count], "555", f"01{line:02d}"))
    lap, npa = divmod(slot - 100 * count, count)
    return Phone("1", (npas[npa], "555", f"{2000 + lap * 7919 % 8000}")) if lap < 8000 else None


def _blocks(cc: str, blocks: tuple[tuple[str, ...], ...], width: int, slot: int) -> Phone | None:
    size = 10**width
    block, rest = divmod(slot, size)
    if block >= len(blocks):
        return None
    return Phone(cc, (*blocks[block], f"{rest * 7919 % size:0{width}d}"))


def _gb(slot: int) -> Phone | None:
    block, rest = divmod(slot, 1000)
    if block >= len(_GB_BLOCKS):
        return None
    groups, start = _GB_BLOCKS[block]
    return Phone("44", (*groups, f"{start}{rest * 7919 % 1000:03d}"))


def fictional_phone(country: str, slot: int) -> Phone | None:
    """The ``slot``-th fictional number of ``country``; ``None`` once the ranges run out."""
    if country == "US":
        return _nanp(_US_NPAS, slot)
    if country == "CA":
        return _nanp(_CA_NPAS, slot)
    if country == "GB":
        return _gb(slot)
    if country == "AU":
        return _blocks("61", _AU_BLOCKS, 4, slot)
    return _blocks("49", _DE_BLOCKS, 3, slot)


STYLES = ("e164", "intl", "national", "dotted", "dashed")


def render(phone: Phone, style: str) -> str:
    """Write ``phone`` in one of ``STYLES``.

    North America: ``+12125550199``, ``+1 212-555-0199``, ``(212) 555-0199``, ``212.555.0199``,
    ``212-555-0199``. Elsewhere: ``+442079460123``, ``+44 20 7946 0123``, ``020 7946 0123``
    (dotted and dashed fall back to those two).
    """
    cc, groups = phone
    if style == "e164":
        return f"+{cc}{''.join(groups)}"
    if cc == "1":
        area, exchange, line = groups
        if style == "intl":
            return f"+1 {area}-{exchange}-{line}"
        if style == "national":
            return f"({area}) {exchange}-{line}"
        sep = "." if style == "dotted" else "-"
        return f"{area}{sep}{exchange}{sep}{line}"
    if style in ("intl", "dotted"):
        return f"+{cc} {' '.join(groups)}"
    return "0" + " ".join(groups)
