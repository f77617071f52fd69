"""The currencies an LLM answer can name an amount in, for the grounding check (``prompts``).

An amount is a number beside a currency symbol (``$98``, ``C$98``, ``€49``), an ISO 4217 code
(``USD 98``, ``USD98``, ``98USD``, ``75 KWD``) or a currency word (``98 dollars``, ``98
bucks``, ``98 pounds``, ``98 quid``). A code is read in upper case only, as a word of its own
or glued to the number, so that a word or a product code (``SKU 12``, ``ID 1234``, ``LMP300``)
is no amount; the common codes (``usd``, ``eur``...) are read in any case when a space
separates them from the number, as before. Codes that are also English words or names (``ALL``,
``TOP``, ``PEN``, ``AMD``...) are amounts only after their number (``98 PEN``, ``98PEN``): ``TOP
10`` and ``ALL 3 orders`` are no refunds; and only where the data names that currency anywhere
(``1500 PHP``, with or without cents), the answer names it beyond doubt, or the number has cents
(``98.00 PEN``): ``2 PEN 3 refills`` and a ``12CUP coffee maker`` are no amounts either. A
currency word before ``coin`` names a coin (``a 10 franc coin``), ``pounds of`` a weight, as
does ``30 pounds`` where the data says ``30 lb``, unless a money word stands beside it (``We
refunded 30 pounds``, ``30 pounds of credit``, ``a 30 pound coin refund``); ``rand`` is money
only where the data or the answer names the rand otherwise (``prompts._readings``).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

# ISO 4217 codes in use (and a few just withdrawn that data may still carry), without the
# ``XXX`` (no currency) and ``XTS`` (testing) codes; ``RMB`` and ``NTD`` are the everyday
# names of CNY and TWD.
ISO_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BYR BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK
    DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR
    ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL
    LYD MAD MDL MGA MKD MMK MNT MOP MRO MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE
    SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI
    UYU UYW UZS VED VEF VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF
    XPT XSU XUA YER ZAR ZMW ZWG ZWL RMB NTD
    """.split()
)
# Codes that are also words, names or brands in capitals (``TOP 10``, ``ALL 3 orders``, ``PHP
# 8``, ``AMD 7950X``, ``CVE 2024``): amounts only after their number.
WORD_LIKE_CODES = frozenset("ALL AMD BAM BOB CUP CVE GEL MAD MOP PEN PHP SOS SVC TOP".split())
# The common codes, read in any case beside a space (``98.00 usd``); none of them a word
# (``try 3 times`` is no amount in TRY).
COMMON_CODES = (
    "USD EUR GBP JPY CAD AUD NZD CHF CNY HKD SGD INR SEK NOK DKK PLN CZK HUF MXN BRL ZAR AED ILS"
    " KRW THB IDR MYR RUB UAH ARS CLP COP"
).split()

_DOLLARS = frozenset(
    {"USD", "CAD", "AUD", "NZD", "HKD", "SGD", "TWD", "MXN", "ARS", "CLP", "COP", "DOP"}
)
_POUNDS = frozenset({"GBP", "EGP", "LBP", "SYP", "SDG", "SSP", "FKP", "GIP", "SHP"})
_PESOS = frozenset({"MXN", "ARS", "CLP", "COP", "PHP", "UYU", "DOP", "CUP"})
_FRANCS = frozenset({"CHF", "XOF", "XAF", "XPF", "CDF", "GNF", "RWF", "BIF", "DJF", "KMF"})
_DINARS = frozenset({"KWD", "BHD", "JOD", "IQD", "LYD", "TND", "DZD", "RSD", "MKD"})
_RIYALS = frozenset({"SAR", "QAR", "OMR", "IRR", "YER"})
_KRONER = frozenset({"SEK", "NOK", "DKK", "ISK"})

