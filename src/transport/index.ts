/** Transports: importing this module loads no native code (koffi is loaded when a socket opens). */
export type { Transport, TransportHandlers } from './transport.js';
export { MemoryTransport, memoryPair, simulatorEndpoint } from './memory.js';
export type { KernelEndpoint, KernelRecord, MemoryTransportOptions } from './memory.js';
export { DatagramFdTransport } from './fd.js';
export { openDarwinControlSocket, readKernelVersion } from './darwin.js';
export { connectUnixDatagram } from './unix.js';
export { listInterfaces } from './ifnames.js';
export { openDatagramSocketPair, FdEndpoint } from './socketpair.js';
export { RecordingTransport } from './tee.js';
export { NtcapWriter, openNtcapFile, parseNtcap, Direction } from './ntcap.js';
export type { NtcapHeader, NtcapRecord, NtcapReader } from './ntcap.js';
export { parseLibntstat, readLibntstatFile, encodeLibntstatRecord } from './libntstat-reader.js';
