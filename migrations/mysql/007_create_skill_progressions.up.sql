-- description: Skill levels over time
CREATE TABLE skill_progressions (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT NOT NULL,
    skill VARCHAR(255) NOT NULL,
    level INT NOT NULL DEFAULT 1,
    recorded_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX idx_skill_progressions_user_skill ON skill_progressions (user_id, skill);
