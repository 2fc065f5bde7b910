-- description: Skill levels over time
CREATE TABLE skill_progressions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill TEXT NOT NULL,
    level INTEGER NOT NULL DEFAULT 1,
    recorded_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_skill_progressions_user_skill ON skill_progressions (user_id, skill);
