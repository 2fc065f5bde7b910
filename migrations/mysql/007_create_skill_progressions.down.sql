DROP TABLE skill_progressions;
