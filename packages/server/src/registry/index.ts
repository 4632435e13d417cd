export { register, authenticateDevice, type RegisterInput, type RegisterResult } from './registration.js';
