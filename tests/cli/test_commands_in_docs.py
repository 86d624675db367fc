"""What the README and docs/ show to type names real things: every `claims SUB` is a command of
the CLI's table, every `python -m MODULE` a module of the project, every `make TARGET` a target of
the Makefile (a renamed command or a moved benchmark fails here, as a broken link fails
tests/test_docs.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from cli.main import command_names
from tests.helpers.markdown import inline_code, shell_lines

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CLAIMS_COMMAND = re.compile(r"(?:^|\$\(|[;&|]\s*|\.venv/bin/)claims ([a-z][a-z-]*)")
# inline code also quotes output (`claims paid and closed: 120/200`): there a command is one
# followed by nothing, an option, a placeholder or an argument, not by another plain word
INLINE_CLAIMS_COMMAND = re.compile(r"^claims ([a-z][a-z-]*)(?=$|\s+[-\[<A-Z0-9…'\"{(/.|])")
PYTHON_MODULE = re.compile(r"python -m ([A-Za-z_][\w.]*\w)")
MAKE_TARGET = re.compile(r"(?:^|[;&|]\s*)make ([a-z][a-z-]*)")
NOT_OURS = {"pytest", "pip", "venv"}


def unknown_commands(pages: Iterable[Path], root: Path, commands: set[str], targets: set[str]) -> list[str]:
    found = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for code, claims_command in [(c, CLAIMS_COMMAND) for c in shell_lines(text)] + [
            (c, INLINE_CLAIMS_COMMAND) for c in inline_code(text)
        ]:
            where = f"{page.relative_to(root)}: {code[:60]}"
            found += [f"{where}: no command {c}" for c in claims_command.findall(code) if c not in commands]
            found += [f"{where}: no target {t}" for t in MAKE_TARGET.findall(code) if t not in targets]
            for module in PYTHON_MODULE.findall(code):
                path = root / Path(*module.split("."))
                if module.split(".")[0] not in NOT_OURS and not (path.with_suffix(".py").exists() or path.is_dir()):
                    found.append(f"{where}: no module {module}")
    return found


def make_targets(root: Path) -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (root / "Makefile").read_text(), re.MULTILINE))


def test_every_command_a_page_shows_exists() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert unknown_commands(pages, ROOT, set(command_names()), make_targets(ROOT)) == []


def test_the_check_finds_a_wrong_command_module_and_target(tmp_path: Path) -> None:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "capacity.py").write_text("")
    page = tmp_path / "README.md"
    page.write_text(
        "Run `claims shwo R1` or `python -m bench.capacity`.\n```sh\nTOKEN=$(claims tokn --subject A)\n"
        "python -m bench.gone\nmake tset\nmake test\n```\n```\nclaims attempts payments (output)\n```\n"
        "The claims in prose are not code, nor `claims paid and closed: 1/2` (output).\n"
    )
    assert sorted(unknown_commands([page], tmp_path, {"show", "token"}, {"test"})) == [
        "README.md: TOKEN=$(claims tokn --subject A): no command tokn",
        "README.md: claims shwo R1: no command shwo",
        "README.md: make tset: no target tset",
        "README.md: python -m bench.gone: no module bench.gone",
    ]
