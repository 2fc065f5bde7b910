CREATE INDEX works_at_since IF NOT EXISTS FOR ()-[r:WORKS_AT]-() ON (r.since);
CREATE INDEX acted_in_role IF NOT EXISTS FOR ()-[r:ACTED_IN]-() ON (r.role);
CREATE INDEX reviewed_rating IF NOT EXISTS FOR ()-[r:REVIEWED]-() ON (r.rating);
CREATE INDEX member_of_since IF NOT EXISTS FOR ()-[r:MEMBER_OF]-() ON (r.since);
