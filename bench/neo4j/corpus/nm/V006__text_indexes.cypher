CREATE TEXT INDEX movie_title_text IF NOT EXISTS FOR (m:Movie) ON (m.title);
CREATE TEXT INDEX person_bio_text IF NOT EXISTS FOR (p:Person) ON (p.bio);
CREATE TEXT INDEX review_body_text IF NOT EXISTS FOR (r:Review) ON (r.body);
CREATE TEXT INDEX company_name_text IF NOT EXISTS FOR (c:Company) ON (c.name);
