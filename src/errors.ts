/**
 * Every failure ntstat reports is an NtstatError with a stable `code` string.
 * Codes are part of the public contract: add new ones, never rename.
 */
export type NtstatErrorCode =
  | 'ERR_NTSTAT_MALFORMED'        // bytes that do not form a valid message for the dialect
  | 'ERR_NTSTAT_RANGE'            // a value the wire allows but JS cannot represent exactly
  | 'ERR_NTSTAT_UNKNOWN_VERSION'  // a version string that names no known kernel/macOS
  | 'ERR_NTSTAT_UNSUPPORTED'      // a request the dialect cannot express
  | 'ERR_NTSTAT_UNSUPPORTED_OS'   // live kernel access on an OS without the control
  | 'ERR_NTSTAT_PERMISSION'       // EPERM/EACCES from the kernel or the OS
  | 'ERR_NTSTAT_KERNEL'           // the kernel answered ERROR (errno in `errno`)
  | 'ERR_NTSTAT_TRANSPORT'        // socket-level failure (send/recv/poll/close)
  | 'ERR_NTSTAT_NATIVE'           // the FFI (koffi) is missing or failed to load
  | 'ERR_NTSTAT_CAPTURE'          // corrupt, truncated or unsupported capture file
  | 'ERR_NTSTAT_USAGE'            // bad arguments to the CLI or API
  | 'ERR_NTSTAT_CLOSED'           // operation on a closed client/transport
  | 'ERR_NTSTAT_TIMEOUT'          // a request the kernel never answered
  | 'ERR_NTSTAT_LAYOUT'           // the kernel's message layout failed the self-test and could not be inferred
  | 'ERR_NTSTAT_DEPENDENCY'       // an optional package a feature needs is not installed
  | 'ERR_NTSTAT_BUSY'             // a resource another process holds (a second agent on one database)
  | 'ERR_NTSTAT_STORE';           // usage database missing, unreadable, or from a newer ntstat

export interface NtstatErrorDetails {
  /** Darwin errno number, when the failure carries one. */
  errno?: number;
  /** Byte offset into the input where decoding failed. */
  offset?: number;
  cause?: unknown;
}

export class NtstatError extends Error {
  readonly code: NtstatErrorCode;
  readonly errno?: number;
  readonly offset?: number;

  constructor(code: NtstatErrorCode, message: string, details: NtstatErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'NtstatError';
    this.code = code;
    if (details.errno !== undefined) this.errno = details.errno;
    if (details.offset !== undefined) this.offset = details.offset;
  }
}

export function isNtstatError(e: unknown, code?: NtstatErrorCode): e is NtstatError {
  return e instanceof NtstatError && (code === undefined || e.code === code);
}
