"""Deterministic, vendor-shaped demo data: Shopify, Stripe, HubSpot and Zendesk payloads.

``generate_demo(customers, seed, now)`` streams ``DemoPayload(source, kind, payload)`` items
whose ``payload`` looks exactly like what the vendor API returns, for five named personas (see
``personas``) plus ``customers`` synthetic people who are as messy as real stores: different
email case and phone formats per source, people known by two emails, households sharing a
landline, shared mailboxes, placeholder junk records, names with and without accents.

This package imports only ``context_service.models``/``errors`` and the standard library; the
caller runs the payloads through the integrations' mappers.
"""

from context_service.demo.generate import DEFAULT_NOW, DemoPayload, generate_demo

__all__ = ["DEFAULT_NOW", "DemoPayload", "generate_demo"]
