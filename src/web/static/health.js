// The Health view: kernel, dialect and its verification, providers, drops, database, interfaces.
import { bytes, clear, count, dateTime, duration, el, getJson, shown } from './format.js';

const $ = (id) => document.getElementById(id);

function kv(dl, pairs) {
  clear(dl);
  for (const [k, v, cls] of pairs) {
    dl.append(el('dt', '', k));
    dl.append(el('dd', cls ?? '', v));
  }
}

export async function refreshHealth() {
  const [st, live] = await Promise.all([getJson('/api/status'), getJson('/api/live')]);
  const k = st.kernel;
  kv($('h-kernel'), [
    ['XNU', k.xnu ? `xnu-${k.xnu}` : 'unknown'],
    ['macOS', k.macos ?? 'unknown'],
    ['Dialect', k.dialect],
    ['Verification', k.verified ? 'verified layout' : 'unverified (newest layout assumed)', k.verified ? 'ok-text' : 'bad-text'],
    ['Kernel', k.simulated ? 'simulated (not a real Mac)' : 'live'],
  ]);
  const agent = [
    ['Started', `${dateTime(st.startedAt)} (${duration(st.now - st.startedAt)} ago)`],
    ['Live streams', count(st.streams)],
    ['Listening', st.listen.url + (st.listen.remote ? ' (remote access allowed)' : ' (loopback only)')],
  ];
  if (st.db) {
    agent.push(['Database', shown(st.db.path)], ['Database size', bytes(st.db.sizeBytes)], ['Last flush', st.db.lastFlush ? dateTime(st.db.lastFlush) : 'not yet']);
  } else agent.push(['Database', 'none (--no-db)']);
  kv($('h-agent'), agent);
  const ptb = document.querySelector('#h-providers tbody');
  clear(ptb);
  for (const p of st.providers) {
    const tr = el('tr');
    tr.append(el('td', 'l', p.name), el('td', `l ${p.available ? 'ok-text' : 'bad-text'}`, p.available ? 'available' : 'unavailable'), el('td', 'l muted', p.reason ?? ''));
    ptb.append(tr);
  }
  const drops = [['Total', count(st.drops.total), st.drops.total ? 'bad-text' : 'ok-text']];
  for (const [r, n] of Object.entries(st.drops.byReason)) drops.push([r, count(n)]);
  kv($('h-drops'), drops);
  const itb = document.querySelector('#h-ifaces tbody');
  clear(itb);
  for (const i of live.interfaces) {
    const tr = el('tr');
    tr.append(el('td', 'l', shown(i.name)), el('td', 'l', shown(i.kind)), el('td', 'rx', bytes(i.rxBytes)), el('td', 'tx', bytes(i.txBytes)), el('td', 'l muted', i.source));
    itb.append(tr);
  }
}
