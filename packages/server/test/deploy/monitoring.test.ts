/**
 * The monitoring files in deploy/: the alert rules pass `promtool check rules` and their
 * unit tests (`promtool test rules`), the scrape configuration passes `promtool check
 * config`, and every series the rules and the Grafana dashboard query is one the real
 * service exports on its health port (read from a started service with TLS, so the
 * certificate-expiry series is there too). Every alert names a runbook that exists, and
 * every runbook names an alert that exists (or says none fires).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { tempDir } from '../helpers/files.js';
import { killService, serviceEnv, startService, type ServiceProcess } from '../helpers/process.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { selfSignedCertificate } from '../helpers/tls.js';

const PROM = join(REPO_ROOT, 'deploy', 'prometheus');
const RUNBOOKS = join(REPO_ROOT, 'docs', 'operations', 'runbooks');
/** Series from outside the service: Prometheus' own, and the blackbox exporter's TLS probe. */
const FOREIGN = new Set(['up', 'probe_ssl_earliest_cert_expiry']);

function promtool(args: string[], cwd = PROM): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error)
    throw new Error(
      `promtool could not run (${result.error.message}): npm test installs it (Debian package prometheus)`,
    );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface Rule {
  alert: string;
  expr: string;
  annotations: { runbook_url?: string };
}
const rules = (): Rule[] =>
  (
    parse(readFileSync(join(PROM, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }
  ).groups.flatMap((g) => g.rules);

/** The series names a PromQL expression reads (label values and functions left out). */
function seriesIn(expr: string): string[] {
  const bare = expr.replace(/\{[^}]*\}/g, '{}').replace(/"[^"]*"/g, '""');
  return [
    ...bare.matchAll(/\b(camera_service_\w+|process_\w+|nodejs_\w+|probe_\w+|up)\b(?!\s*\()/g),
  ].map((m) => m[1]!);
}

/** Every series name the service exports, histograms with their _bucket/_sum/_count. */
function exportedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (!type) continue;
    names.add(type[1]!);
    if (type[2] === 'histogram' || type[2] === 'summary')
      for (const s of ['_bucket', '_sum', '_count']) names.add(`${type[1]}${s}`);
  }
  return names;
}

