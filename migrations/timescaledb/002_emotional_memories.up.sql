-- How the agent felt, sampled over time: valence and arousal per emotion.
CREATE TABLE emotional_memories (
    felt_at    TIMESTAMPTZ NOT NULL,
    agent_id   TEXT        NOT NULL,
    emotion    TEXT        NOT NULL,
    valence    REAL        NOT NULL CHECK (valence BETWEEN -1 AND 1),
    arousal    REAL        NOT NULL CHECK (arousal BETWEEN 0 AND 1),
    trigger    TEXT
);

SELECT create_hypertable('emotional_memories', by_range('felt_at', INTERVAL '7 days'));

CREATE INDEX emotional_memories_agent_emotion ON emotional_memories (agent_id, emotion, felt_at DESC);

ALTER TABLE emotional_memories SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'agent_id, emotion',
    timescaledb.compress_orderby = 'felt_at DESC'
);
SELECT add_compression_policy('emotional_memories', INTERVAL '14 days');
SELECT add_retention_policy('emotional_memories', INTERVAL '180 days');
