import client from 'prom-client';

/** Prometheus metrics of one Herald instance (its own registry, so several can share a process in tests). */
export class Metrics {
  readonly registry = new client.Registry();
  readonly adminRequests = new client.Counter({ name: 'herald_admin_requests_total', help: 'Admin API calls by command and answered ErrorCode', labelNames: ['command', 'code'], registers: [this.registry] });
  readonly pushAttemptsFailed = new client.Counter({ name: 'herald_push_attempts_failed_total', help: 'Failed attempts at sending an all-users or tag push (live pass, audience, shard, catch-up)', registers: [this.registry] });
  readonly pushesFailed = new client.Counter({ name: 'herald_pushes_failed_total', help: 'All-users and tag pushes given up on after failed attempts (status failed)', registers: [this.registry] });
  readonly certificateStops = new client.Counter({ name: 'herald_certificate_stops_total', help: 'Certificates stopped because their vendor refused them, by vendor', labelNames: ['vendor'], registers: [this.registry] });
  readonly rateLimited = new client.Counter({ name: 'herald_rate_limited_total', help: 'Requests and gateway auth frames refused by a rate limit (admin_auth, device_auth, registration)', labelNames: ['limit'], registers: [this.registry] });

  /** `stoppedCertificates`: the certificates stopped now, read from the store at each scrape. */
  constructor(gauges: { connections: () => number; devicesOnline: () => number; stoppedCertificates?: () => Promise<readonly { sdkAppId: number; certId: number; vendor: string }[]> }) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
    const stopped = gauges.stoppedCertificates;
    if (stopped) {
      new client.Gauge({
        name: 'herald_certificate_stopped',
        help: 'Certificates stopped because their vendor refused them (1 each, by app, certificate and vendor); replacing one resumes it',
        labelNames: ['sdkappid', 'cert_id', 'vendor'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const c of await stopped()) this.set({ sdkappid: String(c.sdkAppId), cert_id: String(c.certId), vendor: c.vendor }, 1);
        },
      });
    }
    new client.Gauge({ name: 'herald_gateway_connections', help: 'Open gateway WebSocket connections', registers: [this.registry], collect() { this.set(gauges.connections()); } });
    new client.Gauge({ name: 'herald_gateway_devices_online', help: 'Authenticated device sessions', registers: [this.registry], collect() { this.set(gauges.devicesOnline()); } });
  }
}
