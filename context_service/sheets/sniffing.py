"""What a file is before it is read as rows: text or binary (a workbook, an archive), which
encoding, which delimiter. Decided from the file's first bytes, and for an ASCII start from the
file's first non-ASCII character."""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import NamedTuple

from context_service.errors import ContextServiceError

_DELIMITERS = ",;\t|"
_SAMPLE_BYTES = 64 * 1024
_FIRST_BLOCK = 4096  # a text file's first block has (almost) no NUL bytes, unless UTF-16
# C0 control bytes other than NUL, tab, line breaks, form feed, ^Z and escape: never in text
_CONTROL = bytes(b for b in range(1, 32) if b not in b"\t\n\x0b\x0c\r\x1a\x1b")
# Characters never in UTF-16 text (NUL and C0 controls but tab, line breaks and form feed)
_TEXT_CONTROLS = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\x0b\x0c\r")
_UTF16_BLOCK = 8192  # how much of a BOM-less file decides whether it is UTF-16
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_SIGNATURES = {
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1": (
        "an Excel 97-2003 workbook (.xls), which cannot be read; save it as .xlsx or CSV"
    ),
    b"\x1f\x8b": "gzip-compressed; decompress it first",
    b"\x89PNG\r\n\x1a\n": "a PNG image, not a text file; export the data as CSV, XLSX or JSONL",
    b"%PDF-": "a PDF document, not a text file; export the data as CSV, XLSX or JSONL",
}


class UnreadableFile(ContextServiceError):
    """The file cannot be opened or read any further (not a row-level problem)."""

    title = "Unreadable file"


def sample_of(path: Path) -> bytes:
    """The file's first bytes, which most of what is sniffed is decided from."""
    with path.open("rb") as file:
        return file.read(_SAMPLE_BYTES)


def refuse_binary(path: Path, sample: bytes, encoding: str | None) -> None:
    """Raise ``UnreadableFile`` with the right advice when ``sample`` (the file's first bytes)
    is a workbook, an archive or other binary data rather than text: a ZIP signature (an XLSX
    workbook named ``.csv``), a known binary signature, or, when the text is not UTF-16 (by BOM,
    by its shape, or by ``encoding``), a first block of NUL bytes in a tenth or more of it or of
    other control bytes in a twentieth (random or compressed data: never text, even with the
    odd NUL of a broken export)."""
    if sample.startswith(_ZIP):
        raise UnreadableFile(_zip_advice(path))
    for signature, what in _SIGNATURES.items():
        if sample.startswith(signature):
            raise UnreadableFile(f"{path.name} is {what}")
    block = sample[:_FIRST_BLOCK]
    if _binary_block(block) and not _wide_text(sample, encoding):
        raise UnreadableFile(
            f"{path.name}: this is not a text file (its first bytes are binary data); "
            "export the data as CSV, XLSX or JSONL"
        )


def _binary_block(block: bytes) -> bool:
    controls = len(block) - len(block.translate(None, _CONTROL))
    return bool(block) and (block.count(0) * 10 >= len(block) or controls * 20 >= len(block))


def _zip_advice(path: Path) -> str:
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            workbook = "xl/workbook.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        workbook = False
    if workbook:
        return f"{path.name} is an XLSX workbook, not a text file; pass --format xlsx"
    return f"{path.name} is a ZIP archive, not a text file; extract the file to import from it"


def _wide_text(sample: bytes, encoding: str | None) -> bool:
    """Whether the text is (or is declared) UTF-16 or UTF-32, where NUL bytes are normal."""
    if encoding is not None:
        return codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    bom = sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    return bom or _utf16_without_bom(sample) is not None


def check_encoding(encoding: str) -> None:
    """Raise ``UnreadableFile`` for an encoding Python does not know."""
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise UnreadableFile(
            f"unknown encoding {encoding!r}; try utf-8, utf-8-sig, utf-16, cp1252 or latin-1"
        ) from exc


