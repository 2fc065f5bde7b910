CREATE RANGE INDEX movie_release_year IF NOT EXISTS FOR (m:Movie) ON (m.release_year);
CREATE RANGE INDEX person_slug IF NOT EXISTS FOR (p:Person) ON (p.slug);
CREATE RANGE INDEX company_slug IF NOT EXISTS FOR (c:Company) ON (c.slug);
CREATE RANGE INDEX review_created IF NOT EXISTS FOR (r:Review) ON (r.created_at);
CREATE RANGE INDEX award_year IF NOT EXISTS FOR (a:Award) ON (a.year);
