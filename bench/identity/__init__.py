"""A labeled multi-source identity benchmark: generator, metrics and runner.

``generate`` yields vendor-shaped customer records (Shopify, Stripe, HubSpot, Zendesk) with a
truth label per record; ``run`` imports them through the service's ingest path and prints
pairwise and cluster precision/recall/F1, throughput and peak RSS; ``metrics`` holds the pure
scoring functions.
"""
