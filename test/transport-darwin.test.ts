/**
 * openDarwinControlSocket and friends, on any OS, against a recording fake libc: exact calls,
 * exact bytes, every error path. Constants are checked against the documented facts
 * (BEHAVIOUR.md §0/§1 when ../shared is present, the values the XNU headers give otherwise) and
 * against docs/darwin.md's table, so code, docs and sources cannot drift apart.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isNtstatError, NtstatError } from '../src/errors.js';
import {
  CTL_INFO_SIZE, CTLIOCGINFO, DARWIN_CONSTANTS, DEFAULT_DARWIN_RECEIVE_BUFFER, encodeCtlInfo,
  encodeSockaddrCtl, ioc, IOC_IN, IOC_OUT, isTranslated, NSTAT_CONTROL_NAME, openDarwinControlSocket,
  readKernelVersion,
} from '../src/transport/darwin.js';
import { DARWIN, DARWIN_ERRNO, type Libc } from '../src/transport/libc.js';

// ---------------------------------------------------------------------------------------------
// Recording fake

interface Call {
  fn: string;
  args: (number | string | number[] | null)[];
}

type Reply = number | { errno: number };
interface Script {
  socket?: Reply;
  ioctl?: Reply;
  ctlId?: number;
  connect?: Reply;
  /** setsockopt results in order (default success). */
  setsockopt?: Reply[];
  rcvbuf?: number;
  translated?: number | { errno: number };
  sysctl?: Record<string, string>;
}

const FD = 7;

function fakeLibc(script: Script = {}) {
  const calls: Call[] = [];
  const fdFlags = new Map<number, number>();
  const flFlags = new Map<number, number>();
  let errno = 0;
  let rcvbuf = 8192;
  const reply = (r: Reply | undefined, ok: number): number => {
    if (r === undefined) return ok;
    if (typeof r === 'number') return r;
    errno = r.errno;
    return -1;
  };
  const bytes = (b: Uint8Array | null) => (b ? Array.from(b) : null);
  const libc: Libc = {
    os: DARWIN,
    errno: () => errno,
    socket(d, t, p) {
      calls.push({ fn: 'socket', args: [d, t, p] });
      return reply(script.socket, FD);
    },
    socketpair() {
      throw new Error('not used');
    },
    connect(fd, addr) {
      calls.push({ fn: 'connect', args: [fd, bytes(addr)] });
      return reply(script.connect, 0);
    },
    ioctl(fd, req, arg) {
      calls.push({ fn: 'ioctl', args: [fd, req, bytes(arg)] });
      const r = reply(script.ioctl, 0);
      if (r === 0) new DataView(arg.buffer, arg.byteOffset).setUint32(0, script.ctlId ?? 0x11223344, true);
      return r;
    },
    fcntl(fd, cmd, arg) {
      calls.push({ fn: 'fcntl', args: arg === undefined ? [fd, cmd] : [fd, cmd, arg] });
      if (cmd === DARWIN.F_GETFD) return fdFlags.get(fd) ?? 0;
      if (cmd === DARWIN.F_GETFL) return flFlags.get(fd) ?? 0x2; // O_RDWR
      if (cmd === DARWIN.F_SETFD) fdFlags.set(fd, arg ?? 0);
      if (cmd === DARWIN.F_SETFL) flFlags.set(fd, arg ?? 0);
      return 0;
    },
    setsockopt(fd, level, name, value) {
      calls.push({ fn: 'setsockopt', args: [fd, level, name, bytes(value)] });
      const r = reply(script.setsockopt?.shift(), 0);
      if (r === 0) rcvbuf = script.rcvbuf ?? new DataView(value.buffer, value.byteOffset).getInt32(0, true);
      return r;
    },
    getsockopt(fd, level, name, value, len) {
      calls.push({ fn: 'getsockopt', args: [fd, level, name, len[0]] });
      new DataView(value.buffer, value.byteOffset).setInt32(0, rcvbuf, true);
      len[0] = 4;
      return 0;
    },
    send() {
      throw new Error('not used');
    },
    recvmsg() {
      throw new Error('not used');
    },
    close(fd) {
      calls.push({ fn: 'close', args: [fd] });
      return 0;
    },
    sysctlbyname(name, old, oldlen) {
      calls.push({ fn: 'sysctlbyname', args: [name, old ? old.length : null, Number(oldlen[0])] });
      if (name === 'sysctl.proc_translated') {
        const t = script.translated ?? { errno: DARWIN_ERRNO.ENOENT };
        if (typeof t !== 'number') return reply(t, 0);
        if (old) new DataView(old.buffer, old.byteOffset).setInt32(0, t, true);
        oldlen[0] = 4n;
        return 0;
      }
      const s = script.sysctl?.[name];
      if (s === undefined) return reply({ errno: DARWIN_ERRNO.ENOENT }, 0);
      const enc = new TextEncoder().encode(s + '\0');
      if (old) {
        if (old.length < enc.length) return reply({ errno: DARWIN_ERRNO.ENOMEM }, 0);
        old.set(enc);
      }
      oldlen[0] = BigInt(enc.length);
      return 0;
    },
    poll() {
      throw new Error('not used');
    },
  };
  return { libc, calls };
}

