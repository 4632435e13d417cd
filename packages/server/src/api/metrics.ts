import client from 'prom-client';

/** Prometheus metrics of one Herald instance (its own registry, so several can share a process in tests). */
export class Metrics {
  readonly registry = new client.Registry();
  readonly pushesAccepted = new client.Counter({ name: 'herald_pushes_accepted_total', help: 'Push tasks accepted by the admin API', labelNames: ['kind'], registers: [this.registry] });
  readonly adminErrors = new client.Counter({ name: 'herald_admin_errors_total', help: 'Admin API calls answered with an error code', labelNames: ['code'], registers: [this.registry] });

  constructor(gauges: { connections: () => number; devicesOnline: () => number }) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
    new client.Gauge({ name: 'herald_gateway_connections', help: 'Open gateway WebSocket connections', registers: [this.registry], collect() { this.set(gauges.connections()); } });
    new client.Gauge({ name: 'herald_gateway_devices_online', help: 'Authenticated device sessions', registers: [this.registry], collect() { this.set(gauges.devicesOnline()); } });
  }
}
