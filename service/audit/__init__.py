"""Append-only audit log: rows written in the same transaction as the change they record, sealed
later into an HMAC chain by one sealer, with signed checkpoints kept outside the table."""

from service.audit.chain import SealReport, seal
from service.audit.checkpoints import checkpoint_if_due, write_checkpoint
from service.audit.log import current_request_id, record, record_reads
from service.audit.verify import ChainCheck, verify_chain

__all__ = [
    "ChainCheck",
    "SealReport",
    "checkpoint_if_due",
    "current_request_id",
    "record",
    "record_reads",
    "seal",
    "verify_chain",
    "write_checkpoint",
]
