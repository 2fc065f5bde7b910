//! The realistic workload: N generated migrations per database,
//! written here from scratch (nothing copied from any project), each file 1
//! to 40 statements of what real migration folders hold:
//!
//! - `CREATE TABLE` with a primary key, NOT NULL, CHECK, UNIQUE and a foreign
//!   key to an earlier table;
//! - indexes and views;
//! - PostgreSQL: plpgsql functions with `$$` bodies and the triggers calling
//!   them; SQLite: triggers with `BEGIN ... END`; MySQL/MariaDB: stored
//!   procedures and triggers with `BEGIN ... END`, without `DELIMITER`, and
//!   a `CALL`;
//! - multi-row data backfills, `UPDATE`s, and `ALTER TABLE ... ADD COLUMN`
//!   chains on earlier tables.
//!
//! The content is a pure function of (dialect, version, N), the same for
//! every tool. The last migration also creates `t_N` holding `(1, 'x')`, so
//! the harness checks the run the same way as for W1.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
    MySql,
}

impl Dialect {
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::MySql];

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }

    pub fn parse(s: &str) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.name() == s)
    }

    fn int(self) -> &'static str {
        match self {
            Dialect::Sqlite => "INTEGER",
            _ => "BIGINT",
        }
    }

    fn text(self) -> &'static str {
        match self {
            Dialect::MySql => "VARCHAR(100)",
            _ => "TEXT",
        }
    }

    fn money(self) -> &'static str {
        match self {
            Dialect::Sqlite => "REAL",
            Dialect::Postgres => "NUMERIC(12, 2)",
            Dialect::MySql => "DECIMAL(12, 2)",
        }
    }
}

/// A small deterministic generator (xorshift), seeded per migration.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Statements in migration `version`: most files are short, some long, a few
/// up to 40 (60% 1-8, 30% 9-20, 10% 21-40).
fn statement_count(rng: &mut Rng) -> usize {
    match rng.below(10) {
        0..=5 => 1 + rng.below(8) as usize,
        6..=8 => 9 + rng.below(12) as usize,
        _ => 21 + rng.below(20) as usize,
    }
}

/// What the generator knows of the tables earlier migrations created.
#[derive(Clone)]
struct Table {
    name: String,
    rows: usize,
    columns: usize,
}

/// The up files of migrations 1..=n, in order (content only).
pub fn migrations(dialect: Dialect, n: usize) -> Vec<String> {
    let mut tables: Vec<Table> = Vec::new();
    (1..=n)
        .map(|version| migration(dialect, version, n, &mut tables))
        .collect()
}

fn migration(d: Dialect, version: usize, n: usize, tables: &mut Vec<Table>) -> String {
    let mut rng = Rng::new(version as u64 * 7919 + d as u64);
    let wanted = statement_count(&mut rng);
    let mut out: Vec<String> = Vec::new();
    if version == 1 {
        out.push(audit_table(d));
    }
    // Every migration creates its own table first.
    out.push(own_table(d, version, &mut rng, tables));
    let mine = tables.len() - 1;
    let mut routines = 0;
    while out.len() < wanted {
        let k = out.len();
        out.push(statement(d, version, k, mine, &mut routines, &mut rng, tables));
    }
    if version == n {
        out.push(format!(
            "CREATE TABLE t_{n} (id {} PRIMARY KEY, v {})",
            d.int(),
            d.text()
        ));
        out.push(format!("INSERT INTO t_{n} (id, v) VALUES (1, 'x')"));
    }
    let mut text = format!("-- migration {version}: {} statements\n", out.len());
    for s in out {
        text.push_str(&s);
        text.push_str(";\n\n");
    }
    text
}

/// The table the triggers write to, created by the first migration.
fn audit_table(d: Dialect) -> String {
    let id = match d {
        Dialect::Sqlite => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        Dialect::Postgres => "id BIGSERIAL PRIMARY KEY",
        Dialect::MySql => "id BIGINT AUTO_INCREMENT PRIMARY KEY",
    };
    format!(
        "-- The audit log the triggers write to.\nCREATE TABLE audit (\n    {id},\n    tbl {} NOT NULL,\n    row_id {} NOT NULL\n)",
        d.text(),
        d.int()
    )
}

/// `r_<version>`, the migration's own table, with a foreign key to an
/// earlier one when there is one; added to `tables`.
fn own_table(d: Dialect, version: usize, rng: &mut Rng, tables: &mut Vec<Table>) -> String {
    let name = format!("r_{version}");
    let parent = if tables.is_empty() {
        None
    } else {
        Some(tables[rng.below(tables.len() as u64) as usize].name.clone())
    };
    let fk = match &parent {
        Some(p) => format!(",\n    parent_id {} REFERENCES {p} (id)", d.int()),
        None => String::new(),
    };
    let statement = format!(
        "CREATE TABLE {name} (\n    id {int} PRIMARY KEY,\n    code {text} NOT NULL UNIQUE,\n    \
         label {text} NOT NULL DEFAULT 'none',\n    amount {money} NOT NULL DEFAULT 0 CHECK (amount >= 0),\n    \
         touched {int} NOT NULL DEFAULT 0{fk}\n)",
        int = d.int(),
        text = d.text(),
        money = d.money(),
    );
    tables.push(Table {
        name,
        rows: 0,
        columns: 0,
    });
    statement
}

