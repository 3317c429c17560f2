"""The docs a user's clone ships: links stay inside the repository and the pictures match the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from platform_streams.topics import TOPICS

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", ROOT / "native" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_links_resolve_inside_the_repository(document: Path) -> None:
    broken = []
    for target in _LINK.findall(document.read_text()):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        path = (document.parent / target.split("#", 1)[0]).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(target)
    assert not broken, f"{document.name} links outside the repository or to nothing: {broken}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_paths_a_clone_does_not_have(document: Path) -> None:
    text = document.read_text()
    outside = [p for p in ("../shared", "shared/data", "notes/dagster.md", "notes/embedded-broker.md") if p in text]
    outside += [m.group(0) for m in re.finditer(r"(?<![\w/])data/exchanges/", text)]  # tests/data/exchanges/ is ours
    assert not outside, f"{document.name} points at paths a user's clone does not have: {outside}"


def test_the_architecture_lists_every_topic() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    missing = [spec.name for spec in TOPICS if f"`{spec.name}`" not in text]
    assert not missing, f"docs/architecture.md does not describe {missing}"


def test_readme_counts_of_topics_are_the_registry_s() -> None:
    for count in re.findall(r"(\d+) registered", (ROOT / "README.md").read_text()):
        assert int(count) == len(TOPICS)