# A currency's word, singular and plural, and the currencies it can stand for; a word after a
# number only (``98 bucks``), never before one (``dollars 3 times``).
_WORDS: dict[tuple[str, ...], frozenset[str]] = {
    ("dollar", "dollars", "buck", "bucks"): _DOLLARS,
    ("us dollar", "us dollars"): frozenset({"USD"}),
    ("canadian dollar", "canadian dollars"): frozenset({"CAD"}),
    ("australian dollar", "australian dollars"): frozenset({"AUD"}),
    ("euro", "euros"): frozenset({"EUR"}),
    ("pound", "pounds"): _POUNDS,
    ("pound sterling", "pounds sterling", "quid"): frozenset({"GBP"}),
    ("yen",): frozenset({"JPY"}),
    ("yuan", "renminbi"): frozenset({"CNY", "RMB"}),
    ("rupee", "rupees"): frozenset({"INR", "PKR", "LKR", "NPR", "MUR", "SCR"}),
    ("peso", "pesos"): _PESOS,
    ("franc", "francs"): _FRANCS,
    ("krona", "kronor", "krone", "kroner"): _KRONER,
    ("rand",): frozenset({"ZAR"}),
    ("reais",): frozenset({"BRL"}),
    ("ruble", "rubles", "rouble", "roubles"): frozenset({"RUB", "BYN"}),
    ("lira", "liras", "lire"): frozenset({"TRY"}),
    ("zloty", "zlotys", "złoty", "złotys"): frozenset({"PLN"}),
    ("shekel", "shekels"): frozenset({"ILS"}),
    ("dirham", "dirhams"): frozenset({"AED", "MAD"}),
    ("riyal", "riyals", "rial", "rials"): _RIYALS,
    ("dinar", "dinars"): _DINARS,
    ("ringgit",): frozenset({"MYR"}),
    ("baht",): frozenset({"THB"}),
    ("cent", "cents"): _DOLLARS | {"EUR"},
    ("penny", "pence"): frozenset({"GBP"}),
}
WORDS: dict[str, frozenset[str]] = {
    word.upper(): named for words, named in _WORDS.items() for word in words
}
# Words that name a hundredth of the currency: ``98 cents`` is 0.98.
HUNDREDTHS = frozenset({"CENT", "CENTS", "PENNY", "PENCE"})
# Words that are also a weight: ``30 pounds of dog food``, or the data's ``30 lb``, is no money.
WEIGHT_WORDS = frozenset({"POUND", "POUNDS"})
# Words that are money only where the data or the answer names their currency otherwise (``3
# rand`` in a store that sells in rand): an English word or a name as often.
CONTEXT_WORDS = frozenset({"RAND"})

# The currencies a symbol can stand for: a bare ``$`` is any dollar (or peso), ``C$`` Canada's.
SYMBOLS: dict[str, frozenset[str]] = {
    "$": _DOLLARS,
    "US$": frozenset({"USD"}),
    "C$": frozenset({"CAD"}),
    "CA$": frozenset({"CAD"}),
    "A$": frozenset({"AUD"}),
    "AU$": frozenset({"AUD"}),
    "NZ$": frozenset({"NZD"}),
    "HK$": frozenset({"HKD"}),
    "S$": frozenset({"SGD"}),
    "SG$": frozenset({"SGD"}),
    "MX$": frozenset({"MXN"}),
    "NT$": frozenset({"TWD", "NTD"}),
    "RD$": frozenset({"DOP"}),
    "R$": frozenset({"BRL"}),
    "€": frozenset({"EUR"}),
    "£": frozenset({"GBP"}),
    "¥": frozenset({"JPY", "CNY", "RMB"}),
    "₹": frozenset({"INR"}),
    "₩": frozenset({"KRW"}),
    "₽": frozenset({"RUB"}),
    "₺": frozenset({"TRY"}),
    "₪": frozenset({"ILS"}),
    "₱": frozenset({"PHP"}),
    "₫": frozenset({"VND"}),
    "₴": frozenset({"UAH"}),
    "₦": frozenset({"NGN"}),
    "฿": frozenset({"THB"}),
    "₡": frozenset({"CRC"}),
    "₸": frozenset({"KZT"}),
    "₲": frozenset({"PYG"}),
    "₵": frozenset({"GHS"}),
    "₼": frozenset({"AZN"}),
    "₾": frozenset({"GEL"}),
    "₭": frozenset({"LAK"}),
    "₮": frozenset({"MNT"}),
    "৳": frozenset({"BDT"}),
    # Symbols written in letters (``zł``, ``kr``, ``Rs.``): read in their own case only, as a
    # word of their own (``LETTER_SYMBOL``), so that ``30 ft`` or ``Mrs`` is no amount.
    "ZŁ": frozenset({"PLN"}),
    "KR": _KRONER,
    "KR.": _KRONER,
    "KČ": frozenset({"CZK"}),
    "RS": frozenset({"INR", "PKR", "LKR", "NPR", "MUR", "SCR"}),
    "RS.": frozenset({"INR", "PKR", "LKR", "NPR", "MUR", "SCR"}),
    "FT": frozenset({"HUF"}),
    "LEI": frozenset({"RON", "MDL"}),
    "RMB": frozenset({"CNY", "RMB"}),
    "CNY": frozenset({"CNY", "RMB"}),
    "NTD": frozenset({"TWD", "NTD"}),
    "TWD": frozenset({"TWD", "NTD"}),
}


