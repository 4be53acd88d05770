import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layering of src/, as the TypeScript compiler parses it: every import of
 * every file (static, type-only, re-exports, dynamic `import('…')` and
 * `import('…')` types) is held to the rules below. A failure names the file, the
 * line and the import that breaks a rule.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Import {
  /** The importing file, relative to the repository (`src/core/indexer/store.ts`). */
  file: string;
  line: number;
  /** As written; undefined for a dynamic import of a computed specifier. */
  specifier: string | undefined;
  /** A relative specifier resolved against the repository, its script extension dropped (`src/chain/evm/client`). */
  target: string | undefined;
}

/** The imports of one file, parsed (not grepped): comments and strings that look like imports are not imports. */
function importsOf(file: string, text: string): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: Import[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined) => {
    const literal = specifier && ts.isStringLiteralLike(specifier) ? specifier.text : undefined;
    found.push({ file, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1, specifier: literal, target: literal === undefined ? undefined : resolveTarget(file, literal) });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) || (ts.isExportDeclaration(node) && node.moduleSpecifier)) add(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node, node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal as ts.Expression);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function resolveTarget(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.(?:[mc]?[jt]s|tsx|jsx)$/, '');
}

/** The top-level folder of src/ a path is in (src/chain/<family>/ counts as its own folder), or undefined outside src/. */
function folderOf(path: string): string | undefined {
  const parts = path.split('/');
  if (parts[0] !== 'src' || parts.length < 2) return undefined;
  if (parts.length === 2) return parts[1]!.replace(/\.(?:[mc]?[jt]s|tsx|jsx)$/, '');
  if (parts[1] === 'chain' && parts.length > 3) return `chain/${parts[2]}`;
  return parts[1];
}

const under = (target: string | undefined, folder: string) => target !== undefined && target.startsWith(`${folder}/`);
const describeImport = (i: Import) => `${i.file}:${i.line} imports '${i.specifier}'${i.target ? ` (${i.target})` : ''}`;

/** (a) The engine imports no app: only files under src/apps/ import anything there. */
function importsOfApps(imports: Import[]): string[] {
  return imports.filter((i) => !under(i.file, 'src/apps') && under(i.target, 'src/apps')).map((i) => `${describeImport(i)}: only apps import from src/apps/`);
}

/** (b) An app imports its own files, npm packages, contracts/artifacts/ and, of the engine, src/engine/index.ts alone. */
function appsBeyondTheEngine(imports: Import[]): string[] {
  return imports
    .filter((i) => under(i.file, 'src/apps') && i.target !== undefined)
    .filter((i) => {
      const appFolder = i.file.split('/').slice(0, 3).join('/');
      return !under(i.target, appFolder) && i.target !== 'src/engine/index' && !under(i.target, 'contracts/artifacts');
    })
    .map((i) => `${describeImport(i)}: an app imports only its own folder, src/engine/index.ts, contracts/artifacts/ and packages`);
}

/** (c) The core is chain-neutral: nothing from src/chain/, and not viem. */
function chainInCore(imports: Import[]): string[] {
  return imports
    .filter((i) => under(i.file, 'src/core') && (under(i.target, 'src/chain') || i.specifier === 'viem' || i.specifier?.startsWith('viem/')))
    .map((i) => `${describeImport(i)}: src/core/ is chain-neutral (nothing from src/chain/, no viem); the chain families implement src/core/chain.ts`);
}

/** (e) src/runtime/ holds plain helpers: nothing from the wiring, the core or the chains. */
function layersInRuntime(imports: Import[]): string[] {
  return imports
    .filter((i) => under(i.file, 'src/runtime') && ['src/wiring', 'src/core', 'src/chain'].some((folder) => under(i.target, folder)))
    .map((i) => `${describeImport(i)}: src/runtime/ holds plain helpers and imports nothing from src/wiring/, src/core/ or src/chain/`);
}

