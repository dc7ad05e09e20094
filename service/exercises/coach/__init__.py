"""The exercise coach: an automated guide through an exercise a therapist assigned.

It never diagnoses, never advises on medication, never claims to be a person and stays on the
exercise. The scripted engine is the default; the LLM engine only rephrases acknowledgements, behind
output guardrails, and falls back to the scripted reply whenever anything goes wrong. Client
messages must be risk-screened by the caller before any engine sees them.
"""

from __future__ import annotations

from service.exercises.coach.engine import CoachContext, CoachEngine, CoachReply
from service.exercises.coach.guardrails import GuardrailVerdict, check_output
from service.exercises.coach.llm import LLMCoach, LLMSettings
from service.exercises.coach.scripted import ScriptedCoach, ScriptedTurn
from service.exercises.coach.traps import ThinkingTrap, detect_traps


def build_engine(llm: LLMSettings | None = None) -> CoachEngine:
    """The LLM engine when it is configured, the scripted engine otherwise."""
    return LLMCoach(llm) if llm is not None else ScriptedCoach()


__all__ = [
    "CoachContext",
    "CoachEngine",
    "CoachReply",
    "GuardrailVerdict",
    "LLMCoach",
    "LLMSettings",
    "ScriptedCoach",
    "ScriptedTurn",
    "ThinkingTrap",
    "build_engine",
    "check_output",
    "detect_traps",
]
