"""Identity resolution: pure normalization and matching, and their application to the store."""
