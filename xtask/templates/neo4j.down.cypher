// {{down_file}}: revert {{up_file}}, in reverse order.
// The build refuses this file while it holds no statement.
// If the change cannot be undone, replace this whole file with the single
// directive line `// migrate:irreversible`.
//
// DROP INDEX {{name}}_created_at IF EXISTS;
// DROP CONSTRAINT {{name}}_id_unique IF EXISTS;
