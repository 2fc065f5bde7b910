-- description: a placeholder needs a name
CREATE TABLE t (x TEXT DEFAULT '${}');
