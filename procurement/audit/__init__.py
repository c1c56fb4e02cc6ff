"""Append-only, hash-chained audit trail: `record()` in the same transaction as the change."""
from procurement.audit.services import record, snapshot, verify_chain

__all__ = ["record", "snapshot", "verify_chain"]
