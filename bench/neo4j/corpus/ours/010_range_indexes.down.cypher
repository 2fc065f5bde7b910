DROP INDEX award_year IF EXISTS;
DROP INDEX review_created IF EXISTS;
DROP INDEX company_slug IF EXISTS;
DROP INDEX person_slug IF EXISTS;
DROP INDEX movie_release_year IF EXISTS;
