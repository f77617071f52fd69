"""Snapshots: assemble a profile from the store, derive signals, render, materialize, look up."""