describe('alert rules, scrape configuration and dashboard', () => {
  let service: (ServiceProcess & { healthUrl: string }) | undefined;
  let exported = new Set<string>();
  before(async () => {
    const dir = tempDir();
    const tls = selfSignedCertificate(30);
    service = await startService(
      [],
      serviceEnv(dir, {
        CAMERA_SERVICE_SERVER_TLS_CERT: tls.cert,
        CAMERA_SERVICE_SERVER_TLS_KEY: tls.key,
        CAMERA_SERVICE_CAMERAS: JSON.stringify([
          { id: 'cam', test_pattern: { size: '320x240', fps: 10, clock: false } },
        ]),
      }),
    );
    const metrics = await (await fetch(`${service.healthUrl}/metrics`)).text();
    exported = exportedNames(metrics);
    // The certificate's notAfter, 30 days ahead as made.
    const expiry = /^camera_service_tls_certificate_expiry_timestamp_seconds (\d+)/m.exec(metrics);
    assert.ok(expiry, 'the certificate expiry series is exported with TLS on');
    const days = (Number(expiry[1]) - Date.now() / 1000) / 86400;
    assert.ok(days > 29 && days <= 30.01, `expires in ${days} days`);
  });
  after(async () => {
    if (service) await killService(service);
  });

  it('promtool check rules accepts alerts.yml', () => {
    const { status, output } = promtool(['check', 'rules', 'alerts.yml']);
    assert.equal(status, 0, output);
    assert.match(output, new RegExp(`SUCCESS: ${rules().length} rules found`));
  });

  it('the alert unit tests pass (promtool test rules)', () => {
    const { status, output } = promtool(['test', 'rules', 'alerts.test.yml']);
    assert.equal(status, 0, output);
    assert.match(output, /SUCCESS/);
    // Every alert is tested firing somewhere.
    const tests = readFileSync(join(PROM, 'alerts.test.yml'), 'utf8');
    for (const { alert } of rules()) {
      assert.match(
        tests,
        new RegExp(`alertname: ${alert}\\n\\s+exp_alerts:\\n\\s+- exp_labels`),
        `${alert} is tested firing`,
      );
    }
  });

  it('promtool check config accepts a prometheus.yml with scrape.yml and the rules', () => {
    const dir = tempDir();
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      `global:\n  scrape_interval: 15s\nrule_files:\n  - ${join(PROM, 'alerts.yml')}\n${readFileSync(join(PROM, 'scrape.yml'), 'utf8')}`,
    );
    const { status, output } = promtool(['check', 'config', config], dir);
    assert.equal(status, 0, output);
    const scrape = parse(readFileSync(join(PROM, 'scrape.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; metrics_path: string }[];
    };
    const job = scrape.scrape_configs.find((j) => j.job_name === 'camera-service');
    assert.equal(job?.metrics_path, '/metrics');
  });

  it('the rules read only series the service exports', () => {
    for (const rule of rules()) {
      const names = seriesIn(rule.expr);
      assert.ok(names.length > 0, `${rule.alert} reads a series`);
      for (const name of names)
        assert.ok(
          FOREIGN.has(name) || exported.has(name),
          `${rule.alert}: the service exports no ${name}`,
        );
    }
  });

  it('every Grafana panel queries series the service exports', () => {
    const dashboard = JSON.parse(
      readFileSync(join(REPO_ROOT, 'deploy', 'grafana', 'camera-service.json'), 'utf8'),
    ) as {
      uid: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    assert.equal(dashboard.uid, 'camera-service');
    assert.ok(dashboard.panels.length >= 10);
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets.length > 0, `${panel.title} has a query`);
      for (const { expr } of panel.targets) {
        assert.match(expr, /job="camera-service"/, `${panel.title} selects the scrape job`);
        for (const name of seriesIn(expr)) {
          used.add(name);
          assert.ok(
            FOREIGN.has(name) || exported.has(name),
            `${panel.title}: the service exports no ${name}`,
          );
        }
      }
    }
    for (const main of [
      'camera_service_cameras',
      'camera_service_mediamtx_up',
      'camera_service_storage_usage_percent',
      'camera_service_rpc_requests_total',
    ])
      assert.ok(used.has(main), `the dashboard shows ${main}`);
  });

  it('every alert names a runbook that exists, and every runbook an alert that exists', () => {
    const alerts = new Set(rules().map((r) => r.alert));
    for (const rule of rules()) {
      const url = rule.annotations.runbook_url;
      assert.ok(url, `${rule.alert} has a runbook_url`);
      assert.ok(existsSync(join(REPO_ROOT, url)), `${rule.alert}: ${url} exists`);
    }
    const runbooks = readdirSync(RUNBOOKS).filter((f) => f.endsWith('.md') && f !== 'README.md');
    for (const required of [
      'camera-not-detected',
      'stream-not-starting',
      'disk-full',
      'media-server-down',
      'recording-failed',
      'login-lockout-or-rate-limit',
      'certificate-renewal',
      'upgrade-and-rollback',
      'restore-from-backup',
    ])
      assert.ok(runbooks.includes(`${required}.md`), `runbook ${required}.md exists`);
    for (const file of runbooks) {
      const text = readFileSync(join(RUNBOOKS, file), 'utf8');
      const line = /^\*\*Alert(?:s)?:\*\* (.+)$/m.exec(text);
      assert.ok(line, `${file} has an "**Alert:**" line`);
      const named = [...line[1]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!);
      if (named.length === 0)
        assert.match(line[1]!, /^none\b/i, `${file} names an alert or says none`);
      for (const name of named)
        assert.ok(alerts.has(name), `${file} names ${name}, which alerts.yml has`);
      for (const heading of ['## Symptoms', '## Diagnose', '## Fix'])
        assert.ok(text.includes(heading), `${file} has ${heading}`);
    }
  });
});