/** (d) The folders of src/ and the imports between them form no cycle: each cycle found, with the imports behind each of its edges. */
function folderCycles(imports: Import[]): string[] {
  const edges = new Map<string, Map<string, Import[]>>();
  for (const i of imports) {
    const from = folderOf(i.file);
    const to = i.target === undefined ? undefined : folderOf(i.target);
    if (!from || !to || from === to) continue;
    const out = edges.get(from) ?? edges.set(from, new Map()).get(from)!;
    (out.get(to) ?? out.set(to, []).get(to)!).push(i);
  }
  const cycles: string[] = [];
  for (const component of stronglyConnected(edges)) {
    if (component.length < 2) continue;
    // The shortest cycle through each folder of the component (breadth-first), each named once.
    const inside = new Set(component);
    const named = new Set<string>();
    for (const start of [...component].sort()) {
      const path = shortestCycle(edges, inside, start);
      const rotation = path.indexOf([...path].sort()[0]!);
      const key = [...path.slice(rotation), ...path.slice(0, rotation)].join(' -> ');
      if (named.has(key)) continue;
      named.add(key);
      const lines = path.map((from, k) => {
        const to = path[(k + 1) % path.length]!;
        const behind = edges.get(from)!.get(to)!;
        const shown = behind.slice(0, 3).map((i) => `\n      ${describeImport(i)}`).join('');
        return `\n    ${from} -> ${to}:${shown}${behind.length > 3 ? `\n      … and ${behind.length - 3} more` : ''}`;
      });
      cycles.push(`import cycle between folders of src/: ${[...path, start].join(' -> ')}${lines.join('')}`);
    }
  }
  return cycles;
}

/** The folders of a shortest cycle from `start` back to it, within one strongly connected component. */
function shortestCycle(edges: Map<string, Map<string, Import[]>>, inside: Set<string>, start: string): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of [...(edges.get(node)?.keys() ?? [])].sort()) {
      if (!inside.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0]!)!);
        return path;
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  throw new Error(`no cycle through ${start}`);
}

/** Tarjan's strongly connected components of the folder graph. */
function stronglyConnected(edges: Map<string, Map<string, Import[]>>): string[][] {
  const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((out) => [...out.keys()])]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const connect = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node)?.keys() ?? []) {
      if (!index.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      components.push(component);
    }
  };
  for (const node of [...nodes].sort()) if (!index.has(node)) connect(node);
  return components;
}

