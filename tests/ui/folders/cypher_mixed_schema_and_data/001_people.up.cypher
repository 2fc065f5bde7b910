// description: people, and the first of them
CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:Person) REQUIRE p.id IS UNIQUE;
MERGE (:Person {id: 1, name: 'Ada'});
