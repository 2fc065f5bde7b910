DROP INDEX person_country IF EXISTS;
DROP INDEX team_name IF EXISTS;
DROP INDEX account_created IF EXISTS;
DROP INDEX person_name_born IF EXISTS;
DROP INDEX person_born IF EXISTS;
DROP INDEX person_name IF EXISTS;