function sourceFiles(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true }).flatMap((entry) => {
    const path = posix.join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.[mc]?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Synthetic files for checking the checks: each rule must see what it forbids. */
function importsOfFiles(files: Record<string, string>): Import[] {
  return Object.entries(files).flatMap(([file, text]) => importsOf(file, text));
}

describe('layering of src/', () => {
  const files = sourceFiles('src');
  const imports = files.flatMap((file) => importsOf(file, readFileSync(join(ROOT, file), 'utf8')));

  it('reads every import: static, type-only, re-exports, side effects, dynamic and import types; not comments or strings', () => {
    const text = [
      `import { a } from './a.js';`,
      `import type { B } from '../b/b.js';`,
      `import { type C, d } from 'viem';`,
      `import './side-effect.js';`,
      `export { e } from '../../e.js';`,
      `export * from './f.ts';`,
      `export type { G } from './g.js';`,
      `const h = await import('./h.js');`,
      `const dynamic = await import(name);`,
      `let i: typeof import('./i.js').I;`,
      `// import { j } from './j.js';`,
      `const k = "import { k } from './k.js'";`,
      `const local = { a, d, h, i, dynamic, k };`,
      `export { local };`,
    ].join('\n');
    expect(importsOf('src/x/y.ts', text).map((i) => [i.line, i.specifier, i.target])).toEqual([
      [1, './a.js', 'src/x/a'],
      [2, '../b/b.js', 'src/b/b'],
      [3, 'viem', undefined],
      [4, './side-effect.js', 'src/x/side-effect'],
      [5, '../../e.js', 'e'],
      [6, './f.ts', 'src/x/f'],
      [7, './g.js', 'src/x/g'],
      [8, './h.js', 'src/x/h'],
      [9, undefined, undefined],
      [10, './i.js', 'src/x/i'],
    ]);
  });

  it('sees the whole of src/ (a parser that found nothing would pass every rule)', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(files).toContain('src/engine/index.ts');
    const edge = (file: string, target: string) => imports.some((i) => i.file === file && i.target === target);
    expect(edge('src/wiring/roles.ts', 'src/jobs/worker')).toBe(true);
    expect(edge('src/apps/credentials/index.ts', 'src/engine/index')).toBe(true);
    expect(edge('src/chain/evm/chain.ts', 'src/core/chain')).toBe(true);
  });

  it('(a) no file outside src/apps/ imports an app (the engine knows no app; ledgersync.config.ts, outside src/, chooses them)', () => {
    expect(importsOfApps(imports)).toEqual([]);
  });

  it('(b) apps import, of the engine, only src/engine/index.ts', () => {
    expect(appsBeyondTheEngine(imports)).toEqual([]);
  });

  it('(c) src/core/ imports nothing from src/chain/ and not viem', () => {
    expect(chainInCore(imports)).toEqual([]);
  });

  it('(d) no import cycle between the folders of src/', () => {
    expect(folderCycles(imports)).toEqual([]);
  });

  it('(e) src/runtime/ imports nothing from src/wiring/, src/core/ or src/chain/', () => {
    expect(layersInRuntime(imports)).toEqual([]);
  });

  it('dynamic imports of a computed specifier, which no rule can check, are only the known ones', () => {
    // The project's ledgersync.config (an absolute file URL) and the embedded PostgreSQL's platform package.
    expect(imports.filter((i) => i.specifier === undefined).map((i) => i.file)).toEqual(['src/db/embedded.ts', 'src/wiring/project.ts']);
  });

  it('each rule reports what it forbids, naming the file, the line and the import', () => {
    const forbidden = importsOfFiles({
      'src/core/indexer/store.ts': `import type { Address } from 'viem/accounts';\nimport { connectChain } from '../../chain/evm/client.js';`,
      'src/core/relayer/x.ts': `const m = await import('../../apps/credentials/index.js');`,
      'src/apps/credentials/routes.ts': `import { sendProblem } from '../../http/problem.js';\nimport type { Projection } from '../../engine/app.js';\nimport { other } from '../other/index.js';`,
      'src/apps/credentials/ok.ts': `import { inTransaction } from '../../engine/index.js';\nimport { abi } from '../../../contracts/artifacts/Vault.js';\nimport { own } from './own.js';\nimport pg from 'pg';`,
      'src/runtime/logger.ts': `export type { Stack } from '../wiring/stack.js';`,
      'src/db/x.ts': `import { y } from '../http/y.js';`,
      'src/http/y.ts': `import { z } from '../jobs/z.js';`,
      'src/jobs/z.ts': `let x: import('../db/x.js').X;`,
    });
    expect(chainInCore(forbidden)).toEqual([
      `src/core/indexer/store.ts:1 imports 'viem/accounts': src/core/ is chain-neutral (nothing from src/chain/, no viem); the chain families implement src/core/chain.ts`,
      `src/core/indexer/store.ts:2 imports '../../chain/evm/client.js' (src/chain/evm/client): src/core/ is chain-neutral (nothing from src/chain/, no viem); the chain families implement src/core/chain.ts`,
    ]);
    expect(importsOfApps(forbidden)).toEqual([`src/core/relayer/x.ts:1 imports '../../apps/credentials/index.js' (src/apps/credentials/index): only apps import from src/apps/`]);
    expect(appsBeyondTheEngine(forbidden).map((m) => m.split(':')[0] + ':' + m.split(':')[1]!.split(' ')[0])).toEqual([
      'src/apps/credentials/routes.ts:1',
      'src/apps/credentials/routes.ts:2',
      'src/apps/credentials/routes.ts:3',
    ]);
    expect(layersInRuntime(forbidden)).toEqual([
      `src/runtime/logger.ts:1 imports '../wiring/stack.js' (src/wiring/stack): src/runtime/ holds plain helpers and imports nothing from src/wiring/, src/core/ or src/chain/`,
    ]);
    const [cycle, ...more] = folderCycles(forbidden);
    expect(more).toEqual([]);
    expect(cycle).toBe(
      [
        'import cycle between folders of src/: db -> http -> jobs -> db',
        '    db -> http:',
        `      src/db/x.ts:1 imports '../http/y.js' (src/http/y)`,
        '    http -> jobs:',
        `      src/http/y.ts:1 imports '../jobs/z.js' (src/jobs/z)`,
        '    jobs -> db:',
        `      src/jobs/z.ts:1 imports '../db/x.js' (src/db/x)`,
      ].join('\n'),
    );
  });
});
