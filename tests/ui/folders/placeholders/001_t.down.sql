DROP TABLE ${schema}.t;
