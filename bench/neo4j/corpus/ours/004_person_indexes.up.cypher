CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name);
CREATE INDEX person_born IF NOT EXISTS FOR (p:Person) ON (p.born);
CREATE INDEX person_name_born IF NOT EXISTS FOR (p:Person) ON (p.name, p.born);
CREATE INDEX account_created IF NOT EXISTS FOR (a:Account) ON (a.created_at);
CREATE INDEX team_name IF NOT EXISTS FOR (t:Team) ON (t.name);
CREATE INDEX person_country IF NOT EXISTS FOR (p:Person) ON (p.country);
