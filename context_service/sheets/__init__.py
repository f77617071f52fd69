"""Spreadsheet sources: CSV, XLSX and JSONL files imported as records of a named source.

``import_file`` reads a file row by row (``readers``), maps its columns to canonical fields
(``columns``, ``fields``), turns each row into a person record and optional activities
(``mapping``) and ingests them through the normal map -> store -> resolve -> snapshot path.
"""

from context_service.models import BUILTIN_SOURCES
from context_service.sheets.columns import (
    ColumnMapping,
    ColumnMappingError,
    load_mapping_file,
    parse_map_options,
)
from context_service.sheets.conversion import RowRejection, RowWarning
from context_service.sheets.fields import FIELDS, PERSON_KIND
from context_service.sheets.importer import (
    ImportReport,
    import_file,
    sheet_context,
)
from context_service.sheets.mapping import (
    WithSheetSources,
    check_source_name,
    map_sheet_record,
)
from context_service.sheets.readers import FORMATS, open_sheet
from context_service.sheets.sniffing import UnreadableFile

__all__ = [
    "BUILTIN_SOURCES",
    "FIELDS",
    "FORMATS",
    "PERSON_KIND",
    "ColumnMapping",
    "ColumnMappingError",
    "ImportReport",
    "RowRejection",
    "RowWarning",
    "UnreadableFile",
    "WithSheetSources",
    "check_source_name",
    "import_file",
    "load_mapping_file",
    "map_sheet_record",
    "open_sheet",
    "parse_map_options",
    "sheet_context",
]
