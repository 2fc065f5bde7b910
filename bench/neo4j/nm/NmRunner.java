// neo4j-migrations 2.19.2 applying bench/neo4j/corpus/nm once, per statement
// (its mode for files that mix schema and data), like a project's boot would.
//   java -cp out:<jars> NmRunner FOLDER BOLT_URI   prints apply_ms=N
// (the apply() call alone, from a connected driver to its return).

import ac.simons.neo4j.migrations.core.Migrations;
import ac.simons.neo4j.migrations.core.MigrationsConfig;
import java.nio.file.Path;
import org.neo4j.driver.AuthTokens;
import org.neo4j.driver.GraphDatabase;

public final class NmRunner {
    public static void main(String[] args) throws Exception {
        String folder = Path.of(args[0]).toAbsolutePath().toUri().toString();
        try (var driver = GraphDatabase.driver(args[1], AuthTokens.basic("neo4j", "unused"))) {
            driver.verifyConnectivity();
            var config = MigrationsConfig.builder()
                    .withLocationsToScan(folder)
                    .withTransactionMode(MigrationsConfig.TransactionMode.PER_STATEMENT)
                    .build();
            var migrations = new Migrations(config, driver);
            long started = System.nanoTime();
            var version = migrations.apply();
            double ms = (System.nanoTime() - started) / 1e6;
            if (version.isEmpty()) throw new IllegalStateException("nothing applied");
            System.out.printf("apply_ms=%.1f%n", ms);
        }
    }
}
