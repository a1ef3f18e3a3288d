import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * The package version, read from our own package.json (never from ../shared), once per process:
 * the agent's /metrics asks on every scrape.
 */
export function packageVersion(): string {
  cached ??= readVersion();
  return cached;
}

function readVersion(): string {
  // dist/version.js -> ../package.json; build/src/version.js (tests) -> ../../package.json
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'ntstat' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
}