const warnings = () => {
  const list: string[] = [];
  return { list, warn: (m: string) => list.push(m) };
};

const int32le = (v: number) => Array.from(new Uint8Array(new Int32Array([v]).buffer));

function open(script: Script = {}) {
  const f = fakeLibc(script);
  const w = warnings();
  try {
    const t = openDarwinControlSocket({ platform: 'darwin', libc: f.libc, warn: w.warn });
    return { ...f, w, t, err: undefined as unknown };
  } catch (err) {
    return { ...f, w, t: undefined, err };
  }
}

// ---------------------------------------------------------------------------------------------
// Bytes and ioctl numbers

describe('Darwin structs and ioctl numbers', () => {
  test('CTLIOCGINFO = _IOWR(\'N\', 3, struct ctl_info) = 0xc0644e03', () => {
    assert.equal(CTL_INFO_SIZE, 100);
    assert.equal(CTLIOCGINFO, 0xc0644e03);
    assert.equal(ioc(IOC_IN | IOC_OUT, 'N', 3, 100), 0xc0644e03);
    // The length field is masked to 13 bits (IOCPARM_MASK 0x1fff).
    assert.equal(ioc(IOC_OUT, 'N', 3, 0x2000 + 100), 0x40644e03);
  });

  test('ctl_info: ctl_id 0, then the name NUL-padded to 96 bytes', () => {
    const b = encodeCtlInfo(NSTAT_CONTROL_NAME);
    assert.equal(b.length, 100);
    assert.deepEqual(Array.from(b.subarray(0, 4)), [0, 0, 0, 0]);
    assert.equal(new TextDecoder().decode(b.subarray(4, 4 + 28)), 'com.apple.network.statistics');
    assert.ok(b.subarray(4 + 28).every((x) => x === 0), 'NUL padding');
    assert.throws(() => encodeCtlInfo('x'.repeat(96)), (e: unknown) => isNtstatError(e, 'ERR_NTSTAT_USAGE'));
    assert.equal(encodeCtlInfo('x'.repeat(95)).length, 100);
  });

  test('sockaddr_ctl: 32 bytes, len 32, AF_SYSTEM 32, AF_SYS_CONTROL 2, id, unit 0, reserved 0', () => {
    const b = encodeSockaddrCtl(0x01020304);
    assert.deepEqual(Array.from(b), [32, 32, 2, 0, 4, 3, 2, 1, 0, 0, 0, 0, ...new Array(20).fill(0)]);
    assert.deepEqual(Array.from(encodeSockaddrCtl(5, 9).subarray(8, 12)), [9, 0, 0, 0]);
  });
});

// ---------------------------------------------------------------------------------------------
// The opening sequence

