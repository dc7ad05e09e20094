from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, text
from sqlmodel import Field, SQLModel

from service.models.base import EncryptedText, UTCDateTime, new_id, utcnow


class PatientSummary(SQLModel, table=True):
    """A PDF summary made ahead of a session (or by a batch), kept encrypted until a clinician opens it.

    The PDF holds the client's scores, flagged topics and notes: it is health data, so its bytes are
    stored base64-encoded inside an encrypted column bound to this table and column.
    """

    __tablename__ = "patient_summary"
    __table_args__ = (
        # One scheduled summary per appointment, even if two scheduler ticks overlap.
        Index(
            "uq_patient_summary_appointment",
            "patient_id",
            "appointment_at",
            unique=True,
            sqlite_where=text("appointment_at IS NOT NULL"),
            postgresql_where=text("appointment_at IS NOT NULL"),
        ),
        Index("ix_patient_summary_patient_created", "patient_id", "created_at"),
    )

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    clinic_id: str = Field(foreign_key="clinic.id", index=True, max_length=36)
    patient_id: str = Field(foreign_key="patient.id", max_length=36)
    # The clinician it was made for (the patient's clinician at the time), who is told it is ready.
    clinician_id: str = Field(foreign_key="staff.id", max_length=36)
    reason: str = Field(max_length=16)  # "appointment" (scheduled) or "batch" (tandem summaries generate)
    # The session it prepares; None for a batch summary.
    appointment_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    period_start: date
    period_end: date
    locale: str = Field(max_length=8)
    pdf: str = Field(sa_column=Column(EncryptedText("patient_summary.pdf", per_patient=True), nullable=False))
    pdf_sha256: str = Field(max_length=64)
    pdf_size: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
