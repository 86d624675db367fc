"""Reading the project's Markdown pages as a reader runs them: their fenced blocks with their
language, and what they show as commands (shell blocks and inline code)."""

from __future__ import annotations

import re

INLINE_CODE = re.compile(r"`[^`\n]*`")


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """The page's fenced blocks in order, as (language, text); an unclosed fence fails."""
    blocks: list[tuple[str, str]] = []
    language: str | None = None
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("```") and language is None:
            language, lines = line[3:].strip(), []
        elif line.startswith("```"):
            blocks.append((language or "", "\n".join(lines) + "\n"))
            language = None
        elif language is not None:
            lines.append(line)
    assert language is None, "a fence is not closed"
    return blocks


def shell_lines(text: str) -> list[str]:
    """Each line of the page's `sh` blocks (output and file excerpts in other blocks left out)."""
    return [line.strip() for language, block in fenced_blocks(text) if language == "sh" for line in block.splitlines()]


def inline_code(text: str) -> list[str]:
    """Each inline code span outside the fenced blocks."""
    out: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            out += [span.strip("`").strip() for span in INLINE_CODE.findall(line)]
    return out
