// description: {{description}}
//
// {{up_file}}: write the change here, then its exact reverse in {{down_file}}.
// The build refuses this file while it holds no statement.
// Name every constraint and index, so that the down file can drop it by name.
//
// CREATE CONSTRAINT {{name}}_id_unique IF NOT EXISTS
// FOR (n:{{label}}) REQUIRE n.id IS UNIQUE;
// CREATE INDEX {{name}}_created_at IF NOT EXISTS
// FOR (n:{{label}}) ON (n.created_at);
