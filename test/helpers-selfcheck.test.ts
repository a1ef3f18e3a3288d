/**
 * The test helpers themselves: a helper that silently returns nothing turns a suite into a no-op.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { regressionVectors, REGRESSIONS_DIR } from './helpers/hostile.js';

test('the regression-vector loader fails loudly when its folder is missing or empty', () => {
  assert.throws(() => regressionVectors('client', join(tmpdir(), 'ntstat-no-such-folder-13')), /cannot read/);
  const empty = mkdtempSync(join(tmpdir(), 'ntstat-empty-'));
  try {
    assert.throws(() => regressionVectors('client', empty), /no \.json vector/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
  // The real folder holds vectors for every target the fuzz suites replay.
  for (const target of ['client']) assert.ok(regressionVectors(target, REGRESSIONS_DIR).length > 0, target);
});
