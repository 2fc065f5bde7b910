MERGE (:Person {id: 1, name: 'Ada Lovelace'});
MERGE (:Person {id: 2, name: 'Grace'});