def refuse_misread_utf8(path: Path, sample: bytes, encoding: str) -> None:
    """Raise ``UnreadableFile`` when ``encoding`` (``--encoding``) is not a Unicode encoding
    but the file is UTF-8 text with non-ASCII characters: a UTF-8 BOM, or UTF-8 letters and
    not one byte that is invalid in UTF-8 in the part of the file read to decide its encoding
    (``utf8_evidence``). Read so, every accented letter would turn into two or three others
    (``Zoë`` into ``ZoÃ«``) and overwrite the names an earlier import stored right. Text in
    a legacy encoding hardly ever reads as UTF-8: its accented letters are not followed by
    the continuation bytes UTF-8 needs. A file with any such byte (a cp1252 export with a
    UTF-8 line pasted in) is read as ``encoding`` named."""
    if codecs.lookup(encoding).name.startswith(("utf", "ascii")):
        return
    if sample.startswith(codecs.BOM_UTF8):
        letter = "\ufeff"
    else:
        evidence = utf8_evidence(path, sample)
        if evidence.invalid or evidence.letter is None:
            return
        letter = evidence.letter
    misread = letter.encode("utf-8").decode(encoding, errors="replace")
    raise UnreadableFile(
        f"{path.name} is UTF-8 text, not {encoding}: read as {encoding}, its {letter!r} "
        f"would be stored as {misread!r}, over the names an earlier import stored right; "
        "import it without --encoding (a line in it that is not UTF-8 is then rejected "
        "alone, with its line number)"
    )


_BOM_READERS = {
    "utf-8": (codecs.BOM_UTF8, "utf-8-sig"),
    "utf-16-le": (codecs.BOM_UTF16_LE, "utf-16"),
    "utf-16-be": (codecs.BOM_UTF16_BE, "utf-16"),
}


def reading_bom(encoding: str, sample: bytes) -> str:
    """``encoding`` as named (``--encoding utf-8``), or the codec that also reads its byte
    order mark when the file starts with one, so the mark is not part of the first header."""
    bom, reader = _BOM_READERS.get(codecs.lookup(encoding).name, (None, encoding))
    return reader if bom is not None and sample.startswith(bom) else encoding


_CHUNK = 1 << 20


def sniff_file_encoding(path: Path, sample: bytes) -> str:
    """``sniff_encoding`` of the file's first bytes, except that a sample with too few non-ASCII
    characters to decide on (pure ASCII, where UTF-8 and cp1252 agree, or a name or two) leaves
    the choice to the characters after it (``utf8_evidence``): a legacy export whose first
    accent comes after the sample is read as cp1252 too, not refused half way through."""
    found = sniff_encoding(sample)
    if found not in ("utf-8", "cp1252") or len(sample) < _SAMPLE_BYTES:
        return found
    return utf8_evidence(path, sample).encoding


class Utf8Evidence(NamedTuple):
    """What the bytes read say about UTF-8: ``valid`` multibyte UTF-8 sequences (letters),
    ``invalid`` bytes that no UTF-8 sequence explains, and the first letter read."""

    valid: int
    invalid: int
    letter: str | None

    @property
    def encoding(self) -> str:
        """``utf-8`` unless the bytes invalid in UTF-8 outnumber its letters: a UTF-8 file
        with a line pasted from a cp1252 export stays UTF-8 (that line's row alone is
        rejected), a cp1252 export with a UTF-8 line pasted in is cp1252 (that line's letters
        garbled, as any legacy reader would). ASCII (no evidence) is UTF-8."""
        return "cp1252" if self.invalid > self.valid else "utf-8"


_ENOUGH = 32  # non-ASCII characters that decide the encoding without reading on
_SCAN_LIMIT = 8 << 20  # non-ASCII bytes read on for evidence
_ESCAPED = re.compile("[\udc80-\udcff]")
_NON_ASCII_TEXT = re.compile("[^\x00-\x7f]")


def _count(text: str, evidence: Utf8Evidence) -> Utf8Evidence:
    """``evidence`` with that of ``text`` (bytes decoded with ``surrogateescape``) added."""
    if text.isascii():
        return evidence
    invalid = len(_ESCAPED.findall(text))
    valid = len(_NON_ASCII_TEXT.findall(text)) - invalid
    letter = evidence.letter
    if letter is None and valid:
        letter = next(c for c in _NON_ASCII_TEXT.findall(text) if not _ESCAPED.match(c))
    return Utf8Evidence(evidence.valid + valid, evidence.invalid + invalid, letter)


