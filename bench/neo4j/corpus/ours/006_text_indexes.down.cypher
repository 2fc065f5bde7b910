DROP INDEX company_name_text IF EXISTS;
DROP INDEX review_body_text IF EXISTS;
DROP INDEX person_bio_text IF EXISTS;
DROP INDEX movie_title_text IF EXISTS;