describe('openDarwinControlSocket with a recording libc', () => {
  test('exact calls, in order, with exact bytes', () => {
    const { t, calls, w, err } = open({ ctlId: 0xabcd });
    assert.equal(err, undefined);
    assert.ok(t);
    const ctlInfo = Array.from(encodeCtlInfo('com.apple.network.statistics'));
    assert.deepEqual(calls, [
      { fn: 'sysctlbyname', args: ['sysctl.proc_translated', 4, 4] },
      { fn: 'socket', args: [32, 2, 2] },
      { fn: 'fcntl', args: [FD, 1] }, // F_GETFD
      { fn: 'fcntl', args: [FD, 2, 1] }, // F_SETFD FD_CLOEXEC
      { fn: 'fcntl', args: [FD, 3] }, // F_GETFL
      { fn: 'fcntl', args: [FD, 4, 0x2 | 0x4] }, // F_SETFL O_RDWR|O_NONBLOCK
      { fn: 'ioctl', args: [FD, 0xc0644e03, ctlInfo] },
      { fn: 'connect', args: [FD, [32, 32, 2, 0, 0xcd, 0xab, 0, 0, ...new Array(24).fill(0)]] },
      { fn: 'setsockopt', args: [FD, 0xffff, 0x1002, int32le(4 * 1024 * 1024)] },
      { fn: 'getsockopt', args: [FD, 0xffff, 0x1002, 4] },
      // DatagramFdTransport re-checks the flags; already set, so nothing is written.
      { fn: 'fcntl', args: [FD, 1] },
      { fn: 'fcntl', args: [FD, 3] },
    ]);
    assert.equal(t.kind, 'darwin');
    assert.equal(t.fd, FD);
    assert.equal(t.controlId, 0xabcd);
    assert.equal(t.receiveBufferSize, DEFAULT_DARWIN_RECEIVE_BUFFER);
    assert.equal(t.translated, false);
    assert.deepEqual(w.list, []);
  });

  test('receiveBufferSize option is what setsockopt receives', () => {
    const f = fakeLibc();
    openDarwinControlSocket({ platform: 'darwin', libc: f.libc, receiveBufferSize: 1 << 20, warn: () => {} });
    const set = f.calls.find((c) => c.fn === 'setsockopt');
    assert.deepEqual(set?.args, [FD, 0xffff, 0x1002, int32le(1 << 20)]);
  });

  test('SO_RCVBUF refused (ENOBUFS): halves until accepted and warns with the size granted', () => {
    const { t, calls, w } = open({ setsockopt: [{ errno: 55 }, { errno: 55 }] });
    const sizes = calls.filter((c) => c.fn === 'setsockopt').map((c) => c.args[3]);
    assert.deepEqual(sizes, [int32le(4 << 20), int32le(2 << 20), int32le(1 << 20)]);
    assert.equal(t?.receiveBufferSize, 1 << 20);
    assert.equal(w.list.length, 1);
    assert.match(w.list[0], /1048576/);
    assert.match(w.list[0], /kern\.ipc\.maxsockbuf/);
  });

  test('SO_RCVBUF refused for another reason: warns, keeps the default, still opens', () => {
    const { t, w } = open({ setsockopt: [{ errno: 1 }] });
    assert.ok(t);
    assert.equal(t.receiveBufferSize, 8192);
    assert.match(w.list[0], /drops/);
  });

  test('not macOS: ERR_NTSTAT_UNSUPPORTED_OS naming --simulate and replay, no native code touched', () => {
    let loaded = false;
    for (const platform of ['linux', 'win32', 'freebsd']) {
      assert.throws(
        () => openDarwinControlSocket({ platform, requireKoffi: () => ((loaded = true), {}) }),
        (e: unknown) =>
          isNtstatError(e, 'ERR_NTSTAT_UNSUPPORTED_OS') &&
          e.message.includes('--simulate') && e.message.includes('ntstat replay') && e.message.includes(platform),
      );
    }
    assert.equal(loaded, false);
  });

  test('koffi missing or broken: ERR_NTSTAT_NATIVE that says what to do, with the cause', () => {
    const cause = new Error("Cannot find module 'koffi'");
    const check = (e: unknown) =>
      isNtstatError(e, 'ERR_NTSTAT_NATIVE') && /npm install koffi/.test(e.message) &&
      /--simulate/.test(e.message) && e.message.includes(cause.message) && (e as Error).cause === cause;
    assert.throws(() => openDarwinControlSocket({ platform: 'darwin', requireKoffi: () => { throw cause; } }), check);
    // koffi loads but libSystem does not
    const broken = { load: () => { throw cause; } };
    assert.throws(() => openDarwinControlSocket({ platform: 'darwin', requireKoffi: () => broken }), check);
  });

  for (const [name, errno] of [['EPERM', 1], ['EACCES', 13]] as const) {
    test(`socket() ${name} (sandboxed app): ERR_NTSTAT_PERMISSION explaining the sandbox, nothing else called`, () => {
      const { err, calls } = open({ socket: { errno } });
      assert.ok(isNtstatError(err, 'ERR_NTSTAT_PERMISSION'), String(err));
      assert.equal(err.errno, errno);
      assert.match(err.message, new RegExp(name));
      assert.match(err.message, /sandbox/);
      assert.match(err.message, /Terminal/);
      assert.deepEqual(calls.map((c) => c.fn), ['sysctlbyname', 'socket']);
    });
  }

  test('socket() EMFILE: ERR_NTSTAT_TRANSPORT naming the errno', () => {
    const { err } = open({ socket: { errno: 24 } });
    assert.ok(isNtstatError(err, 'ERR_NTSTAT_TRANSPORT'));
    assert.equal(err.errno, 24);
    assert.match(err.message, /EMFILE.*too many open files/);
  });

  test('CTLIOCGINFO ENOENT (control not registered): UNSUPPORTED_OS, explains, fd closed', () => {
    const { err, calls } = open({ ioctl: { errno: 2 } });
    assert.ok(isNtstatError(err, 'ERR_NTSTAT_UNSUPPORTED_OS'), String(err));
    assert.equal(err.errno, 2);
    assert.match(err.message, /com\.apple\.network\.statistics/);
    assert.match(err.message, /ENOENT/);
    assert.match(err.message, /--simulate/);
    assert.deepEqual(calls.slice(-2).map((c) => c.fn), ['ioctl', 'close']);
    assert.deepEqual(calls.at(-1)?.args, [FD]);
  });

  test('CTLIOCGINFO other error: ERR_NTSTAT_TRANSPORT, fd closed', () => {
    const { err, calls } = open({ ioctl: { errno: 22 } });
    assert.ok(isNtstatError(err, 'ERR_NTSTAT_TRANSPORT'));
    assert.equal(err.errno, 22);
    assert.match(err.message, /EINVAL/);
    assert.equal(calls.at(-1)?.fn, 'close');
  });

  test('connect() EBUSY / ENOENT: ERR_NTSTAT_TRANSPORT with a hint; EPERM: PERMISSION; fd closed each time', () => {
    const busy = open({ connect: { errno: 16 } });
    assert.ok(isNtstatError(busy.err, 'ERR_NTSTAT_TRANSPORT'));
    assert.match(busy.err.message, /EBUSY.*too many clients/);
    assert.equal(busy.calls.at(-1)?.fn, 'close');
    const gone = open({ connect: { errno: 2 } });
    assert.match((gone.err as Error).message, /ENOENT.*retry/);
    const perm = open({ connect: { errno: 1 } });
    assert.ok(isNtstatError(perm.err, 'ERR_NTSTAT_PERMISSION'));
    assert.equal(perm.calls.at(-1)?.fn, 'close');
  });

  test('Rosetta (sysctl.proc_translated = 1): warns, says it works, opens anyway', () => {
    const { t, w } = open({ translated: 1 });
    assert.ok(t);
    assert.equal(t.translated, true);
    assert.equal(w.list.length, 1);
    assert.match(w.list[0], /Rosetta/);
    assert.match(w.list[0], /works/);
    assert.match(w.list[0], /arm64/);
  });

  test('proc_translated 0 or absent: no warning', () => {
    assert.equal(open({ translated: 0 }).w.list.length, 0);
    assert.equal(isTranslated(fakeLibc({ translated: 0 }).libc), false);
    assert.equal(isTranslated(fakeLibc().libc), false);
  });
});