def utf8_evidence(path: Path, sample: bytes) -> Utf8Evidence:
    """The UTF-8 evidence of the file's first bytes (``sample``) and, when they hold fewer than
    ``_ENOUGH`` non-ASCII characters, of the file after them up to that many (a stretch of
    pure ASCII costs a scan, not a decode), and no further than ``_SCAN_LIMIT`` non-ASCII
    bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    evidence = _count(decoder.decode(sample, final=False), Utf8Evidence(0, 0, None))
    if len(sample) < _SAMPLE_BYTES:
        return evidence
    read = 0
    with path.open("rb") as file:
        file.seek(len(sample))
        while evidence.valid + evidence.invalid < _ENOUGH and read < _SCAN_LIMIT:
            chunk = file.read(_CHUNK)
            if not chunk:
                break
            if chunk.isascii() and not decoder.getstate()[0]:
                continue
            read += len(chunk)
            evidence = _count(decoder.decode(chunk, final=False), evidence)
    return evidence


def sniff_encoding(sample: bytes) -> str:
    """``utf-8-sig`` / ``utf-16`` by BOM, else ``utf-8`` unless the sample holds more bytes
    that are not UTF-8 than UTF-8 letters (``Utf8Evidence.encoding``), then ``cp1252``."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(sample)
    if utf16 is not None:
        return utf16
    if sample.isascii():
        return "utf-8"
    decoded = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(sample, final=False)
    return _count(decoded, Utf8Evidence(0, 0, None)).encoding


def _utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` / ``-be`` when the first block reads as UTF-16 text without a BOM.

    The NUL bytes of UTF-16 text are the high bytes of its ASCII characters (delimiters, line
    breaks, digits), so they sit at one parity: odd offsets in little-endian, even in big-endian,
    hardly ever at the other. Text that is mostly Japanese or Greek has few of them, so the
    pattern alone is not enough; the block must also decode as UTF-16 without control
    characters and, unless it is mostly ASCII, hold a line break. Random or structured binary
    data fails one of these: its NULs fall at both parities, or it decodes to controls.
    """
    block = sample[:_UTF16_BLOCK]
    even, odd = block[0::2], block[1::2]
    if len(odd) < 2:
        return None
    for encoding, high, low in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
        nuls, stray = high.count(0), low.count(0)
        ascii_heavy = nuls * 2 > len(high) and stray * 10 < len(low)
        lopsided = nuls >= 2 and nuls * 64 >= len(high) and stray * 8 <= nuls
        if (ascii_heavy or lopsided) and _reads_as_utf16_text(block, encoding, ascii_heavy):
            return encoding
    return None


def _reads_as_utf16_text(block: bytes, encoding: str, ascii_heavy: bool) -> bool:
    """Whether ``block`` decodes as ``encoding`` to text: no control characters (other than
    tab, line breaks and form feed) and, unless mostly ASCII, at least one line break."""
    try:
        text = codecs.getincrementaldecoder(encoding)().decode(block, final=False)
    except UnicodeDecodeError:
        return False
    if len(text) != len(text.translate(_TEXT_CONTROLS)):
        return False
    return ascii_heavy or "\n" in text or "\r" in text


def sniff_delimiter(first_line: str) -> str:
    """The candidate delimiter (``, ; TAB |``) seen most often in the header line, outside
    quoted names (``"Nachname, Vorname";E-Mail`` is separated by semicolons)."""
    unquoted = "".join(first_line.split('"')[0::2])
    counts = {d: unquoted.count(d) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def first_line_of(sample: bytes, encoding: str) -> str:
    """The first non-blank line of the sample, decoded, with the lines after it that a quoted
    name with a line break in it (``"E-Mail<newline>Adresse";Name``) runs on to."""
    text = sample.decode(encoding, errors="ignore")
    record: list[str] = []
    quotes = 0
    for line in text.splitlines(keepends=True):
        if record or line.strip():
            record.append(line)
            quotes += line.count('"')
            if quotes % 2 == 0:
                break
    return "".join(record).rstrip("\r\n")


def separator_directive(first_line: str) -> str | None:
    """The delimiter named by Excel's ``sep=;`` first line (written so that Excel opens the file
    with that delimiter whatever the locale), or None when the line is not one."""
    line = first_line.strip("\r\n")
    if len(line) == 5 and line[:4].lower() == "sep=" and line[4] not in '"\r\n':
        return line[4]
    return None
