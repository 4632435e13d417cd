export { Gateway, GATEWAY_PATH, type GatewayDeps, type GatewayStats } from './gateway.js';
export type { AuthedDevice } from './session.js';
export { revokeFrame, CloseCode } from './frames.js';
