"""One error hierarchy: every error class of ours descends from VoicehookError, in an errors.py.

The packages are the ones mypy checks (pyproject.toml's `[tool.mypy] packages`, minus the
tests), so a package added there is held to the same rules without editing this file.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import pkgutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import dramatiq
import dramatiq.broker
import pytest
from dramatiq.brokers.stub import StubBroker

from config.errors import VoicehookError

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = tuple(
    name
    for name in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["packages"]
    if name != "tests"
)
# pydantic turns a ValueError raised in a validator into a validation error: its protocol.
VALIDATORS = frozenset({"field_validator", "model_validator", "validator", "root_validator"})
BUILTIN_ERRORS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def module_names() -> Iterator[str]:
    for package in PACKAGES:
        yield package
        path = importlib.import_module(package).__path__
        for module in pkgutil.walk_packages(path, prefix=f"{package}."):
            if not module.name.endswith(".__main__"):  # runs the CLI when imported
                yield module.name


@pytest.fixture(scope="module")
def modules() -> Iterator[list[ModuleType]]:
    """Every module of our packages, imported with a stub broker for the actors to bind to."""
    previous = dramatiq.broker.global_broker
    dramatiq.set_broker(StubBroker())
    try:
        yield [importlib.import_module(name) for name in module_names()]
    finally:
        dramatiq.broker.global_broker = previous


@pytest.fixture(scope="module")
def error_classes(modules: list[ModuleType]) -> list[type[BaseException]]:
    """Every exception class defined (not merely imported) in one of our modules."""
    return [
        value
        for module in modules
        for value in vars(module).values()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__
    ]


def named(classes: list[type[BaseException]]) -> list[str]:
    return [f"{cls.__module__}.{cls.__qualname__}" for cls in classes]


def source_files() -> Iterator[Path]:
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def is_validator(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in VALIDATORS:
            return True
    return False


def builtin_raises(tree: ast.AST, in_validator: bool = False) -> Iterator[tuple[int, str]]:
    """(line, class name) of each builtin exception raised outside a pydantic validator."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from builtin_raises(node, in_validator or is_validator(node))
            continue
        if isinstance(node, ast.Raise) and node.exc is not None and not in_validator:
            raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(raised, ast.Name) and raised.id in BUILTIN_ERRORS:
                yield node.lineno, raised.id
        yield from builtin_raises(node, in_validator)


class TestErrorHierarchy:
    def test_the_packages_are_found(self, modules: list[ModuleType]) -> None:
        """The walk sees every package's errors module, so the other checks check something."""
        names = {module.__name__ for module in modules}
        assert {"config.errors", "records.errors", "processors.errors"} <= names
        assert len(names) > 50

    def test_every_error_class_descends_from_voicehook_error(
        self, error_classes: list[type[BaseException]]
    ) -> None:
        """An exception class defined anywhere in our packages is a VoicehookError."""
        assert len(error_classes) > 40
        assert named([c for c in error_classes if not issubclass(c, VoicehookError)]) == []

    def test_every_error_class_lives_in_an_errors_module(
        self, error_classes: list[type[BaseException]]
    ) -> None:
        """Each package declares its errors in its own errors.py, not beside the code raising it."""
        assert (
            named([c for c in error_classes if c.__module__.rpartition(".")[2] != "errors"]) == []
        )

    def test_every_error_class_says_when_it_is_raised(
        self, error_classes: list[type[BaseException]]
    ) -> None:
        """Each class has its own one-line docstring beginning "Raised when"."""
        documented = [
            c for c in error_classes if (vars(c).get("__doc__") or "").startswith("Raised when")
        ]
        assert named([c for c in error_classes if c not in documented]) == []

    def test_errors_modules_import_nothing_internal_but_the_root(self) -> None:
        """An errors module imports only config.errors of ours, so every module may import it."""
        offending = []
        for path in source_files():
            if path.name != "errors.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                for name in names:
                    if name.partition(".")[0] in PACKAGES and name != "config.errors":
                        offending.append(f"{path.relative_to(ROOT)}: {name}")
        assert offending == []

    def test_deliberate_errors_raise_our_classes(self) -> None:
        """No builtin exception is raised on purpose, except pydantic's ValueError protocol."""
        raised = [
            f"{path.relative_to(ROOT)}:{line}: {name}"
            for path in source_files()
            for line, name in builtin_raises(ast.parse(path.read_text()))
        ]
        assert raised == []
