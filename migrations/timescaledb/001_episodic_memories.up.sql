-- What the agent remembers happening, one row per event, partitioned by time.
CREATE TABLE episodic_memories (
    occurred_at  TIMESTAMPTZ NOT NULL,
    agent_id     TEXT        NOT NULL,
    session_id   TEXT,
    content      TEXT        NOT NULL,
    importance   REAL        NOT NULL DEFAULT 0.5,
    metadata     JSONB       NOT NULL DEFAULT '{}'
);

SELECT create_hypertable('episodic_memories', by_range('occurred_at', INTERVAL '7 days'));

CREATE INDEX episodic_memories_agent_time ON episodic_memories (agent_id, occurred_at DESC);
CREATE INDEX episodic_memories_session ON episodic_memories (session_id, occurred_at DESC)
    WHERE session_id IS NOT NULL;

-- Old chunks compressed per agent, newest first inside a segment.
ALTER TABLE episodic_memories SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'agent_id',
    timescaledb.compress_orderby = 'occurred_at DESC'
);
SELECT add_compression_policy('episodic_memories', INTERVAL '30 days');
SELECT add_retention_policy('episodic_memories', INTERVAL '365 days');
