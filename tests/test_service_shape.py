"""Every capability's use cases have one shape: `session` first, every other argument by keyword.

`def submit(session: Session, *, patient: Patient, data: CheckinIn)` (the style guide: keyword-only
arguments after the session). A call then reads the same in every face and test
(`alerts_review.detail(session, staff=staff, alert_id=alert_id)`), and an argument cannot slip into
another's place when a signature changes.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import service

SERVICE = Path(service.__file__).parent
# Capabilities whose every module holds use cases (not only service.py and review.py).
WHOLE_PACKAGES = ("caseload", "alerts", "onboarding", "security")


def _modules() -> list[str]:
    names = {
        f"service.{path.parent.name}.{path.stem}"
        for pattern in ("*/service.py", "*/review.py")
        for path in SERVICE.glob(pattern)
    }
    for package in WHOLE_PACKAGES:
        found = pkgutil.walk_packages([str(SERVICE / package)], f"service.{package}.")
        names.update(info.name for info in found)
    return sorted(names)


def _use_cases(module_name: str) -> dict[str, inspect.Signature]:
    module = importlib.import_module(module_name)
    return {
        name: inspect.signature(function)
        for name, function in vars(module).items()
        if inspect.isfunction(function)
        and function.__module__ == module_name
        and not name.startswith("_")
        and "session" in inspect.signature(function).parameters
    }


def _shape_errors(name: str, signature: inspect.Signature) -> list[str]:
    params = list(signature.parameters.values())
    errors = []
    if params[0].name != "session":
        errors.append(f"{name}: session is parameter {[p.name for p in params].index('session') + 1}, not the first")
    by_position = [p.name for p in params[1:] if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    if by_position:
        errors.append(f"{name}: {', '.join(by_position)} can be passed by position (put `*` after session)")
    return errors


MODULES = _modules()


def test_the_shape_is_checked_in_every_capability() -> None:
    packages = {name.split(".")[1] for name in MODULES}
    for capability in ("checkins", "measures", "exercises", "safety_plan", "summaries", "audit", "reminders"):
        assert capability in packages
    assert set(WHOLE_PACKAGES) <= packages
    assert sum(len(_use_cases(name)) for name in MODULES) > 80


@pytest.mark.parametrize("module_name", MODULES)
def test_use_cases_take_session_first_and_the_rest_by_keyword(module_name: str) -> None:
    errors = [error for name, sig in _use_cases(module_name).items() for error in _shape_errors(name, sig)]
    assert not errors, f"{module_name}:\n" + "\n".join(errors)


def test_the_check_catches_an_argument_passed_by_position() -> None:
    def by_position(session: object, staff: object, *, alert_id: str) -> None: ...

    def session_second(staff: object, session: object) -> None: ...

    def right(session: object, *, staff: object, alert_id: str) -> None: ...

    assert _shape_errors("by_position", inspect.signature(by_position)) == [
        "by_position: staff can be passed by position (put `*` after session)"
    ]
    assert len(_shape_errors("session_second", inspect.signature(session_second))) == 2
    assert _shape_errors("right", inspect.signature(right)) == []
