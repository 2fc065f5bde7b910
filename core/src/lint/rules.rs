//! The catalogue: every lint rule, the databases it applies to, why the
//! statement is dangerous and what to write instead. docs/lint.md lists the
//! same rules for the user; a test keeps the two in step.

use crate::split::Dialect;

/// One lint rule.
#[derive(Debug, PartialEq, Eq)]
pub struct LintRule {
    /// Its stable name, as `migrate:allow` and the reports write it.
    pub name: &'static str,
    /// The databases whose migrations it reads.
    pub databases: &'static [Dialect],
    /// Why such a statement is dangerous, one paragraph.
    pub why: &'static str,
    /// What to write instead.
    pub fix: &'static str,
}

const PG: &[Dialect] = &[Dialect::Postgres];
const SQL: &[Dialect] = &[Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];
const MYSQL: &[Dialect] = &[Dialect::MySql];
const SQLITE: &[Dialect] = &[Dialect::Sqlite];
const NEO4J: &[Dialect] = &[Dialect::Cypher];

/// Every rule, in the order docs/lint.md lists them.
pub const RULES: &[LintRule] = &[
    LintRule {
        name: "index-without-concurrently",
        databases: PG,
        why: "`CREATE INDEX` without `CONCURRENTLY` holds a SHARE lock on the table while it reads every row: \
              every INSERT, UPDATE and DELETE on the table waits until the index is built.",
        fix: "`CREATE INDEX CONCURRENTLY` in a file of its own that starts with `-- migrate:no-transaction` \
              (and `DROP INDEX IF EXISTS` first when a failed build left an invalid index).",
    },
    LintRule {
        name: "column-type-change",
        databases: PG,
        why: "`ALTER COLUMN ... TYPE` takes an ACCESS EXCLUSIVE lock and, unless the new type is binary \
              compatible (varchar(n) to a larger n or text), rewrites the table and its indexes while nothing \
              can read or write it; the running release may also not understand the new type.",
        fix: "add a column of the new type, fill it in batches (`-- migrate:batch`), switch the application to \
              it, then drop the old column in a later release.",
    },
    LintRule {
        name: "not-null-column-without-default",
        databases: PG,
        why: "`ADD COLUMN ... NOT NULL` without a `DEFAULT` fails on any table that has rows, and the release \
              still running inserts rows without the new column.",
        fix: "add the column with a constant `DEFAULT` (PostgreSQL 11 and later add it without rewriting the \
              table), or add it nullable, backfill it, and set it NOT NULL through a validated CHECK constraint.",
    },
    LintRule {
        name: "set-not-null",
        databases: PG,
        why: "`ALTER COLUMN ... SET NOT NULL` scans the whole table under an ACCESS EXCLUSIVE lock to check \
              that no row is NULL: reads and writes wait for the scan.",
        fix: "add `CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT` it in a later migration, then \
              `SET NOT NULL` (PostgreSQL 12 and later use the validated constraint and skip the scan; allow this \
              rule on that last step).",
    },
    LintRule {
        name: "constraint-without-not-valid",
        databases: PG,
        why: "adding a FOREIGN KEY or CHECK constraint validates every existing row while it holds a lock that \
              blocks writes to the table (and, for a foreign key, to the table it references).",
        fix: "add the constraint with `NOT VALID`, which checks new rows only and returns at once, then \
              `ALTER TABLE ... VALIDATE CONSTRAINT` in a later migration, which scans without blocking writes.",
    },
    LintRule {
        name: "unique-constraint-without-index",
        databases: PG,
        why: "adding a UNIQUE or PRIMARY KEY constraint builds its index under an ACCESS EXCLUSIVE lock: nothing \
              can read or write the table until every row is indexed.",
        fix: "`CREATE UNIQUE INDEX CONCURRENTLY` in a `-- migrate:no-transaction` file, then \
              `ADD CONSTRAINT ... UNIQUE USING INDEX` (or `PRIMARY KEY USING INDEX`), which takes the lock only \
              for an instant.",
    },
    LintRule {
        name: "rename-column",
        databases: SQL,
        why: "the release still running during the deploy reads and writes the column by its old name, and \
              fails from the moment the migration commits until the last old process stops.",
        fix: "add the new column, write both and backfill, move the readers over, and drop the old column in a \
              later release; or keep the old name.",
    },
    LintRule {
        name: "rename-table",
        databases: SQL,
        why: "the release still running during the deploy queries the table by its old name, and fails from \
              the moment the migration commits until the last old process stops.",
        fix: "create the new table (or a view under the old name over the renamed table) so that both names \
              work for one release, then remove the old name in a later release.",
    },
    LintRule {
        name: "drop-column",
        databases: SQL,
        why: "the release still running during the deploy may still select or insert the column (an ORM often \
              lists every column), and fails from the moment it is gone; the data cannot be brought back by \
              the down migration.",
        fix: "stop reading and writing the column in one release (for an ORM, mark it ignored), and drop it in a \
              later one.",
    },
    LintRule {
        name: "drop-table",
        databases: SQL,
        why: "the release still running during the deploy may still query the table, and its rows are gone \
              for good: the down migration can recreate the table, not its data.",
        fix: "stop using the table in one release, and drop it in a later one (after a backup if its rows \
              matter).",
    },
    LintRule {
        name: "vacuum-full",
        databases: PG,
        why: "`VACUUM FULL` rewrites the whole table under an ACCESS EXCLUSIVE lock: nothing can read or write \
              it until the copy is done, and it needs disk space for a second copy.",
        fix: "plain `VACUUM` (which locks nothing that writers need), or `pg_repack` run outside the migration.",
    },
    LintRule {
        name: "cluster",
        databases: PG,
        why: "`CLUSTER` rewrites the table in index order under an ACCESS EXCLUSIVE lock: nothing can read or \
              write it until the copy is done.",
        fix: "`pg_repack --order-by` run outside the migration, or leave the physical order alone.",
    },
    LintRule {
        name: "lock-table",
        databases: PG,
        why: "an explicit `LOCK TABLE` holds its lock until the migration's transaction ends, and waits behind \
              every running query on the table while queuing every later one behind itself.",
        fix: "let each statement take the lock it needs; if the lock is needed, set a short `lock_timeout` \
              first so that the migration fails instead of stalling the application.",
    },
    LintRule {
        name: "table-copy",
        databases: MYSQL,
        why: "this `ALTER TABLE` (a column's type or definition changed with MODIFY or CHANGE, a foreign key \
              added, the primary key dropped, the character set converted) runs with ALGORITHM=COPY: MySQL \
              copies the table row by row and blocks writes to it until the copy is done.",
        fix: "state `ALGORITHM=INSTANT` or `ALGORITHM=INPLACE, LOCK=NONE` so that MySQL refuses the change \
              rather than copy, and if it refuses, make the change with an online schema change tool \
              (gh-ost, pt-online-schema-change), or add a new column and backfill it.",
    },
    LintRule {
        name: "table-rebuild",
        databases: SQLITE,
        why: "this file rebuilds a table (creates a new one, drops the old, renames the new) without the \
              documented form's `PRAGMA foreign_keys=OFF`: with foreign keys on, the `DROP TABLE` deletes the \
              child rows of every `ON DELETE CASCADE` key, or fails on a RESTRICT one.",
        fix: "SQLite's documented recipe in a `-- migrate:no-transaction` file: `PRAGMA foreign_keys=OFF; \
              BEGIN; CREATE TABLE new_x ...; INSERT INTO new_x SELECT ...; DROP TABLE x; ALTER TABLE new_x \
              RENAME TO x; PRAGMA foreign_key_check; COMMIT; PRAGMA foreign_keys=ON;`",
    },
    LintRule {
        name: "constraint-on-existing-label",
        databases: NEO4J,
        why: "creating a constraint on a label (or relationship type) that an earlier migration already wrote \
              or constrained scans every node of it under a schema lock, and fails the migration if one \
              existing node breaks it.",
        fix: "check the data first (`MATCH (n:Label) WITH n.key AS k, count(*) AS c WHERE c > 1 RETURN k` for \
              uniqueness) and fix it in a data migration before the constraint's; then allow the rule with that \
              reason.",
    },
    LintRule {
        name: "detach-delete-without-batch",
        databases: NEO4J,
        why: "a `DETACH DELETE` outside `CALL { ... } IN TRANSACTIONS` deletes every matched node and its \
              relationships in one transaction, which holds them all in memory and can exhaust the heap on a \
              large graph.",
        fix: "write it as a batch migration: `// migrate:batch size=10000` with `CALL { ... DETACH DELETE n } \
              IN TRANSACTIONS OF $batch ROWS`, or a `MATCH ... WITH n LIMIT $batch DETACH DELETE n` loop.",
    },
];

/// The rule of this name, whatever its database.
pub fn rule(name: &str) -> Option<&'static LintRule> {
    RULES.iter().find(|r| r.name == name)
}

/// The rules one database's migrations are read against.
pub fn rules(dialect: Dialect) -> impl Iterator<Item = &'static LintRule> {
    RULES.iter().filter(move |r| r.databases.contains(&dialect))
}

/// The rule of this name, which the lint's own code names: a typo there is
/// a bug, caught by every test that lints.
pub(super) fn named(name: &str) -> &'static LintRule {
    rule(name).unwrap_or_else(|| panic!("the lint names an unknown rule `{name}`"))
}