# The symbol characters (``₪``) and the symbols in letters, in the case they are written in.
SYMBOL_CHARACTERS = "€£¥₹₩₽₺₪₱₫₴₦฿₡₸₲₵₼₾₭₮৳"
LETTER_SYMBOL = r"(?-i:(?<![A-Za-z])(?:zł|Zł|kr\.?|Kr\.?|Kč|Rs\.?|Ft|lei)(?![A-Za-z]))"


def currencies(token: str) -> frozenset[str]:
    """What a currency symbol, ISO code or word stands for (``usd`` is USD, ``$`` any dollar,
    ``bucks`` any dollar, ``quid`` GBP)."""
    upper = " ".join(token.upper().split())
    return SYMBOLS.get(upper) or WORDS.get(upper) or frozenset({upper})


def scaled(value: Decimal, token: str) -> Decimal:
    """``value`` in whole units of its currency: ``98 cents`` is 0.98."""
    return value / 100 if " ".join(token.upper().split()) in HUNDREDTHS else value


def _alternatives(names: Iterable[str]) -> str:
    """A regex alternation of ``names``, longest first (``pounds sterling`` before ``pounds``)."""
    return "|".join(sorted(names, key=lambda n: (-len(n), n))).replace(" ", r"\s+")


# A code as a word of its own, in capitals: before a number (``KWD 75``, ``USD98``) or after it
# with a space (``75 KWD``); word-like codes only after.
CODE_BEFORE = rf"(?-i:(?<![A-Za-z0-9])(?:{_alternatives(ISO_CODES - WORD_LIKE_CODES)})(?![A-Za-z]))"
CODE_AFTER = rf"(?-i:(?<![A-Za-z0-9])(?:{_alternatives(ISO_CODES)})(?![A-Za-z0-9]))"
# A code glued after its number (``98USD``): the number may not follow a letter (a product
# code, an id), nor the code run on into one.
CODE_GLUED = rf"(?-i:(?:{_alternatives(ISO_CODES)})(?![A-Za-z0-9]))"
COMMON_CODE = rf"\b(?:{_alternatives(COMMON_CODES)})\b"
WORD = rf"(?<![A-Za-z])(?:{_alternatives(WORDS)})(?![A-Za-z])"

# An amount written in words (``ninety-eight dollars``, ``a hundred euros``): read as its value.
_UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    " fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORDS = {word: n for n, word in enumerate(_UNITS)} | {
    word: 20 + 10 * n for n, word in enumerate(_TENS)
}
NUMBER_WORD = _alternatives([*_NUMBER_WORDS, *_SCALES])


def spelled_value(words: str) -> Decimal | None:
    """The value of a number written in words (``ninety-eight``, ``two hundred and five``,
    ``hundred``), or ``None`` when they are no number."""
    total = current = 0
    seen = False
    for word in words.lower().replace("-", " ").split():
        if word == "and":
            continue
        if word in _NUMBER_WORDS:
            current += _NUMBER_WORDS[word]
        elif word in _SCALES:
            scale = _SCALES[word]
            if scale == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * scale
                current = 0
        else:
            return None
        seen = True
    return Decimal(total + current) if seen else None
