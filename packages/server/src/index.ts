export { startHerald, type Herald, type StartOptions } from './herald.js';
export { loadConfig, type HeraldConfig } from './config.js';
export { genUserSig, verifyUserSig } from './auth/usersig.js';
