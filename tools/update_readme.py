"""Regenerate the README's rule table from the rules' own metadata (`make readme`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def main() -> int:
    table = subprocess.run(
        [sys.executable, "-m", "stackaudit.cli", "rules", "--format", "md"], check=True, capture_output=True, text=True
    ).stdout.strip()
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
