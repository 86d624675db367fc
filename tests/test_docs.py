"""The documentation holds on a plain clone: every relative link (and `#anchor`) in README.md and
docs/*.md resolves, and docs/rules.md states every rule the code and the tests cite, each checked
by a test (issue 23).

The rules check, for each rule ID (`R-…`, `OPEN-…`; a range such as `R-C-2..5` cites each one):
- cited by the code or a test, but without its `### <ID>:` section in docs/rules.md: fails;
- in docs/rules.md but cited by no test module (`tests/**/test_*.py`): fails (write the test);
- a test module its `- Tests:` line lists that is missing or does not cite the rule: fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from workflows.search_attributes import operator_commands

ROOT = Path(__file__).resolve().parents[1]
RULES_PAGE = ROOT / "docs" / "rules.md"
THIS = Path(__file__).resolve()

# ---------------------------------------------------------------------------------------------
# links

_FENCE = re.compile(r"^(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _prose_lines(text: str) -> Iterable[str]:
    """The lines outside fenced code blocks."""
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            yield line


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: markup dropped, lower case, punctuation but `-` and `_`
    removed, spaces to dashes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading's anchor in a Markdown page; a repeated heading gets -1, -2, … as on GitHub."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in _prose_lines(text):
        m = _HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        found.add(base if n == 0 else f"{base}-{n}")
    return found


def links(text: str) -> list[str]:
    """The link targets of a Markdown page's prose (not in code)."""
    out = []
    for line in _prose_lines(text):
        out += _LINK.findall(_INLINE_CODE.sub("", line))
    return out


def broken_links(pages: Iterable[Path], root: Path) -> list[str]:
    """Every relative link of `pages` whose file, or `#anchor` in a Markdown file, is not there."""
    broken = []
    for page in pages:
        for target in links(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: …
                continue
            path_part, _, anchor = target.partition("#")
            dest = (page.parent / path_part).resolve() if path_part else page
            where = f"{page.relative_to(root)}: {target}"
            if not dest.exists():
                broken.append(f"{where}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text(encoding="utf-8")):
                broken.append(f"{where}: no heading with that anchor in {dest.relative_to(root)}")
    return broken


def doc_pages(root: Path = ROOT) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def test_every_relative_link_in_readme_and_docs_resolves() -> None:
    pages = doc_pages()
    assert len(pages) > 1
    assert broken_links(pages, ROOT) == []


def test_the_link_check_finds_a_missing_page_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text(
        "# Top\n\n## The report's answer\n\n[ok](docs/a.md#the-b-page) [self](#the-reports-answer) [web](https://x.org/y)\n"
        "[gone](docs/nope.md) [bad anchor](docs/a.md#nowhere) `[in code](docs/nope2.md)`\n"
        "```\n[in a fence](docs/nope3.md)\n```\n",
        encoding="utf-8",
    )
    (tmp_path / "docs" / "a.md").write_text("# The `b` page\n\n[back](../README.md#top)\n", encoding="utf-8")
    assert broken_links(doc_pages(tmp_path), tmp_path) == [
        "README.md: docs/nope.md: no such file",
        "README.md: docs/a.md#nowhere: no heading with that anchor in docs/a.md",
    ]


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("The report's answer", "the-reports-answer"),
        ("2026-11-25/26 (issue 6)", "2026-11-2526-issue-6"),
        ("The `temporal` CLI", "the-temporal-cli"),
        ("R-EL-1.2: The first claim of the policy period", "r-el-12-the-first-claim-of-the-policy-period"),
        ("Reading claims in the UI: the codec server", "reading-claims-in-the-ui-the-codec-server"),
    ],
)
def test_anchors_are_githubs(heading: str, anchor: str) -> None:
    assert slug(heading) == anchor


# ---------------------------------------------------------------------------------------------
# rules

_RULE = re.compile(r"\b(R-[A-Z]+-\d+(?:\.\d+)?|OPEN-\d+)(?:\.\.(?:R-[A-Z]+-)?(\d+))?")
_SECTION = re.compile(r"^### (R-[A-Z]+-\d+(?:\.\d+)?|OPEN-\d+): ", re.MULTILINE)
_SKIP = {".venv", ".git", "data", "node_modules", "histories", "artifacts"}
_CODE_SUFFIXES = {".py", ".html", ".j2", ".jinja", ".toml", ".sh"}


