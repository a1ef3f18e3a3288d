/**
 * Subscription (BEHAVIOUR.md §1, §2.3, §9.4): open the transport with a large SO_RCVBUF, then
 * ADD_ALL_SRCS per provider with SUPPRESS_SRC_ADDED where the header has filters (10.11+), so the
 * initial walk cannot be cut short by a full queue — sources are learnt from sweeps.
 * ENOENT/ENOTSUP/EPERM/EALREADY make a provider "unavailable", never fatal.
 */
import { NtstatError } from '../errors.js';
import { DarwinErrno, constantBig, providerId, type ProviderName } from '../protocol/constants.js';
import { dialectFor } from '../protocol/dialect.js';
import { domainFilterBit } from '../model/domain.js';
import { FlushFailureSignal } from './loss.js';
import type { Completion } from './pending.js';
import { pidFilterFor } from './pid-filter.js';
import type { RequestChannel } from './requests.js';
import type { ClientSession } from './session.js';
import { SourceTable } from './source-table.js';
import { GROUPS } from './options.js';
import { explainSubscribeError } from './subscribe-error.js';
import { subscribeInterfaces } from './ifnet.js';
import type { TransportHandlers } from '../transport/transport.js';

/**
 * macOS 15 aggregates every ALL poll (§2.6): a 100-source chunk of updates (~50 KB, ~160 KB with
 * domain extensions) must fit the queue or it is lost silently, so the client asks for at least this.
 */
const MIN_RCVBUF_MACOS15 = 256 * 1024;

/** Open the injected or live transport, start reading, and size its receive buffer. */
export async function openTransport(s: ClientSession, handlers: TransportHandlers): Promise<void> {
  const { transport, dialect } = s.opts;
  if (transport) {
    if (!dialect) throw new NtstatError('ERR_NTSTAT_USAGE', 'an injected transport needs options.dialect (a Dialect or a version string)');
    s.transport = transport;
    s.dialect = typeof dialect === 'string' ? dialectFor(dialect) : dialect;
  } else {
    const { openKernelTransport } = await import('./live.js');
    const live = await openKernelTransport(s.opts.receiveBufferSize);
    s.transport = live.transport;
    s.dialect = dialect ? (typeof dialect === 'string' ? dialectFor(dialect) : dialect) : live.dialect;
    s.receiveBuffer = live.receiveBufferSize;
    if (!s.opts.flushFailures && live.flushFailures) s.flushSignal = new FlushFailureSignal(live.flushFailures);
    s.opts.interfaceNames ??= live.interfaceNames;
  }
  if (s.opts.flushFailures) s.flushSignal = new FlushFailureSignal(s.opts.flushFailures);
  if (s.dialect.warning) s.emit('warning', s.dialect.warning);
  s.table = new SourceTable(s.dialect);
  s.table.initialPhase = true;
  s.table.interfaceNames = s.opts.interfaceNames;
  s.transport.start({
    onDatagram: (d, truncated) => handlers.onDatagram(d, truncated),
    onClose: (err) => handlers.onClose(err),
    // The client reads each record during onDatagram only: decoding copies what it keeps (strings,
    // slices), the self-test's capture copies its records (calibration.ts collect). So the fd
    // transport may lend views of its receive buffer instead of a new ArrayBuffer per record.
    borrow: true,
  });
  const preset = s.transport.receiveBufferSize;
  if ((preset !== undefined || s.transport.setReceiveBufferSize) && !s.opts.passive) {
    const min = s.isMacos15() ? MIN_RCVBUF_MACOS15 : 0;
    const want = Math.max(s.opts.receiveBufferSize, min);
    // Set once and read back (§1): a transport that already set it is not asked again.
    let got: number | undefined = preset;
    if (preset === undefined) {
      try {
        got = s.transport.setReceiveBufferSize!(want);
      } catch (e) {
        s.emit('warning', `SO_RCVBUF ${want} refused (${(e as Error).message})`);
      }
    }
    if (got !== undefined) s.receiveBuffer = got;
    if (got !== undefined && got < min) {
      s.emit('warning', `receive buffer ${got} B is below one sweep chunk on this kernel (${min} B): sweeps can lose updates silently`);
    }
  }
}

