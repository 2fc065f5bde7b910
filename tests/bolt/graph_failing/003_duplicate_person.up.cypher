CREATE (:Person {id: 3, name: 'Edsger'});
// Person 1 exists: the uniqueness constraint refuses this, and the whole migration rolls back.
CREATE (:Person {id: 1, name: 'Ada, again'});