describe('readKernelVersion', () => {
  const sysctl = {
    'kern.version': 'Darwin Kernel Version 24.5.0: Tue Apr 22 19:54:29 PDT 2025; root:xnu-11417.121.6~2/RELEASE_ARM64_T6041',
    'kern.osrelease': '24.5.0',
    'kern.osproductversion': '15.5',
  };

  test('reads the three strings, each with a size query first', () => {
    const f = fakeLibc({ sysctl });
    assert.deepEqual(readKernelVersion(f.libc), {
      version: sysctl['kern.version'],
      osrelease: '24.5.0',
      osproductversion: '15.5',
    });
    assert.deepEqual(f.calls.map((c) => [c.args[0], c.args[1]]), [
      ['kern.version', null], ['kern.version', sysctl['kern.version'].length + 2],
      ['kern.osrelease', null], ['kern.osrelease', 8],
      ['kern.osproductversion', null], ['kern.osproductversion', 6],
    ]);
  });

  test('kern.osproductversion absent (old kernels): omitted, not faked', () => {
    const { 'kern.osproductversion': _, ...old } = sysctl;
    const v = readKernelVersion(fakeLibc({ sysctl: old }).libc);
    assert.equal('osproductversion' in v, false);
  });

  test('kern.version unreadable: ERR_NTSTAT_TRANSPORT', () => {
    assert.throws(() => readKernelVersion(fakeLibc({ sysctl: {} }).libc), (e: unknown) => e instanceof NtstatError);
  });
});

