/** The pure protocol layer: no I/O, no timers. */
export * from './constants.js';
export { allDialects, layoutFamilies, dialectFor, parseVersion, macosForDarwin, provisionalDialects } from './dialect.js';
export type { Dialect, StructLayout, FieldLayout, ConstantValue, VersionKind, ParsedVersion, ProvisionalInfo } from './dialect.js';
export { decodeDatagram, scanDatagram } from './decode.js';
export type { DecodeOptions } from './decode.js';
export { encodeMessage, encodeRequest, aggregate } from './encode.js';
export * from './messages.js';
export { formatIPv4, formatIPv6, decodeSockaddr, encodeSockaddr, endpointAddressText } from './sockaddr.js';
export type { Endpoint } from './sockaddr.js';
export type { ActivityBitmap, FieldValue } from './fields.js';
export { IFNET_MIN_THRESHOLD, hasIfnetProvider, encodeIfnetAddParam, decodeIfnetLinkStatus, encodeIfnetLinkStatus } from './ifnet.js';
export type { IfnetLinkStatus, LinkStatusType } from './ifnet.js';
