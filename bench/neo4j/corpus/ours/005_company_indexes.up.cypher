CREATE INDEX company_name IF NOT EXISTS FOR (c:Company) ON (c.name);
CREATE INDEX company_founded IF NOT EXISTS FOR (c:Company) ON (c.founded);
CREATE INDEX office_city IF NOT EXISTS FOR (o:Office) ON (o.city);
CREATE INDEX invoice_due IF NOT EXISTS FOR (i:Invoice) ON (i.due);
CREATE INDEX project_status IF NOT EXISTS FOR (p:Project) ON (p.status);