// ---------------------------------------------------------------------------------------------
// Constants against facts and docs

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const SHARED = process.env.NTSTAT_SHARED_DIR ?? resolve(REPO, '../shared');
const BEHAVIOUR = resolve(SHARED, 'xnu/BEHAVIOUR.md');
const HAVE_BEHAVIOUR = existsSync(BEHAVIOUR);
const behaviourSkip =
  HAVE_BEHAVIOUR || process.env.CI_REQUIRE_SHARED ? {} : { skip: `${BEHAVIOUR} absent (set NTSTAT_SHARED_DIR, or CI_REQUIRE_SHARED=1 to make this a failure)` };

/** The values XNU's headers give (see docs/darwin.md for the header of each). */
const FACTS = {
  PF_SYSTEM: 32, AF_SYSTEM: 32, SOCK_DGRAM: 2, SYSPROTO_CONTROL: 2, AF_SYS_CONTROL: 2, MAX_KCTL_NAME: 96,
  CTLIOCGINFO: 0xc0644e03, SOL_SOCKET: 0xffff, SO_RCVBUF: 0x1002, SO_SNDBUF: 0x1001, MSG_TRUNC: 0x10,
  MSG_DONTWAIT: 0x80, F_GETFD: 1, F_SETFD: 2, F_GETFL: 3, F_SETFL: 4, FD_CLOEXEC: 1, O_NONBLOCK: 4,
};

describe('Darwin constants', () => {
  test('match the header values', () => {
    assert.deepEqual({ ...DARWIN_CONSTANTS }, FACTS);
  });

  test('errno values match BEHAVIOUR.md §0 and socket constants match §1', behaviourSkip, () => {
    const text = readFileSync(BEHAVIOUR, 'utf8');
    const s0 = text.slice(text.indexOf('## 0.'), text.indexOf('## 1.'));
    const listed = s0.slice(s0.indexOf('Errno values'));
    const pairs = [...listed.matchAll(/\b(E[A-Z]+)\**\s+(\d+)/g)].map((m) => [m[1], Number(m[2])] as const);
    assert.ok(pairs.length >= 10, `found ${pairs.length} errno values in §0`);
    for (const [name, value] of pairs) {
      assert.equal(DARWIN_ERRNO[name as keyof typeof DARWIN_ERRNO], value, name);
    }
    const s1 = text.slice(text.indexOf('## 1.'), text.indexOf('## 2.'));
    assert.match(s1, /PF_SYSTEM=32/);
    assert.match(s1, /SYSPROTO_CONTROL=2/);
    assert.match(s1, /AF_SYSTEM 32/);
    assert.match(s1, /AF_SYS_CONTROL 2/);
    assert.match(s1, /_IOWR\('N',3,ctl_info\)/);
    assert.match(s1, /ctl_name\[96\]/);
    assert.match(s1, /32 bytes/);
  });

  test('docs/darwin.md lists every constant with its value and an XNU header, matching the code', () => {
    const doc = readFileSync(resolve(REPO, 'docs/darwin.md'), 'utf8');
    const rows = new Map<string, { value: number; source: string }>();
    for (const m of doc.matchAll(/^\|\s*`([A-Z_]+)`\s*\|\s*(0x[0-9a-f]+|\d+)\s*\|([^|]+)\|/gim)) {
      assert.equal(rows.has(m[1]), false, `${m[1]} listed twice`);
      rows.set(m[1], { value: Number(m[2]), source: m[3].trim() });
    }
    const all: Record<string, number> = { ...DARWIN_CONSTANTS, ...DARWIN_ERRNO };
    for (const [name, value] of Object.entries(all)) {
      const row = rows.get(name);
      assert.ok(row, `${name} missing from docs/darwin.md`);
      assert.equal(row.value, value, `${name} in docs/darwin.md`);
      assert.match(row.source, /^`bsd\/sys\/[a-z_]+\.h`/, `${name} source`);
    }
  });
});
