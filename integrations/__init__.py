"""Vendor integrations: one package per source, each mapping vendor payloads to canonical records.

Every package imports only ``context_service.models``, ``context_service.errors`` and the shared
``integrations._*`` helpers; vendor packages never import each other.
"""
