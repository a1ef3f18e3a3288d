// Must compile: typed events and payloads through the public .d.ts (dist/index.d.ts).
import { NetworkStatisticsClient, list, type DropInfo, type Stream, type StreamEvent } from '../dist/index.js';

const client = new NetworkStatisticsClient({ providers: ['tcp'] });
client.on('added', (s, ev) => {
  const pid: number | undefined = s.pid;
  const kind: StreamEvent['event'] = ev.event;
  void pid;
  void kind;
});
client.on('drop', (d) => {
  const info: DropInfo = d;
  void info;
});
client.on('sweep', (n) => void (n + 1));
client.once('warning', (w) => void w.toUpperCase());
const flows: Promise<Stream[]> = list({ providers: ['tcp', 'udp'] });
void flows;
