//! What TimescaleDB adds to a PostgreSQL schema snapshot, when the
//! extension is installed: hypertables with their dimensions, compression
//! settings, jobs (compression, retention and refresh policies, custom
//! jobs) and continuous aggregates, read from its `timescaledb_information`
//! views.
//!
//! A snapshot must be the same for the same migrations, so nothing here
//! carries the ids TimescaleDB gives a new hypertable or job: a policy is
//! named by its table and procedure, its config printed without its
//! `hypertable_id`; a continuous aggregate's view is printed from the query
//! it was created with, not from the internal hypertable it reads (whose
//! number changes each time it is created). The chunks and internal
//! hypertables live in TimescaleDB's own schemas, outside the snapshot.

/// `SELECT EXISTS(...)`: whether the extension is installed in the database.
pub(super) const INSTALLED: &str = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')";

/// `(kind, name, definition)` rows, `$1` the schema. They run after the
/// catalog queries: the `view` row of a continuous aggregate replaces the
/// one read from the catalogs.
pub(super) const QUERIES: &[&str] = &[
    // Hypertables with their dimensions.
    "SELECT 'hypertable' AS kind, h.hypertable_name::text AS name, \
       'dimensions(' || (SELECT string_agg(concat_ws(' ', d.column_name, d.dimension_type, \
           'every ' || coalesce(d.time_interval::text, d.integer_interval::text), \
           'partitions ' || d.num_partitions), ', ' ORDER BY d.dimension_number) \
         FROM timescaledb_information.dimensions d \
         WHERE d.hypertable_schema = h.hypertable_schema AND d.hypertable_name = h.hypertable_name) || ')' \
       || CASE WHEN h.compression_enabled THEN ' compressed' ELSE '' END AS definition \
     FROM timescaledb_information.hypertables h WHERE h.hypertable_schema = $1",
    // Compression settings: segment by, order by.
    "SELECT 'compression' AS kind, s.hypertable_name::text AS name, \
       concat_ws(' ', \
         'segmentby ' || string_agg(s.attname::text, ', ' ORDER BY s.segmentby_column_index) \
           FILTER (WHERE s.segmentby_column_index IS NOT NULL), \
         'orderby ' || string_agg(s.attname || CASE WHEN s.orderby_asc THEN '' ELSE ' DESC' END \
             || CASE WHEN s.orderby_nullsfirst = s.orderby_asc THEN ' NULLS ' \
                  || CASE WHEN s.orderby_nullsfirst THEN 'FIRST' ELSE 'LAST' END ELSE '' END, \
             ', ' ORDER BY s.orderby_column_index) FILTER (WHERE s.orderby_column_index IS NOT NULL)) \
       AS definition \
     FROM timescaledb_information.compression_settings s WHERE s.hypertable_schema = $1 \
     GROUP BY s.hypertable_name",
    // Policies and custom jobs: what runs, how often, with what.
    "SELECT 'job' AS kind, \
       CASE WHEN j.hypertable_name IS NULL THEN j.proc_name || '(' || coalesce(j.config::text, '') || ')' \
            ELSE j.hypertable_name || '.' || j.proc_name END AS name, \
       concat_ws(' ', 'every ' || j.schedule_interval::text, \
         (j.config - 'hypertable_id' - 'mat_hypertable_id')::text, \
         CASE WHEN NOT j.scheduled THEN 'paused' END) AS definition \
     FROM timescaledb_information.jobs j \
     WHERE j.hypertable_schema = $1 OR j.hypertable_name IS NULL AND j.proc_schema = $1",
    // Continuous aggregates, and their views as written.
    "SELECT 'continuous aggregate' AS kind, c.view_name::text AS name, \
       CASE WHEN c.materialized_only THEN 'materialized only' ELSE 'real time' END \
       || CASE WHEN c.compression_enabled THEN ', compressed' ELSE '' END AS definition \
     FROM timescaledb_information.continuous_aggregates c WHERE c.view_schema = $1",
    "SELECT 'view' AS kind, c.view_name::text AS name, \
       'columns(' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a \
         WHERE a.attrelid = format('%I.%I', c.view_schema, c.view_name)::regclass \
           AND a.attnum > 0 AND NOT a.attisdropped) || ') AS ' || c.view_definition AS definition \
     FROM timescaledb_information.continuous_aggregates c WHERE c.view_schema = $1",
];
