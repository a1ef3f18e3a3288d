/**
 * Why a provider could not be subscribed, in words (BEHAVIOUR.md §9.4): the ERROR errno of
 * ADD_ALL_SRCS. Its own module so the public client.d.ts re-exports it without reaching the
 * client's internal parts.
 */
import { DarwinErrno, darwinErrnoName } from '../protocol/constants.js';

export function explainSubscribeError(errno: number): string {
  switch (errno) {
    case DarwinErrno.ENOENT:
      return 'ENOENT: this kernel has no such provider';
    case DarwinErrno.ENOTSUP:
      return 'ENOTSUP: the provider cannot be watched';
    case DarwinErrno.EPERM:
      return 'EPERM: needs root or the network-statistics entitlement';
    case DarwinErrno.EALREADY:
      return 'EALREADY: already watched by this connection';
    case DarwinErrno.ENOBUFS:
    case DarwinErrno.ENOMEM:
      return `${darwinErrnoName(errno)}: the kernel queue was full during subscription`;
    default:
      return darwinErrnoName(errno);
  }
}
