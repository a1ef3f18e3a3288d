/**
 * Interface names over `--socket PATH`: the protocol carries only a flow's ifindex, so a client of
 * `ntstat serve` asks the simulator's side channel `PATH.flows` (flow-channel.ts) for the simulated
 * machine's interfaces: it writes `{"interfaces":true}` and reads one JSON line
 * `{"interfaces":[{"index":1,"name":"lo0"},…]}`. Where no channel listens (a relay from a Mac, an
 * other implementation) the table is empty and interfaces show as `if<index>`.
 */
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { sanitizeInterfaceTable, type InterfaceEntry } from '../model/interface-names.js';
import { flowChannelPath } from './flow-channel.js';

/** Largest answer read (a table of a few hundred interfaces fits easily). */
const MAX_ANSWER = 256 * 1024;

/** The interfaces the simulator behind `socketPath` reports; [] when there is no channel or no valid answer. */
export function queryInterfaceChannel(socketPath: string, timeoutMs = 5000): Promise<InterfaceEntry[]> {
  const path = flowChannelPath(socketPath);
  if (!existsSync(path)) return Promise.resolve([]);
  return new Promise((resolve) => {
    let buf = '';
    let done = false;
    const conn = connect(path);
    const finish = (table: InterfaceEntry[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.destroy();
      resolve(table);
    };
    const timer = setTimeout(() => finish([]), timeoutMs);
    timer.unref?.();
    conn.setEncoding('utf8');
    conn.on('error', () => finish([]));
    conn.on('close', () => finish([]));
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_ANSWER) return finish([]);
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        finish(sanitizeInterfaceTable((JSON.parse(buf.slice(0, nl)) as { interfaces?: unknown }).interfaces));
      } catch {
        finish([]);
      }
    });
    conn.write('{"interfaces":true}\n');
  });
}
