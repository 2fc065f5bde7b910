// description: The first people
// Data only: runs in one transaction with its tracking writes.
MERGE (:Person {id: 1, name: 'Ada'});
MERGE (:Person {id: 2, name: 'Grace'});
