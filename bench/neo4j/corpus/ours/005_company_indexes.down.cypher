DROP INDEX project_status IF EXISTS;
DROP INDEX invoice_due IF EXISTS;
DROP INDEX office_city IF EXISTS;
DROP INDEX company_founded IF EXISTS;
DROP INDEX company_name IF EXISTS;
