/** `--socket PATH`: the protocol over a Unix datagram socket (a relay from a Mac, an external simulator). */
import { NtstatError } from '../errors.js';
import { selectDialect, type CliOptions } from './options.js';
import type { LiveSource } from './run-live.js';
import { InterfaceNames } from '../model/interface-names.js';

export async function socketSource(o: CliOptions): Promise<LiveSource> {
  const dialect = selectDialect(o, '--socket needs --xnu VERSION or --macos VERSION: the peer does not say which kernel it speaks for')!;
  const { connectUnixDatagram } = await import('../transport/unix.js');
  const transport = connectUnixDatagram(o.socket!);
  if (!transport) throw new NtstatError('ERR_NTSTAT_TRANSPORT', `cannot connect to ${o.socket}`);
  const { announcingFlowMaker } = await import('./flow-channel.js');
  // Interface names from `serve`'s side channel (interface-channel.ts); none from other peers.
  const { queryInterfaceChannel } = await import('./interface-channel.js');
  const path = o.socket!;
  const interfaceNames = new InterfaceNames(() => queryInterfaceChannel(path));
  await interfaceNames.refresh();
  return { transport, dialect, xnuLabel: o.xnu ?? dialect.xnu, calibrationFlows: announcingFlowMaker(path), interfaceNames };
}
