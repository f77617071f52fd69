"""Spreadsheet sources: CSV, XLSX and JSONL files imported as records of a named source."""
