// A real Neo4j community server for the tests: the embedded database with its
// Bolt connector on 127.0.0.1, auth off (any user and password are accepted).
// Test infrastructure only; started and stopped by .ci/neo4j.sh.
//
//   java <flags> -cp out:<classpath> Launcher PORT HOME_DIR
//
// Prints "neo4j ready on 127.0.0.1:PORT" once the default database answers,
// then runs until it is killed (SIGTERM shuts the database down cleanly).

import java.nio.file.Path;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;

public final class Launcher {
    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        Path home = Path.of(args[1]);
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, 64L * 1024 * 1024)
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown));
        dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");
        System.out.println("neo4j ready on 127.0.0.1:" + port);
        System.out.flush();
        Thread.currentThread().join();
    }
}
