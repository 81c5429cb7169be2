// Starts the real mempulse stack (ingest synthetic -> readmodel -> gateway) on a private
// instance and a free loopback port, tracks the pids it started and stops only those.
// Shared by the browser tests and the soak bench.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readdirSync, rmSync, openSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const webUi = path.resolve(here, '..');
export const repo = path.resolve(webUi, '..');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Stack {
  /** @param {{rate?: number, build?: string, logDir?: string, gatewayEnv?: object, seed?: number}} o */
  constructor(o = {}) {
    const build = o.build ?? process.env.BUILD ?? 'build';
    this.build = path.resolve(repo, build);
    this.rate = o.rate ?? 200;
    this.seed = o.seed ?? 7;
    this.instance = `ui-test-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
    this.logDir = o.logDir ?? path.join(webUi, 'e2e', 'out');
    this.gatewayEnv = o.gatewayEnv ?? {};
    this.procs = new Map(); // name -> ChildProcess (only ones we started)
    this.gatewayStarts = 0;
  }

  bin(rel) {
    const p = path.join(this.build, rel);
    if (!existsSync(p)) throw new Error(`${p} not found: build the C code first (meson setup ${this.build} && ninja -C ${this.build}) or set BUILD`);
    return p;
  }

  #spawn(name, file, args, env = {}) {
    mkdirSync(this.logDir, { recursive: true });
    const log = openSync(path.join(this.logDir, `${this.instance}.${name}.log`), 'a');
    const p = spawn(file, args, { stdio: ['ignore', log, log], env: { ...process.env, ...env } });
    this.procs.set(name, p);
    p.exitInfo = null;
    p.on('exit', (code, sig) => (p.exitInfo = { code, sig }));
    return p;
  }

  async start() {
    if (!existsSync(path.join(webUi, 'dist', 'index.html'))) throw new Error('web-ui/dist missing: run npm run build');
    this.port = await freePort();
    this.base = `http://127.0.0.1:${this.port}`;
    const I = ['--instance', this.instance];
    this.#spawn('ingest', this.bin('ingest/mempulse-ingest'), [...I, '--source', 'synthetic', '--rate', String(this.rate), '--seed', String(this.seed)]);
    this.#spawn('readmodel', this.bin('readmodel/mempulse-readmodel'), I);
    await this.startGateway();
    return this;
  }

  async startGateway() {
    this.gatewayStarts++;
    this.#spawn('gateway', this.bin('gateway/mempulse-gateway'), ['--instance', this.instance, '--listen', `127.0.0.1:${this.port}`, '--static', path.join(webUi, 'dist')], this.gatewayEnv);
    await this.waitReady(20000);
  }

  /** SIGTERM the gateway (it sends RECONNECT, then drains) and wait for it to exit. */
  async stopGateway(timeoutMs = 15000) {
    const g = this.procs.get('gateway');
    if (!g) return;
    await this.#stop(g, timeoutMs);
    this.procs.delete('gateway');
  }

  async waitReady(timeoutMs) {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < end) {
      for (const [name, p] of this.procs) if (p.exitInfo) throw new Error(`${name} exited early (${JSON.stringify(p.exitInfo)}); see ${this.logDir}`);
      try {
        const r = await fetch(`${this.base}/readyz`);
        last = await r.text();
        if (r.status === 200 && JSON.parse(last).ready) return;
      } catch (e) {
        last = e.message;
      }
      await sleep(150);
    }
    throw new Error(`stack not ready after ${timeoutMs} ms: ${last}`);
  }

  async #stop(p, timeoutMs) {
    if (p.exitInfo) return;
    const done = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    const t = setTimeout(() => {
      if (!p.exitInfo) p.kill('SIGKILL');
    }, timeoutMs);
    await done;
    clearTimeout(t);
  }

  async stop() {
    for (const name of ['gateway', 'readmodel', 'ingest']) {
      const p = this.procs.get(name);
      if (p) await this.#stop(p, 10000);
      this.procs.delete(name);
    }
    for (const f of readdirSync('/dev/shm')) if (f.startsWith(`mempulse.${this.instance}.`)) rmSync(path.join('/dev/shm', f), { force: true });
  }

  /** Synchronous last-resort cleanup (process exit): SIGKILL our pids only. */
  killNow() {
    for (const p of this.procs.values()) if (!p.exitInfo) p.kill('SIGKILL');
    try {
      for (const f of readdirSync('/dev/shm')) if (f.startsWith(`mempulse.${this.instance}.`)) rmSync(path.join('/dev/shm', f), { force: true });
    } catch {
      /* best effort */
    }
  }
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
