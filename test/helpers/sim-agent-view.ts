/**
 * The web tests' agent: the real UsageAgent over a real NetworkStatisticsClient on the simulator
 * (no mock), recording into the real UsageStore (a SQLite file in a temp directory), driven in
 * simulated time: `step(ms)` advances the kernel and sweeps (the agent emits 'poll' and flushes
 * every sweep), so tests bound work by simulated time, never the wall clock.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentStatus, AgentView, InterfaceUsage, ProcessUsage, UsageQuery } from '../../src/agent/types.js';
import { UsageAgent } from '../../src/agent/usage-agent.js';
import { NetworkStatisticsClient, type ClientProvider } from '../../src/client/client.js';
import type { Stream } from '../../src/model/stream.js';
import { SimKernel, SimulationDriver, type Scenario } from '../../src/simulator/index.js';
import { UsageStore } from '../../src/store/usage-store.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { settle } from './client-sim.js';

export interface SimViewOptions {
  scenario: string | Scenario;
  seed?: number;
  scale?: number;
  dialect?: string;
  /** ms epoch of simulated time 0 (default: a fixed date, so runs are reproducible). */
  epoch?: number;
  providers?: ClientProvider[];
}

/** The real UsageAgent, seen through AgentView, plus the simulation's controls. */
export class SimAgentView extends EventEmitter implements AgentView {
  readonly kernel: SimKernel;
  readonly driver: SimulationDriver;
  readonly client: NetworkStatisticsClient;
  readonly epoch: number;
  private agentValue?: UsageAgent;
  private history?: UsageStore;
  private readonly dir = mkdtempSync(join(tmpdir(), 'ntstat-web-test-'));

  constructor(o: SimViewOptions) {
    super();
    this.kernel = new SimKernel({ dialect: o.dialect ?? 'd10002', scenario: o.scenario, seed: o.seed ?? 3, scale: o.scale ?? 1 });
    this.driver = new SimulationDriver(this.kernel);
    this.epoch = o.epoch ?? Date.UTC(2026, 10, 27, 9, 0, 0);
    this.client = new NetworkStatisticsClient({
      transport: new MemoryTransport(this.kernel.connect({ root: false })),
      dialect: this.kernel.dialect,
      interval: 0,
      providers: o.providers ?? ['tcp', 'udp', 'quic'],
      clock: () => this.now(),
      requestTimeout: 3000,
    });
  }

  get agent(): UsageAgent {
    if (!this.agentValue) throw new Error('start() first');
    return this.agentValue;
  }

  now(): number {
    return this.epoch + this.kernel.now;
  }

  get dbPath(): string {
    return join(this.dir, 'usage.db');
  }

  async start(): Promise<void> {
    this.history = await UsageStore.open(this.dbPath, { record: true });
    this.agentValue = new UsageAgent({ client: this.client, sink: this.history, flushSeconds: 0, clock: () => this.now(), kernel: { xnu: this.kernel.profile.xnu.join('.'), simulated: true } });
    for (const ev of ['poll', 'flush', 'stream']) this.agentValue.on(ev, (...args: unknown[]) => this.emit(ev, ...args));
    await this.agent.start();
    await this.client.sweep();
  }

  /** Advance simulated time by `ms` and sweep (the agent emits 'poll' and flushes). */
  async step(ms = 1000): Promise<void> {
    this.driver.step(ms);
    await settle();
    await this.client.sweep();
  }

  stop(): void {
    this.client.stop();
    this.history?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  status(): AgentStatus {
    return this.agent.status();
  }
  processes(): ProcessUsage[] {
    return this.agent.processes();
  }
  interfaces(): InterfaceUsage[] {
    return this.agent.interfaces();
  }
  streams(): readonly Stream[] {
    return this.agent.streams();
  }
  store(): UsageQuery {
    if (!this.history) throw new Error('start() first');
    return this.history;
  }
}
