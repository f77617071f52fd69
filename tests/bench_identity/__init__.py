"""Tests of the labeled identity benchmark (bench/identity)."""
