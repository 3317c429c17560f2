"""The venue-adapter contract as structure: one registry, the same files in every venue package, stages
that name no venue, and imports that only go one way between exchanges, books and ingestion."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from platform_streams.exchanges.instruments import InstrumentRegistry
from platform_streams.exchanges.registry import FORMATS, VENUES, frame_format, venue
from platform_streams.exchanges.venue_adapter import UnknownVenue

PACKAGE = Path(__file__).resolve().parents[2] / "platform_streams"
VENUE_FILES = {
    "__init__.py",
    "adapter.py",
    "book_sync.py",
    "endpoints.py",
    "feed.py",
    "instruments.py",
    "messages.py",
    "parser.py",
}


def imported_modules(path: Path) -> set[str]:
    """Every ``platform_streams`` module a source file imports (at any depth of the file)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("platform_streams"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("platform_streams")}
    return found


def package_imports(package: str) -> set[str]:
    return {module for path in (PACKAGE / package).rglob("*.py") for module in imported_modules(path)}


def test_every_venue_package_has_the_same_files_and_is_registered() -> None:
    for name, adapter in VENUES.items():
        assert adapter.name == name
        folder = PACKAGE / "exchanges" / adapter.feed_factory.__module__.split(".")[2]
        files = {p.name for p in folder.glob("*.py")}
        # execution.py (order entry) and user_stream.py (its private stream), where the venue trades
        assert files - {"execution.py", "user_stream.py"} == VENUE_FILES, folder
        if "execution.py" in files:  # a venue's own order entry comes with its private stream
            assert "user_stream.py" in files and adapter.execution is not None and adapter.execution.user_stream is not None
        feed = adapter.feed()
        assert (feed.exchange, feed.limits) == (name, adapter.limits)
        parser = adapter.parser(InstrumentRegistry(name), True)
        assert parser.exchange == name and adapter.book_sync("X/Y").exchange == name
        if adapter.execution is not None:  # a venue that trades: its spec is in its own package (or its v1 sibling's)
            assert "execution.py" in files or adapter.execution.ccxt_id in {"kraken"}, folder
            assert adapter.execution.client_order_id_max >= 32  # risk's ids (32 hex digits) fit every venue
    assert frame_format("ccxt") is FORMATS["ccxt"]
    with pytest.raises(UnknownVenue, match="known: binance"):
        venue("nowhere")


@pytest.mark.parametrize("stage", ["normalisation", "ingestion"])
def test_stages_name_no_venue(stage: str) -> None:
    """Stages reach venues through the registry only: no venue package import, no venue's name in code."""
    venue_packages = {adapter.feed_factory.__module__.rpartition(".")[0] for adapter in VENUES.values()}
    for path in (PACKAGE / stage).rglob("*.py"):
        imports = imported_modules(path)
        assert not {m for m in imports if any(m == v or m.startswith(v + ".") for v in venue_packages)}, path
        code = ast.unparse(ast.parse(path.read_text()))  # without comments; docstrings may mention venues
        tree = ast.parse(code)
        literals = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
        docstrings = {ast.get_docstring(n) for n in ast.walk(tree) if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef)}
        assert not {text for text in literals - docstrings if text in VENUES}, path


def test_imports_go_one_way_between_books_exchanges_and_ingestion() -> None:
    books, exchanges = package_imports("books"), package_imports("exchanges")
    assert not {m for m in books if m.startswith(("platform_streams.exchanges", "platform_streams.ingestion"))}
    assert not {
        m
        for m in exchanges
        if m.startswith(("platform_streams.ingestion", "platform_streams.normalisation", "platform_streams.runtime"))
    }
    schemas = package_imports("schemas")
    assert not {m for m in schemas if not m.startswith("platform_streams.schemas")}
