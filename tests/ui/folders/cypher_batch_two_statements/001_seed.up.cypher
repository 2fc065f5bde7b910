CREATE (:Seed);
