/**
 * idle-laptop plus processes whose names are hostile to whatever displays them: HTML (the web
 * dashboard must show `<img src=x onerror=alert(1)>` literally), a bidi override and a terminal
 * escape. Each keeps one long-lived TCP connection busy so it ranks among the apps. Not in
 * SCENARIOS (the scenario-wide client tests do not need it); `getScenario` finds it by name.
 */
import { TCPS } from '../world/entities.js';
import { idleLaptop } from './library.js';
import { periodic, remoteFor, rttFor, type Scenario } from './toolkit.js';

/** 28 bytes: whole in p_name (32 bytes, B15 on), cut to 16 in p_comm on older kernels. */
export const HOSTILE_NAMES = ['<img src=x onerror=alert(1)>', 'evil\u202Egnp.exe', 'a&b "quoted" <i>'] as const;

export const hostileNames: Scenario = {
  name: 'hostile-names',
  description: 'idle-laptop plus busy processes named like HTML, a bidi override and markup, for display-safety tests',
  install(ctx) {
    idleLaptop.install(ctx);
    const { world: w, rng } = ctx;
    const ifp = w.interfaces.get(4)!; // en0, the laptop's Wi-Fi (standardMachine)
    for (const name of HOSTILE_NAMES) {
      const proc = w.spawn(name);
      const remote = remoteFor(rng, 4, 443);
      const rtt = rttFor(rng, remote);
      const s = w.tcpSocket(proc, 4);
      w.tcpConnect(s, remote, ifp, rtt);
      w.tcpSetState(s, TCPS.ESTABLISHED);
      periodic(ctx, 1000, () => {
        if (!s.pcbDead) w.transfer(s, rng.int(20_000, 400_000), rng.int(2_000, 60_000));
      });
    }
  },
};
