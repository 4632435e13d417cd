export { register, authenticateDevice, type RegisterInput, type RegisterResult } from './registration.js';
export { LastSeen } from './last-seen.js';
