#!/usr/bin/env python3
"""Count the function-local imports in a package (issue 16: they should remain only
for optional heavy dependencies). Prints totals by kind, and with -v each import.

    python scripts/local_imports.py [PACKAGE_DIR] [-v]

Kinds: `internal` (the package's own modules: each one hides a layering problem or
a cycle), `stdlib`, `third-party` (an optional or heavy dependency, imported lazily).
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path


def local_imports(root: Path) -> list[tuple[str, int, str, str]]:
    """(file, line, module, kind) of each import inside a function body."""
    package = root.name
    out: list[tuple[str, int, str, str]] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    names = ["." * node.level + (node.module or "")]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    kind = ("internal" if name.startswith(".") or top == package
                            else "stdlib" if top in sys.stdlib_module_names else "third-party")
                    out.append((str(path), node.lineno, name, kind))
    # a nested function's imports are seen from each enclosing function: count each once
    return sorted(set(out))


def main(argv: list[str]) -> int:
    args = [a for a in argv if a != "-v"]
    root = Path(args[0] if args else "deepflix")
    found = local_imports(root)
    if "-v" in argv:
        for path, line, name, kind in found:
            print(f"{path}:{line}: {name} ({kind})")
    kinds = Counter(kind for *_, kind in found)
    print(f"function-local imports in {root}: {len(found)} "
          f"(internal {kinds['internal']}, stdlib {kinds['stdlib']}, third-party {kinds['third-party']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
