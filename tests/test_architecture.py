"""The layers stay apart: services know nothing of Slack, handlers hold no SQL, nothing happens at import."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_services_do_not_import_slack() -> None:
    for path in (ROOT / "bot" / "services").rglob("*.py"):
        slack = {name for name in _imports(path) if name.startswith(("slack_bolt", "slack_sdk"))}
        assert not slack, f"{path.relative_to(ROOT)} imports {slack}: services must not know Slack"


def test_the_arrow_between_services_and_builders_runs_one_way() -> None:
    """Builders may take services' data types; services never reach for a builder. What both need (the rich-text
    sanitiser, escaping, template names) lives in neutral modules that import neither."""
    for path in (ROOT / "bot" / "services").rglob("*.py"):
        builders = {name for name in _imports(path) if name.startswith("beacon.bot.blocks")}
        assert not builders, f"{path.relative_to(ROOT)} imports {builders}: services say what, builders say how"
    for neutral in ("rich_text.py", "escaping.py", "templates.py", "when.py"):
        layered = {name for name in _imports(ROOT / "bot" / neutral)
                   if name.startswith(("beacon.bot.blocks", "beacon.bot.services", "beacon.handlers",
                                       "beacon.scheduler"))}
        assert not layered, f"bot/{neutral} imports {layered}: a neutral module both layers use imports neither"


def test_handlers_hold_no_sql() -> None:
    for path in (ROOT / "handlers").rglob("*.py"):
        sql = {name for name in _imports(path) if name.startswith(("sqlalchemy", "sqlmodel", "beacon.bot.db"))}
        assert not sql, f"{path.relative_to(ROOT)} imports {sql}: handlers call services instead"


def test_blocks_are_pure() -> None:
    for path in (ROOT / "bot" / "blocks").rglob("*.py"):
        io = {name for name in _imports(path)
              if name.startswith(("aiohttp", "sqlalchemy", "sqlmodel", "slack_sdk.web", "slack_bolt", "beacon.bot.db"))}
        assert not io, f"{path.relative_to(ROOT)} imports {io}: builders take data and return Block Kit"


def test_only_settings_reads_the_environment() -> None:
    for directory in ("bot", "handlers", "scheduler"):
        for path in (ROOT / directory).rglob("*.py"):
            if path.name == "settings.py":
                continue
            assert "os.environ" not in path.read_text(), f"{path.relative_to(ROOT)} reads os.environ"


def test_one_reader_of_a_modals_state() -> None:
    for path in (ROOT / "handlers").rglob("*.py"):
        if path.name != "modal_state.py":
            assert '["values"]' not in path.read_text(), \
                f"{path.relative_to(ROOT)} reads a view's state itself: use handlers/modal_state.py: ModalState"


def test_one_way_of_saying_when() -> None:
    """Services and handlers never format a moment by hand (a weekday, a zone); bot/when.py says how Beacon says
    when."""
    by_hand = ("%a %-d %b", "%A %-d %B", "%Z")
    for directory in ("bot/services", "handlers"):
        for path in (ROOT / directory).rglob("*.py"):
            text = path.read_text()
            found = [f for f in by_hand if f in text]
            assert not found, f"{path.relative_to(ROOT)} formats {found} itself: use bot/when.py"
