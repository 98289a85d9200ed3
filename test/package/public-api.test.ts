/**
 * The package root exports the public API and nothing else (issue 15): the names and kinds
 * lib/index.ts exports, read with the TypeScript checker (types too), are exactly PUBLIC_API;
 * the area barrels (lib/stores, lib/compute, lib/topologies) export no name outside it. The
 * packed package's runtime exports are checked against the same list in pack.test.ts.
 */
import * as path from 'node:path';
import * as ts from 'typescript';
import { REPO_ROOT } from '../support/consumer-app';
import { ExportKind, INTERNAL_HELPERS, PUBLIC_API } from './public-api';

const ENTRY_POINTS = ['lib/index.ts', 'lib/stores/index.ts', 'lib/compute/index.ts', 'lib/topologies/index.ts'];

/** name → kind of everything a module exports (`function`, `type` and `other` are never public). */
type Kind = ExportKind | 'function' | 'type' | 'other';

let exportsOf: { [entry: string]: { [name: string]: Kind } };

beforeAll(() => {
  const config = ts.getParsedCommandLineOfConfigFile(path.join(REPO_ROOT, 'tsconfig.json'), { noEmit: true }, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  const program = ts.createProgram(
    ENTRY_POINTS.map((e) => path.join(REPO_ROOT, e)),
    config.options,
  );
  const checker = program.getTypeChecker();
  exportsOf = {};
  for (const entry of ENTRY_POINTS) {
    const source = program.getSourceFile(path.join(REPO_ROOT, entry))!;
    const names: { [name: string]: Kind } = {};
    for (const symbol of checker.getExportsOfModule(checker.getSymbolAtLocation(source)!)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      names[symbol.name] = kindOf(target);
    }
    exportsOf[entry] = names;
  }
}, 120_000);

function kindOf(s: ts.Symbol): Kind {
  if (s.flags & ts.SymbolFlags.Class) return 'class';
  if (s.flags & ts.SymbolFlags.Interface) return 'interface';
  if (s.flags & ts.SymbolFlags.Enum) return 'enum';
  if (s.flags & ts.SymbolFlags.Function) return 'function';
  if (s.flags & ts.SymbolFlags.TypeAlias) return 'type';
  if (s.flags & ts.SymbolFlags.Variable) return (s.valueDeclaration?.parent?.flags ?? 0) & ts.NodeFlags.Const ? 'constant' : 'other';
  return 'other';
}

const sorted = (o: { [name: string]: string }) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

test('the package root exports exactly the public API, with the kinds listed', () => {
  expect(sorted(exportsOf['lib/index.ts'])).toEqual(sorted(PUBLIC_API));
});

test('no internal helper, free function or type alias is exported from the root or an area barrel', () => {
  for (const entry of ENTRY_POINTS) {
    const names = exportsOf[entry];
    expect([entry, INTERNAL_HELPERS.filter((n) => n in names)]).toEqual([entry, []]);
    expect([entry, Object.keys(names).filter((n) => !['class', 'interface', 'enum', 'constant'].includes(names[n]))]).toEqual([entry, []]);
    expect([entry, Object.keys(names).filter((n) => !(n in PUBLIC_API))]).toEqual([entry, []]);
  }
});

test('what users need is exported: the consumer wiring, FleetServer, SessionEnvVars, SessionStoreKind, PropsValidation', () => {
  for (const name of ['SessionConsumer', 'ISessionConsumer', 'SessionConnectOptions', 'FleetServer', 'SessionEnvVars', 'SessionStoreKind', 'PropsValidation']) {
    expect([name, name in exportsOf['lib/index.ts']]).toEqual([name, true]);
  }
});