/** ADD_ALL_SRCS per wanted provider (and SUBSCRIBE_SYSINFO); records each provider's status. */
export async function subscribe(s: ClientSession, channel: RequestChannel): Promise<void> {
  const d = s.dialect!;
  const wanted = new Set<ProviderName>();
  for (const g of s.opts.providers ?? ['tcp', 'udp']) for (const p of GROUPS[g] ?? []) wanted.add(p);
  // SUPPRESS_SRC_ADDED (10.11+): the walk reports nothing, so it cannot be cut short (§2.3).
  const suppress = constantBig(d, 'NSTAT_FILTER_SUPPRESS_SRC_ADDED') ?? 0n;
  const canFilter = d.structs.get('nstat_msg_add_all_srcs')?.byName.has('filter') ?? false;
  const byPid = s.opts.pid === undefined ? undefined : pidFilterFor(d, s.opts.pid);
  // SUBSCRIBE_SYSINFO succeeds silently and is always privileged (§2.8): only an ERROR speaks.
  // Requests are handled in order, so once a later request has completed, any ERROR for it
  // has arrived: subscribe to sysinfo first and judge it after the others.
  let sysinfo: { context: bigint; errno?: number } | undefined;
  if (wanted.has('sysinfo') && providerId(d, 'sysinfo') !== undefined && d.constants['NSTAT_MSG_TYPE_SUBSCRIBE_SYSINFO'] !== undefined) {
    const sub = { context: s.pending.allocate(), errno: undefined as number | undefined };
    sysinfo = sub;
    s.pending.expect(sub.context, (m) => {
      if (m.kind === 'error') sub.errno = m.errno;
    });
    channel.send({ kind: 'subscribeSysinfo', context: sub.context, flags: 0 });
  }
  let barrier = false;
  for (const name of wanted) {
    if (s.state !== 'subscribing') return;
    if (name === 'sysinfo' || name === 'ifnet') continue;
    const id = providerId(d, name);
    if (id === undefined) {
      s.providerStatus.set(name, { provider: name, available: false, reason: 'not in this kernel version' });
      continue;
    }
    let done: Completion;
    try {
      done = await channel.request((context) => ({
        kind: 'addAllSrcs',
        context,
        flags: 0,
        provider: id,
        filter: (canFilter ? suppress : 0n) | (byPid?.filter ?? 0n) | (s.opts.domains ? domainFilterBit(d.constants['NSTAT_FILTER_ALLOWED_EXTENSIONS_SHIFT'] as number | undefined) : 0n),
        events: 0n,
        targetPid: byPid?.targetPid ?? 0,
      }));
    } catch (e) {
      if (s.state !== 'subscribing') return;
      throw e;
    }
    if (s.layoutFailure) throw s.layoutFailure;
    barrier = true;
    if (done.kind === 'success') s.providerStatus.set(name, { provider: name, available: true });
    else s.providerStatus.set(name, { provider: name, available: false, errno: done.errno, reason: explainSubscribeError(done.errno) });
  }
  // ifnet has no watcher: ADD_SRC per interface (ifnet.ts).
  if (wanted.has('ifnet') && s.state === 'subscribing') await subscribeInterfaces(s, channel);
  if (wanted.has('sysinfo')) {
    if (!sysinfo) s.providerStatus.set('sysinfo', { provider: 'sysinfo', available: false, reason: 'not in this kernel version' });
    else {
      if (!barrier) await new Promise((r) => setTimeout(r, 100));
      s.pending.forget(sysinfo.context);
      s.providerStatus.set(
        'sysinfo',
        sysinfo.errno === undefined
          ? { provider: 'sysinfo', available: true }
          : { provider: 'sysinfo', available: false, errno: sysinfo.errno, reason: explainSubscribeError(sysinfo.errno) },
      );
    }
  }
  if (![...s.providerStatus.values()].some((p) => p.available)) {
    const why = [...s.providerStatus.values()].map((p) => `${p.provider}: ${p.reason}`).join('; ');
    const perm = [...s.providerStatus.values()].every((p) => p.errno === DarwinErrno.EPERM);
    throw new NtstatError(perm ? 'ERR_NTSTAT_PERMISSION' : 'ERR_NTSTAT_KERNEL', `no provider could be subscribed (${why})`);
  }
}
