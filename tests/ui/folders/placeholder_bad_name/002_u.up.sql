-- a name starts with a letter or _
CREATE TABLE ${1x}.u (x TEXT);
