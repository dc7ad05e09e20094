"""service/risk is pure: no database, web or network module, and no other service package."""

import ast
import subprocess
import sys
from pathlib import Path

import service.risk

PACKAGE = Path(service.risk.__file__).parent
FORBIDDEN = {
    "sqlalchemy", "sqlmodel", "fastapi", "starlette", "httpx", "socket", "urllib", "psycopg", "alembic",
    "requests", "aiohttp", "http",
}  # fmt: skip


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


# Training (`tandem risk train`) fits the model with scikit-learn; screening never imports it.
TRAINING_ONLY = {"training.py": {"sklearn", "numpy", "scipy"}}
# Beside the standard library: an in-memory string matcher (C, no I/O) for the rules' literals, and
# array arithmetic (C, no I/O) for the learned model's n-grams, looked up and weighed all at once.
IN_MEMORY_ONLY = {"patterns.py": {"ahocorasick"}, "features.py": {"numpy"}, "model.py": {"numpy"}}


def test_risk_modules_import_only_the_standard_library_errors_and_themselves():
    for path in PACKAGE.glob("*.py"):
        for module in imported_modules(path):
            root = module.split(".")[0]
            assert root not in FORBIDDEN, (path.name, module)
            if root == "service":
                assert module == "service.errors" or module.startswith("service.risk"), (path.name, module)
            else:
                allowed = TRAINING_ONLY.get(path.name, set()) | IN_MEMORY_ONLY.get(path.name, set())
                assert root in sys.stdlib_module_names or root == "__future__" or root in allowed, (path.name, module)


SCREEN_FREE = {"sklearn", "scipy"}  # screening reads the model's weights, never fits one


def test_importing_risk_loads_no_forbidden_module():
    # Compared with what the interpreter had already loaded at start-up (site hooks load urllib).
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import service.risk, service.risk.evaluation, service.risk.crisis\n"
        "service.risk.screen_text('I bought a rope', 'en')\n"
        f"watched = {sorted(FORBIDDEN | SCREEN_FREE)!r}\n"
        "bad = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in watched)\n"
        "print(','.join(bad))"
    )
    root = PACKAGE.parent.parent
    output = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert output.stdout.strip() == ""
