/**
 * The page's assets, all served by the agent (no CDN: the dashboard works offline). The page's
 * own files are copied next to this module by the build (scripts/copy-web-static.mjs); uPlot
 * comes from its npm package (a regular dependency). Everything is read and gzipped once, when
 * the server starts, so a request costs no disk access.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { NtstatError } from '../errors.js';

export interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

function asset(file: string): Asset {
  const body = readFileSync(file);
  // @types/node 20's Buffer is not a Uint8Array<ArrayBuffer> for TypeScript 5.9's zlib/crypto types.
  const bytes = new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength);
  return {
    type: TYPES[extname(file)] ?? 'application/octet-stream',
    body,
    gzip: gzipSync(bytes, { level: 9 }),
    etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`,
  };
}

export function staticDir(): string {
  return fileURLToPath(new URL('./static/', import.meta.url));
}

/** uPlot's files from its package (resolved from this module, so it works installed too). */
function uplotFiles(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  try {
    return { js: require.resolve('uplot/dist/uPlot.iife.min.js'), css: require.resolve('uplot/dist/uPlot.min.css') };
  } catch (e) {
    throw new NtstatError('ERR_NTSTAT_UNSUPPORTED', `the dashboard needs the 'uplot' package (a dependency of ntstat; reinstall ntstat): ${(e as Error).message}`, { cause: e });
  }
}

/** URL path -> asset. `/` is index.html. */
export function loadAssets(dir = staticDir()): Map<string, Asset> {
  const out = new Map<string, Asset>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new NtstatError('ERR_NTSTAT_UNSUPPORTED', `the dashboard's files are missing (${dir}); run 'npm run build'`, { cause: e });
  }
  for (const name of names) {
    if (!(extname(name) in TYPES)) continue;
    out.set(name === 'index.html' ? '/' : `/${name}`, asset(join(dir, name)));
  }
  if (!out.has('/')) throw new NtstatError('ERR_NTSTAT_UNSUPPORTED', `the dashboard's index.html is missing in ${dir}; run 'npm run build'`);
  const u = uplotFiles();
  out.set('/vendor/uPlot.iife.min.js', asset(u.js));
  out.set('/vendor/uPlot.min.css', asset(u.css));
  return out;
}
