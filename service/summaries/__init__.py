"""What clinicians read and other systems import: PDF summaries, FHIR and CSV exports, client exports."""
