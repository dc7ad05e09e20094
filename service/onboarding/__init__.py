"""Clinics, staff, patients, invitations, consent and client account activation."""
