/**
 * What if_nameindex() would list on the simulated machine: its attached interfaces, by index.
 * The world already names every interface (lo0 = 1, en0 = 4, …; scenarios/toolkit.ts).
 */
import type { World } from './world.js';

export function worldInterfaceTable(world: World): { index: number; name: string }[] {
  const out: { index: number; name: string }[] = [];
  for (const i of world.interfaces.values()) if (i.attached) out.push({ index: i.ifindex, name: i.name });
  return out.sort((a, b) => a.index - b.index);
}
