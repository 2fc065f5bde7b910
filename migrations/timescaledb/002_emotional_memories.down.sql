SELECT remove_retention_policy('emotional_memories', if_exists => true);
SELECT remove_compression_policy('emotional_memories', if_exists => true);
DROP TABLE emotional_memories;
