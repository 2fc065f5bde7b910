"""Turns Ory Kratos' SQL migrations (github.com/ory/kratos,
persistence/sql/migrations/sql, Apache-2.0) into one folder per database in
this crate's layout, so that `cargo xtask lint` reads them as a user's folder.

Kratos names its files `<20-digit version>_<name>[.<dialect>].<up|down>.sql`;
a file without a dialect applies to every database, and one marked
`.autocommit` runs outside a transaction (`-- migrate:no-transaction` here). Its versions do not fit
an i64, so each (version, name) becomes a sequential version here, in
Kratos' order; several files of one version for one database are joined in
name order (that is how Kratos' runner, popx, applies them).

    python3 corpus.py <kratos checkout> <out dir>

writes <out>/postgres, <out>/mysql and <out>/sqlite."""

import os
import re
import sys
from collections import defaultdict

NAME = re.compile(r"^(\d+)_(.+?)(?:\.(postgres|mysql|sqlite3|sqlite|cockroach))?(\.autocommit)?\.(up|down)\.sql$")
DIALECTS = {"postgres": "postgres", "mysql": "mysql", "sqlite": "sqlite3"}


def statements(text):
    """Whether a file holds anything but comments and blanks."""
    return any(line.strip() and not line.strip().startswith("--") for line in text.splitlines())


def main(src, out):
    folder = os.path.join(src, "persistence/sql/migrations/sql")
    files = defaultdict(list)  # (version, name, direction) -> [(dialect, path)]
    for entry in sorted(os.listdir(folder)):
        m = NAME.match(entry)
        if not m:
            continue
        version, name, dialect, autocommit, direction = m.groups()
        dialect = "sqlite3" if dialect == "sqlite" else dialect
        files[(version, name, direction)].append((dialect, os.path.join(folder, entry), bool(autocommit)))
    for ours, theirs in DIALECTS.items():
        target = os.path.join(out, ours)
        os.makedirs(target, exist_ok=True)
        keys = sorted({(v, n) for (v, n, _) in files})
        count = 0
        for version, name in keys:
            texts = {}
            for direction in ("up", "down"):
                chosen = [(p, a) for d, p, a in files.get((version, name, direction), []) if d in (None, theirs)]
                # `.autocommit` files run outside a transaction in Kratos.
                header = "-- migrate:no-transaction\n" if any(a for _, a in chosen) else ""
                texts[direction] = header + "\n".join(open(p, encoding="utf-8").read() for p, _ in chosen)
            if not statements(texts["up"]):
                continue
            count += 1
            slug = re.sub(r"[^a-z0-9_]", "_", name.lower())
            base = os.path.join(target, f"{count:04d}_{slug}")
            down = texts["down"] if statements(texts["down"]) else "-- migrate:irreversible\n"
            with open(base + ".up.sql", "w", encoding="utf-8") as f:
                f.write(texts["up"])
            with open(base + ".down.sql", "w", encoding="utf-8") as f:
                f.write(down)
        print(f"{ours}: {count} migrations")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
