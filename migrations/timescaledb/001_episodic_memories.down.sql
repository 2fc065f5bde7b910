-- Policies first: they are jobs that name the hypertable.
SELECT remove_retention_policy('episodic_memories', if_exists => true);
SELECT remove_compression_policy('episodic_memories', if_exists => true);
DROP TABLE episodic_memories;
