MERGE (:Person {id: 1, name: 'Ada'});
MERGE (:Person {id: 2, name: 'Grace'});
