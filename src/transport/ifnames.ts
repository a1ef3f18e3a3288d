/**
 * The machine's interfaces (index -> BSD name) from the C library's if_nameindex(3), through
 * koffi, loaded only when called. Darwin's libSystem and glibc both have it with the same struct
 * (net/if.h: `struct if_nameindex { unsigned int if_index; char *if_name; }`, 16 bytes on LP64),
 * an array ended by an entry with index 0 and a NULL name, released with if_freenameindex(3).
 * So the same binding runs on this Linux machine, where /sys/class/net is an independent truth.
 */
import { NtstatError } from '../errors.js';
import type { InterfaceEntry } from '../model/interface-names.js';
import { errnoName, openLibcLibrary, type KoffiLike, type LoadLibcOptions } from './libc.js';

type Koffi = KoffiLike & {
  struct(fields: Record<string, string>): unknown;
  sizeof(type: unknown): number;
  decode(ref: unknown, offset: number, type: unknown): unknown;
};

interface IfNameIndexBinding {
  list(): InterfaceEntry[];
}

let cached: IfNameIndexBinding | undefined;

function bind(options: LoadLibcOptions): IfNameIndexBinding {
  const { koffi: k, lib, os } = openLibcLibrary(options);
  const koffi = k as Koffi;
  const ifNameIndex = lib.func('void *if_nameindex(void)');
  const ifFreeNameIndex = lib.func('void if_freenameindex(void *ptr)');
  const entry = koffi.struct({ if_index: 'unsigned int', if_name: 'const char *' });
  const size = koffi.sizeof(entry);
  return {
    list() {
      const head = ifNameIndex();
      if (head === null) {
        const errno = koffi.errno();
        throw new NtstatError('ERR_NTSTAT_NATIVE', `if_nameindex() failed (${errnoName(os, errno)})`);
      }
      try {
        const out: InterfaceEntry[] = [];
        // Bounded: no machine has a million interfaces; a missing terminator must not loop forever.
        for (let i = 0; i < 1 << 20; i++) {
          const e = koffi.decode(head, i * size, entry) as { if_index: number; if_name: string | null };
          if (e.if_index === 0 && e.if_name === null) break;
          if (e.if_name !== null) out.push({ index: e.if_index, name: e.if_name });
        }
        return out;
      } finally {
        ifFreeNameIndex(head);
      }
    },
  };
}

/**
 * The interfaces of this machine now, from if_nameindex(). Throws ERR_NTSTAT_NATIVE when koffi
 * cannot be loaded or the call fails, ERR_NTSTAT_UNSUPPORTED_OS where ntstat has no libc table.
 */
export function listInterfaces(options: LoadLibcOptions = {}): InterfaceEntry[] {
  const custom = options.requireKoffi !== undefined || options.platform !== undefined;
  const b = custom ? bind(options) : (cached ??= bind(options));
  return b.list();
}
