"""Sync by export bundles: clock, record model, merge plan, manifest and byte codec (no I/O here)."""
