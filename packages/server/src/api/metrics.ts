import client from 'prom-client';

/** Prometheus metrics of one Herald instance (its own registry, so several can share a process in tests). */
export class Metrics {
  readonly registry = new client.Registry();
  readonly adminRequests = new client.Counter({ name: 'herald_admin_requests_total', help: 'Admin API calls by command and answered ErrorCode', labelNames: ['command', 'code'], registers: [this.registry] });
  readonly pushAttemptsFailed = new client.Counter({ name: 'herald_push_attempts_failed_total', help: 'Failed attempts at sending an all-users or tag push (live pass, audience, shard, catch-up)', registers: [this.registry] });
  readonly pushesFailed = new client.Counter({ name: 'herald_pushes_failed_total', help: 'All-users and tag pushes given up on after failed attempts (status failed)', registers: [this.registry] });
  readonly rateLimited = new client.Counter({ name: 'herald_rate_limited_total', help: 'Requests and gateway auth frames refused by a rate limit (admin_auth, device_auth, registration)', labelNames: ['limit'], registers: [this.registry] });

  constructor(gauges: { connections: () => number; devicesOnline: () => number }) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
    new client.Gauge({ name: 'herald_gateway_connections', help: 'Open gateway WebSocket connections', registers: [this.registry], collect() { this.set(gauges.connections()); } });
    new client.Gauge({ name: 'herald_gateway_devices_online', help: 'Authenticated device sessions', registers: [this.registry], collect() { this.set(gauges.devicesOnline()); } });
  }
}
