/**
 * dialectFor: every published tag, unpublished builds between tags, kern.version strings, macOS
 * versions, Darwin releases, future versions (unverified + warning) and unusable input.
 * Expected selections come from the JSON's versions[].tags / macosByTag and BEHAVIOUR.md §7
 * (Darwin 15 = 10.11 … 24 = 15).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NtstatError } from '../src/errors.js';
import { allDialects, dialectFor, type Dialect } from '../src/protocol/index.js';
import * as H from './helpers/facts.js';

function tuple(s: string): number[] {
  return s.split('.').map(Number);
}

function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return Math.sign(d);
  }
  return 0;
}

function unknownVersion(input: string, kind?: 'xnu' | 'macos' | 'darwin'): void {
  assert.throws(
    () => dialectFor(input, kind),
    (e: unknown) => {
      assert.ok(e instanceof NtstatError, `${JSON.stringify(input)}: ${String(e)}`);
      assert.equal(e.code, 'ERR_NTSTAT_UNKNOWN_VERSION', JSON.stringify(input));
      return true;
    },
    JSON.stringify(input),
  );
}

function is(d: Dialect, xnu: string, what: string): void {
  assert.equal(d.xnu, xnu, what);
  assert.equal(d.verified, true, `${what}: verified`);
  assert.equal(d.warning, undefined, `${what}: no warning`);
}

if (!H.facts) {
  test('dialectFor', H.needsFacts(), () => {
    H.mustFacts();
  });
} else {
  const F = H.facts;
  const newest = F.versions[F.versions.length - 1];
  // Every tag with the version that carries it, sorted by XNU version.
  const tags = F.versions
    .flatMap((v) => v.tags.map((t) => ({ tag: t, num: t.replace(/^xnu-/, ''), v })))
    .sort((a, b) => cmp(tuple(a.num), tuple(b.num)));

  describe('published XNU tags', () => {
    test(`every tag (${tags.length}) selects the version whose tags contain it`, () => {
      assert.equal(tags.length, F.dialects.reduce((n, g) => n + g.tags.length, 0), 'versions[].tags and dialects[].tags list the same tags');
      assert.equal(new Set(tags.map((t) => t.tag)).size, tags.length, 'no tag in two versions');
      for (const { tag, num, v } of tags) {
        is(dialectFor(tag), v.xnu, tag);
        is(dialectFor(num), v.xnu, num);
        is(dialectFor(num, 'xnu'), v.xnu, `${num} (kind xnu)`);
        is(dialectFor(`${tag}~3`), v.xnu, `${tag}~3`);
        assert.equal(dialectFor(tag).family, v.dialect, tag);
      }
    });

    test('a tag returns the shared dialect object of its header version', () => {
      for (const { tag, v } of tags) assert.equal(dialectFor(tag), allDialects().find((d) => d.xnu === v.xnu), tag);
    });
  });

  describe('unpublished builds select the newest header not later', () => {
    test('examples from the brief', () => {
      assert.ok(tags.some((t) => t.tag === 'xnu-4903.241.1'));
      const a = dialectFor('4903.250.1');
      is(a, '4903.221.2', '4903.250.1');
      assert.equal(a.family, 'd4570');
      is(dialectFor('8020.200.1'), '8019.80.24', '8020.200.1');
      is(dialectFor('xnu-8020.200.1~2'), '8019.80.24', 'xnu-8020.200.1~2');
    });

    test('a build just after each tag (tag + ".1") stays with that tag', () => {
      for (let i = 0; i < tags.length - 1; i++) {
        const between = `${tags[i].num}.1`;
        assert.ok(cmp(tuple(between), tuple(tags[i + 1].num)) < 0, `${between} < ${tags[i + 1].num}`);
        is(dialectFor(between), tags[i].v.xnu, between);
      }
    });

    test('a build just before each header version selects the previous header, unless it starts a release train', () => {
      // The first published tag of a release train (xnu major build: 7195, 8019, ...) stands for
      // the whole train: an earlier, unpublished build of the same train (macOS 11.0's
      // xnu-7195.41.x, 12.0's xnu-8019.30.x) has that train's layout, not the previous major's.
      const firstOfTrain = new Map<number, string>();
      for (const x of tags) if (!firstOfTrain.has(tuple(x.num)[0])) firstOfTrain.set(tuple(x.num)[0], x.v.xnu);
      let checkedTrainStarts = 0;
      for (let i = 1; i < F.versions.length; i++) {
        const t = tuple(F.versions[i].xnu);
        const before = [t[0], t[1] - 1, 999].join('.');
        if (cmp(tuple(before), tuple(tags.find((x) => x.v === F.versions[i - 1])!.num)) <= 0) continue;
        const startsTrain = firstOfTrain.get(t[0]) === F.versions[i].xnu && !tags.some((x) => tuple(x.num)[0] === t[0] && cmp(tuple(x.num), tuple(before)) <= 0);
        const expected = startsTrain ? F.versions[i].xnu : tags.filter((x) => cmp(tuple(x.num), tuple(before)) <= 0).pop()!.v.xnu;
        if (startsTrain) checkedTrainStarts++;
        is(dialectFor(`xnu-${before}`), expected, before);
      }
      assert.ok(checkedTrainStarts >= 5, `checked ${checkedTrainStarts} train starts`);
      is(dialectFor('7195.41.8'), '7195.50.7.100.1', 'macOS 11.0 build before the first published 11.x tag');
    });
  });

  describe('kern.version strings', () => {
    test('xnu-10002.41.9~6 and the whole kern.version string', () => {
      const v = F.versions.find((x) => x.tags.includes('xnu-10002.41.9'))!;
      is(dialectFor('xnu-10002.41.9~6'), v.xnu, 'xnu-10002.41.9~6');
      const kv = 'Darwin Kernel Version 23.1.0: Mon Oct  9 21:27:24 PDT 2023; root:xnu-10002.41.9~6/RELEASE_ARM64_T6000';
      is(dialectFor(kv), v.xnu, 'kern.version');
      assert.equal(dialectFor(kv).family, 'd10002');
      is(dialectFor(`  ${kv}\n`), v.xnu, 'kern.version with whitespace');
    });

    test('older kern.version strings', () => {
      is(dialectFor('Darwin Kernel Version 17.7.0: Thu Jun 21 22:53:14 PDT 2018; root:xnu-4570.71.2~1/RELEASE_X86_64'), '4570.1.46', '10.13.6');
      is(dialectFor('Darwin Kernel Version 15.6.0: Mon Aug 29 20:21:34 PDT 2016; root:xnu-3248.60.11~1/RELEASE_X86_64'), '3248.40.184', '10.11.6 build');
    });

    test('a kern.version without an xnu part falls back to the Darwin release', () => {
      is(dialectFor('Darwin Kernel Version 23.1.0: Mon Oct  9 21:27:24 PDT 2023'), F.versions.find((x) => x.tags.includes('xnu-10002.41.9'))!.xnu, 'darwin 23.1');
    });
  });

  describe('macOS versions', () => {
    test('every macOS release in macosByTag selects its header version', () => {
      const seen = new Map<string, string>();
      for (const v of F.versions) {
        for (const [tag, mac] of Object.entries(v.macosByTag)) {
          assert.equal(seen.has(mac), false, `facts: macOS ${mac} listed twice (${seen.get(mac)}, ${tag})`);
          seen.set(mac, tag);
          is(dialectFor(mac), v.xnu, `macOS ${mac}`);
          is(dialectFor(`macos:${mac}`), v.xnu, `macos:${mac}`);
          is(dialectFor(mac, 'macos'), v.xnu, `${mac} (kind macos)`);
        }
      }
    });

    test('examples: 13.4 -> 8792.41.9; 10.14 (no 10.14.0 tag) -> the 10.14 train (4903.221.2, same d4570 layout); point releases between tags', () => {
      is(dialectFor('13.4'), '8792.41.9', '13.4');
      assert.equal(Object.values(F.versions.flatMap((v) => Object.values(v.macosByTag))).includes('10.14'), false);
      // The first published 10.14 tag (10.14.1) stands for its release train; 10.13's header would
      // give the same d4570 layout but the older constants.
      is(dialectFor('10.14'), '4903.221.2', '10.14');
      is(dialectFor('10.14.2'), '4903.221.2', '10.14.2 (between 10.14.1 and 10.14.3)');
      is(dialectFor('10.14.5'), '4903.221.2', '10.14.5');
      is(dialectFor('13.4.1'), '8792.41.9', '13.4.1');
      is(dialectFor('10.9.1'), '2422.1.72', '10.9.1');
      is(dialectFor('14.0'), '10002.1.13', '14.0');
      is(dialectFor('14'), '10002.1.13', '14');
      is(dialectFor('15.5'), newest.xnu, '15.5');
    });
  });

  describe('Darwin releases', () => {
    test('darwin:23.1.0 -> macOS 14.1', () => {
      const v14_1 = F.versions.find((x) => Object.values(x.macosByTag).includes('14.1'))!;
      is(dialectFor('darwin:23.1.0'), v14_1.xnu, 'darwin:23.1.0');
      is(dialectFor('23.1.0', 'darwin'), v14_1.xnu, '23.1.0 (kind darwin)');
    });

    test('Darwin major N maps to macOS 10.(N-4) below 20 and to N-9 from 20 (BEHAVIOUR.md §7: 15 = 10.11 … 24 = 15)', () => {
      // Only the major is asserted: the Darwin minor <-> macOS minor relation is not in the facts.
      const major = (mac: string) => (mac.startsWith('10.') ? mac.split('.').slice(0, 2).join('.') : mac.split('.')[0]);
      for (let n = 11; n <= 24; n++) {
        const want = n < 20 ? `10.${n - 4}` : String(n - 9);
        const d = dialectFor(`darwin:${n}.3.0`);
        const majors = new Set(Object.values(d.macosByTag).map(major));
        assert.ok(majors.has(want), `darwin ${n}.3.0 -> xnu-${d.xnu} (macOS ${[...majors].join(', ')}), want macOS ${want}`);
      }
    });
  });

  describe('future versions: newest layout, unverified, with a warning', () => {
    // Later macOS 15 builds (15.6+, xnu-11417.x after .121.6). macOS 26+ have provisional
    // dialects of their own (test/unverified-kernels.test.ts).
    for (const input of ['15.6', '15.7.1', 'xnu-11417.140.2', '11417.200.1']) {
      test(input, () => {
        const d = dialectFor(input);
        assert.equal(d.xnu, newest.xnu);
        assert.equal(d.family, newest.dialect);
        assert.equal(d.verified, false);
        assert.equal(typeof d.warning, 'string');
        assert.ok((d.warning ?? '').length > 20);
        // The tables are the newest header's.
        assert.equal(d.structs, allDialects()[allDialects().length - 1].structs);
      });
    }
    test('the shared newest dialect itself stays verified', () => {
      dialectFor('26.0');
      const last = allDialects()[allDialects().length - 1];
      assert.equal(last.verified, true);
      assert.equal(last.warning, undefined);
      is(dialectFor('xnu-11417.121.6'), newest.xnu, 'newest published tag is verified');
    });
  });

  describe('unusable input: ERR_NTSTAT_UNKNOWN_VERSION', () => {
    test('too old: before ntstat.h existed (10.7 / xnu-1699)', () => {
      for (const s of ['10.6', '10.6.8', '10.0', 'xnu-1504.1', 'xnu-1504.15.3~1', '1504.1', 'darwin:10.8.0', 'macos:10.6']) unknownVersion(s);
      unknownVersion('1504.1', 'xnu');
      unknownVersion('10.6', 'macos');
    });

    test('garbage', () => {
      for (const s of ['', '   ', 'hello', 'xnu-', 'xnu-abc', 'macos:', 'darwin:', 'darwin:abc', '1.2.3', '9', '-13.4', '13..4', '13.4.', 'v13.4', 'd9999', 'd4570x', 'Darwin Kernel Version', '😀']) {
        unknownVersion(s);
      }
      unknownVersion('abc', 'xnu');
      unknownVersion('x', 'darwin');
    });
  });

  test('layout family names select the first header of the family', () => {
    for (const g of F.dialects) {
      const d = dialectFor(g.name);
      assert.equal(d.family, g.name);
      assert.equal(d.xnu, g.versions[0]);
    }
  });

  test('a bare macOS major selects that major, not the previous one (LAYOUTS.md: "major mapping certain")', () => {
    // The first tags of macOS 11 and 12 are 11.0.1 and 12.0.1; Apple-silicon Macs shipped with 11.0.
    assert.equal(dialectFor('11.0').family, 'd7195');
    assert.equal(dialectFor('11').family, 'd7195');
    assert.equal(dialectFor('12.0').family, 'd8019');
    assert.equal(dialectFor('12').family, 'd8019');
    assert.equal(dialectFor('darwin:20.0.0').family, 'd7195');
  });
}
