"""Append-only, hash-chained audit log, written in the same transaction as the change it records."""

from service.audit.log import ChainCheck, record, record_reads, verify_chain

__all__ = ["ChainCheck", "record", "record_reads", "verify_chain"]
