// Parse Server 9 for bench/compare-parse.mjs: one process, one app, on loopback, against the
// Postgres database named in DATABASE_URI. Started (from a scratch directory, where Parse's
// logger writes ./logs) and stopped by the benchmark.
import express from 'express';
import { ParseServer } from 'parse-server';

const port = Number(process.env.PORT);
const server = new ParseServer({
  databaseURI: process.env.DATABASE_URI,
  appId: process.env.APP_ID,
  masterKey: process.env.MASTER_KEY,
  serverURL: `http://127.0.0.1:${port}/parse`,
  allowClientClassCreation: true,
  logLevel: 'error',
});
await server.start();
const app = express();
app.use('/parse', server.app);
app.get('/ready', (_req, res) => res.send('ok'));
const http = app.listen(port, '127.0.0.1');
const stop = () => {
  http.close();
  void server.handleShutdown?.().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
