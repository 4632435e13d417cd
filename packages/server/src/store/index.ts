export { openStore, type Store, type StoreOptions, type Dialect } from './db.js';
export type { Database } from './schema.js';
export * as apps from './apps.js';
export { AppDirectory, type App, DEFAULT_ADMIN } from './apps.js';
export * as devices from './devices.js';
export * as inbox from './inbox.js';
export * as tasks from './tasks.js';
export * as events from './events.js';
export * as audience from './audience.js';