/// Statement `k` of migration `version` after its own table: on that table
/// (`tables[mine]`) or, one time in three, on any table so far.
fn statement(
    d: Dialect,
    version: usize,
    k: usize,
    mine: usize,
    routines: &mut usize,
    rng: &mut Rng,
    tables: &mut [Table],
) -> String {
    let pick = rng.below(100);
    let target = if rng.below(3) == 0 {
        rng.below(tables.len() as u64) as usize
    } else {
        mine
    };
    let t = tables[target].clone();
    match pick {
        0..=29 => backfill(&mut tables[target], rng),
        // An update over the rows written so far.
        30..=41 => format!(
            "UPDATE {} SET amount = amount + 1, label = 'updated'\nWHERE id <= {}",
            t.name,
            1 + rng.below(t.rows.max(1) as u64 + 1)
        ),
        // The next link of an ALTER TABLE chain on one of the tables.
        42..=59 => {
            tables[target].columns += 1;
            let c = tables[target].columns;
            format!(
                "ALTER TABLE {} ADD COLUMN extra_{version}_{c} {} DEFAULT 'v{c}'",
                t.name,
                d.text()
            )
        }
        60..=71 => format!(
            "CREATE INDEX {}_amount_{version}_{k} ON {} (amount, id)",
            t.name, t.name
        ),
        72..=81 => format!(
            "CREATE VIEW v_{version}_{k} AS\nSELECT id, code, amount\nFROM {}\nWHERE amount > {}",
            t.name,
            rng.below(500)
        ),
        // The dialect's procedural code, at most two per file.
        _ if *routines < 2 && target == mine => {
            *routines += 1;
            routine(d, &t.name, version, k)
        }
        _ => format!("UPDATE {} SET touched = touched + 1 WHERE amount >= 0", t.name),
    }
}

/// A multi-row insert of the next rows of `table`.
fn backfill(table: &mut Table, rng: &mut Rng) -> String {
    let count = 3 + rng.below(8) as usize;
    let values: Vec<String> = (1..=count)
        .map(|k| {
            let id = table.rows + k;
            format!(
                "({id}, '{}-{id}', 'row {id} of {}', {}.{:02})",
                table.name,
                table.name,
                rng.below(900),
                rng.below(100)
            )
        })
        .collect();
    table.rows += count;
    format!(
        "INSERT INTO {} (id, code, label, amount) VALUES\n    {}",
        table.name,
        values.join(",\n    ")
    )
}

/// A trigger (and for PostgreSQL the plpgsql function it calls, for MySQL a
/// stored procedure and its CALL) on `table`: each writes to `audit`.
fn routine(d: Dialect, table: &str, version: usize, k: usize) -> String {
    match d {
        Dialect::Postgres => format!(
            "CREATE FUNCTION {table}_audit_{k}() RETURNS trigger LANGUAGE plpgsql AS $$\n\
             BEGIN\n    -- one row per change; a ';' inside the body is not a statement end\n    \
             INSERT INTO audit (tbl, row_id) VALUES (TG_TABLE_NAME, NEW.id);\n    \
             NEW.touched := NEW.touched + 1;\n    RETURN NEW;\nEND;\n$$;\n\n\
             CREATE TRIGGER {table}_audit_{k}\nBEFORE INSERT OR UPDATE ON {table}\n\
             FOR EACH ROW EXECUTE FUNCTION {table}_audit_{k}()"
        ),
        Dialect::Sqlite => format!(
            "CREATE TRIGGER {table}_audit_{k} AFTER INSERT ON {table}\nBEGIN\n    \
             INSERT INTO audit (tbl, row_id) VALUES ('{table}', NEW.id);\n    \
             UPDATE {table} SET touched = touched + 1 WHERE id = NEW.id;\nEND"
        ),
        Dialect::MySql => format!(
            "CREATE TRIGGER {table}_audit_{k} AFTER INSERT ON {table}\nFOR EACH ROW\nBEGIN\n    \
             INSERT INTO audit (tbl, row_id) VALUES ('{table}', NEW.id);\nEND;\n\n\
             CREATE PROCEDURE {table}_count_{k}(OUT total BIGINT)\nBEGIN\n    \
             DECLARE n BIGINT DEFAULT 0;\n    SELECT COUNT(*) INTO n FROM {table};\n    \
             IF n > 0 THEN\n        SET total = n;\n    ELSE\n        SET total = {version};\n    END IF;\nEND;\n\n\
             CALL {table}_count_{k}(@total_{version})"
        ),
    }
}
