"""Sections of a patient's page contributed by other capabilities (check-ins, measures, alerts...).

A capability registers a panel: a template under ``templates/panels/`` and a loader that builds
the template's values from the patient's record (``caseload.patient_record``, read once for the
whole page, in one transaction), or None when the panel has nothing to show for this patient. The patient
page renders the registered panels in order, below the profile; with none registered it shows
nothing (no empty placeholders).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from service.caseload import PatientRecord

PanelLoader = Callable[[PatientRecord], dict[str, Any] | None]


@dataclass(frozen=True)
class PatientPanel:
    key: str  # also the HTML id of the section, so the page can link to it
    template: str  # e.g. "panels/checkins.html"; it receives ``panel`` (the loader's values)
    load: PanelLoader
    order: int = 100
    # An English msgid naming the section in the page's list of sections; none: not listed there.
    title: str = ""


@dataclass(frozen=True)
class LoadedPanel:
    key: str
    template: str
    values: dict[str, Any]
    title: str = ""


PATIENT_PANELS: list[PatientPanel] = []


def register_patient_panel(panel: PatientPanel) -> None:
    if any(existing.key == panel.key for existing in PATIENT_PANELS):
        raise ValueError(f"a patient panel {panel.key!r} is already registered")
    PATIENT_PANELS.append(panel)
    PATIENT_PANELS.sort(key=lambda p: (p.order, p.key))


def load_patient_panels(record: PatientRecord) -> list[LoadedPanel]:
    loaded = []
    for panel in PATIENT_PANELS:
        values = panel.load(record)
        if values is not None:
            loaded.append(LoadedPanel(panel.key, panel.template, values, panel.title))
    return loaded
