/**
 * Herald under test: the real server (startHerald) on the store herald-seed.ts prepared (SQLite, the
 * embedded default, unless HERALD_DATABASE_URL is set). Pushes reach it through the real admin REST
 * API, devices through the real gateway.
 */
import { loadConfig } from '../../packages/server/src/config.js';
import { startHerald } from '../../packages/server/src/herald.js';
import { serveIpc } from './server-ipc.js';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: herald-server.ts <dataDir>');

const herald = await startHerald(
  loadConfig({ ...process.env, HERALD_PORT: '0', HERALD_HOST: '127.0.0.1', HERALD_DATA_DIR: dataDir, HERALD_LOG_LEVEL: process.env.HERALD_LOG_LEVEL ?? 'warn' }),
);
serveIpc(herald.url, () => herald.close());
