"""What staff read and do across capabilities: the caseload, the patient record and the overview.

Read models that join onboarding, check-ins, questionnaires, exercises and alerts live here, above
the capabilities, so that no capability imports another one's views.
"""

from service.caseload.record import PatientRecord, StoredSummary, patient_record
from service.caseload.service import (
    CaseloadEntry,
    InvitationState,
    InvitationStatus,
    IssuedInvitation,
    assignable_clinician,
    assignable_clinicians,
    caseload,
    change_clinician,
    enrol_patient,
    invitation_states,
    invitation_to_show,
    patient_for_staff,
    resend_invitation,
    revoke_invitation,
    set_next_appointment,
)

__all__ = [
    "CaseloadEntry",
    "InvitationState",
    "InvitationStatus",
    "IssuedInvitation",
    "PatientRecord",
    "StoredSummary",
    "assignable_clinician",
    "assignable_clinicians",
    "caseload",
    "change_clinician",
    "enrol_patient",
    "invitation_states",
    "invitation_to_show",
    "patient_for_staff",
    "patient_record",
    "resend_invitation",
    "revoke_invitation",
    "set_next_appointment",
]
