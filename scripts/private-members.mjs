#!/usr/bin/env node
/**
 * `private` members in the published types: every class member declared with the `private`
 * keyword in the built .d.ts files that the package's "exports" reach (entry points and what
 * they import). TypeScript prints such members by name (`private table?;`), so internals leak
 * into the API users see; `#private` fields print as one anonymous `#private;` line and
 * `@internal` members are stripped (tsconfig.json stripInternal). Run after `npm run build`.
 * `node scripts/private-members.mjs` prints one `file: Class.member` line each and the count;
 * `--json` prints the list; test/library-api.test.ts keeps it empty.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `distDir`: where the build put the .d.ts (default dist/, as package.json says). */
export function privateMembers(distDir = join(repo, 'dist')) {
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
  const files = Object.values(pkg.exports)
    .filter((v) => typeof v === 'object' && v.types)
    .map((v) => join(distDir, v.types.replace(/^\.\/dist\//, '')));
  const program = ts.createProgram(files, { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, skipLibCheck: true, types: ['node'] });
  const dist = resolve(distDir) + '/';
  const out = [];
  for (const sf of program.getSourceFiles()) {
    if (!sf.fileName.startsWith(dist)) continue;
    const visit = (node) => {
      if (ts.isClassDeclaration(node)) {
        for (const m of node.members) {
          // `private constructor()` is API (construct through a factory), not an internal by name.
          if (ts.isConstructorDeclaration(m)) continue;
          const isPrivate = ts.canHaveModifiers(m) && (ts.getModifiers(m) ?? []).some((k) => k.kind === ts.SyntaxKind.PrivateKeyword);
          if (isPrivate) out.push(`dist/${relative(dist, sf.fileName)}: ${node.name?.text ?? '(anonymous)'}.${m.name?.getText(sf)}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--dist');
  const list = privateMembers(at > 0 ? resolve(process.argv[at + 1]) : undefined);
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(list) + '\n');
  else process.stdout.write(`${list.join('\n')}${list.length ? '\n' : ''}${list.length} private members in the published .d.ts\n`);
}
