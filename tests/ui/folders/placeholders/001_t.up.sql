-- For ${schema}: the role in a literal too; $${schema} stays as written.
CREATE TABLE ${schema}.t (x TEXT DEFAULT '${role}');
CREATE FUNCTION ${schema}.f() RETURNS jsonb AS $${"a": 1}$$ LANGUAGE sql;