def rule_ids(text: str) -> set[str]:
    """The rule IDs a text cites; `R-C-2..5` (or `R-D-2..R-D-5`) cites R-C-2, R-C-3, R-C-4, R-C-5."""
    found = set()
    for m in _RULE.finditer(text):
        first, last = m.group(1), m.group(2)
        found.add(first)
        head, _, number = first.rpartition("-")
        if last and number.isdigit():
            found |= {f"{head}-{k}" for k in range(int(number) + 1, int(last) + 1)}
    return found


def _files(root: Path) -> Iterable[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if path.is_file() and path.suffix in _CODE_SUFFIXES and not _SKIP & set(rel) and path.resolve() != THIS:
            yield path


def citations(root: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Rule ID → the files that cite it: (code and tests, test modules only)."""
    anywhere: dict[str, set[str]] = {}
    tests: dict[str, set[str]] = {}
    for path in _files(root):
        rel = path.relative_to(root).as_posix()
        for rule in rule_ids(path.read_text(encoding="utf-8")):
            anywhere.setdefault(rule, set()).add(rel)
            if rel.startswith("tests/") and path.name.startswith("test_") and path.suffix == ".py":
                tests.setdefault(rule, set()).add(rel)
    return anywhere, tests


def rules_page(text: str) -> dict[str, list[str]]:
    """docs/rules.md's rules, each with the test modules its `- Tests:` line lists."""
    sections = _SECTION.split(text)
    page: dict[str, list[str]] = {}
    for rule, body in zip(sections[1::2], sections[2::2], strict=True):
        listed = re.search(r"^- Tests: (.*)$", body, re.MULTILINE)
        page[rule] = re.findall(r"`([^`]+)`", listed.group(1)) if listed else []
    return page


def rule_problems(root: Path, page_text: str) -> list[str]:
    anywhere, tests = citations(root)
    page = rules_page(page_text)
    problems = [
        f"{rule}: cited by {', '.join(sorted(anywhere[rule]))} but not in docs/rules.md"
        for rule in sorted(set(anywhere) - set(page))
    ]
    for rule, listed in page.items():
        if rule not in tests:
            problems.append(f"{rule}: in docs/rules.md but cited by no test: write one that fails if the rule breaks")
        if not listed:
            problems.append(f"{rule}: docs/rules.md lists no test for it")
        for path in listed:
            if not (root / path).is_file():
                problems.append(
                    f"{rule}: docs/rules.md lists {path}, which does not exist (moved? its tests: {sorted(tests.get(rule, ()))})"
                )
            elif path not in tests.get(rule, set()):
                problems.append(f"{rule}: docs/rules.md lists {path}, which does not cite it")
    return problems


def test_docs_rules_states_every_cited_rule_and_each_is_tested() -> None:
    text = RULES_PAGE.read_text(encoding="utf-8")
    assert len(rules_page(text)) >= 40  # every rule of the programme, one section each
    assert rule_problems(ROOT, text) == []


def test_the_rules_check_finds_an_unlisted_an_untested_and_a_wrongly_listed_rule(tmp_path: Path) -> None:
    a, b, c = ("R-Q-" + n for n in "123")  # built here, so this module cites no rule itself
    d = "OPEN" + "-9"
    (tmp_path / "domain").mkdir()
    (tmp_path / "tests" / "domain").mkdir(parents=True)
    (tmp_path / "domain" / "rules.py").write_text(f"LIMIT = 3000  # {a}, {b}\n")
    (tmp_path / "tests" / "domain" / "test_limit.py").write_text(f'def test_limit():\n    """{a}..3"""\n')
    (tmp_path / "tests" / "domain" / "helpers.py").write_text(f"# {c}\n")
    page = f"### {a}: one\n\n- Tests: `tests/domain/test_limit.py`\n\n### {d}: two\n\n- Tests: `tests/domain/test_limit.py`\n"
    assert rule_problems(tmp_path, page) == [
        f"{b}: cited by domain/rules.py, tests/domain/test_limit.py but not in docs/rules.md",
        f"{c}: cited by tests/domain/helpers.py, tests/domain/test_limit.py but not in docs/rules.md",
        f"{d}: in docs/rules.md but cited by no test: write one that fails if the rule breaks",
        f"{d}: docs/rules.md lists tests/domain/test_limit.py, which does not cite it",
    ]


def test_the_search_attribute_commands_on_the_deployment_page_are_the_ones_the_cli_prints() -> None:
    """docs/deployment.md lists the commands `claims search-attributes` prints; an attribute added
    to workflows/search_attributes.py without the page fails here."""
    page = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    section = page[page.index("## Search attributes on a cluster") :]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    assert block.splitlines() == operator_commands()
