DROP TABLE plain;
