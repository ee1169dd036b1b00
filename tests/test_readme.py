"""The README stays true: every setting in its table, and the two set-up commands first."""

from __future__ import annotations

import re
from pathlib import Path

from assistant.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_setting_is_in_the_readme_table() -> None:
    text = README.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z_]+)` \| `SEGUE_[A-Z_]+` \|", text, flags=re.MULTILINE))
    for name in rows:
        assert f"| `{name}` | `SEGUE_{name.upper()}` |" in text, name
    missing = sorted(set(Settings.model_fields) - rows)
    assert not missing, f"settings missing from the README table: {missing}"
    unknown = sorted(
        r
        for r in rows
        if r.endswith(("_seconds", "_url", "_id")) and r not in Settings.model_fields
    )
    assert not unknown, f"README documents settings that do not exist: {unknown}"


def test_readme_opens_with_the_two_commands_that_ci_runs() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    assert block is not None and text.index("```sh") < text.index("\n## ")
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["installer/run.sh", "installer/test.sh"]
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "exec installer/test.sh" in ci
