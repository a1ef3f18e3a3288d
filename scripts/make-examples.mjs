#!/usr/bin/env node
/**
 * Regenerates the recordings shipped in examples/ (README's replay samples):
 *   examples/session.ntcap  ntstat's own format, recorded from the simulated kernel
 *   examples/capture.bin    libntstat's format (u32 time, u32 length, bytes; both directions),
 *                           the small known session of the tests (xnu-3789.1.32, macOS 10.12)
 * Run after `npm run build && npm run build:test`.
 */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const session = join(repo, 'examples/session.ntcap');
rmSync(session, { force: true });
execFileSync(process.execPath, [join(repo, 'dist/cli/bin.js'), 'json', '--simulate', '--macos', '13', '--scenario', 'browser-burst', '--seed', '1', '--duration', '4', '--record', session], { stdio: ['ignore', 'ignore', 'inherit'] });
const { sessionRecording } = await import(join(repo, 'build/test/helpers/recording.js'));
const { dialectFor } = await import(join(repo, 'dist/index.js'));
writeFileSync(join(repo, 'examples/capture.bin'), sessionRecording(dialectFor('3789.1.32', 'xnu')));
