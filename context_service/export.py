"""Export every resolved profile as JSONL or CSV."""
