// Build plugin for the node's worker: drop the LDK bindings' class methods nothing can call.
// lightningdevkit ships ~715 classes whose methods reference one another (ChannelManager's BOLT 12
// methods pull in offers, refunds, blinded paths…), and a bundler keeps a class whole, so nearly
// all of them were shipped. A method survives if our sources, the bindings' code outside methods or
// a surviving method may call it (`reachableMethods`); the classes and WASM glue functions that then
// lose every reference are tree-shaken. Trait callbacks are not at risk: the WASM calls them on
// object literals (`structImplementation`), never on class methods. A name reached some other way
// (built at runtime, `ldk[name]`) would be cut: don't.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Plugin, parseAst } from 'vite';

const LDK_FILE = /[\\/]node_modules[\\/]lightningdevkit[\\/](.+)$/;

type Node = { type: string; start: number; end: number; [key: string]: unknown };

/** Depth-first over a syntax tree; `visit` returns false to skip a node's children. */
function walk(node: unknown, visit: (node: Node) => boolean) {
  if (Array.isArray(node)) for (const child of node) walk(child, visit);
  else if (node && typeof node === 'object' && typeof (node as Node).type === 'string') {
    if (!visit(node as Node)) return;
    for (const value of Object.values(node)) if (value && typeof value === 'object') walk(value, visit);
  }
}

/** TypeScript nodes that hold code (their type parts are skipped below); every other `TS…` node is a type. */
const TS_VALUE_NODES = new Set([
  'TSAsExpression',
  'TSSatisfiesExpression',
  'TSNonNullExpression',
  'TSInstantiationExpression',
  'TSParameterProperty',
  'TSEnumDeclaration',
  'TSEnumBody',
  'TSEnumMember',
  'TSExportAssignment',
]);

/**
 * Adds the identifiers and strings of a source's code to `names`. A name in a type (`ldk.RoutingMessageHandler`
 * as a field's type) calls nothing, and counting it kept the static methods of every class our
 * types name (a trait's `new_impl` and all the glue behind it).
 */
function valueNames(file: string, names: Set<string>) {
  const code = readFileSync(file, 'utf8');
  walk(parseAst(code, { lang: file.endsWith('.tsx') ? 'tsx' : 'ts' }), (node) => {
    if (node.type.startsWith('TS') && !TS_VALUE_NODES.has(node.type)) return false;
    if (node.importKind === 'type' || node.exportKind === 'type') return false;
    if (node.type === 'Identifier' || node.type === 'PrivateIdentifier') names.add(node.name as string);
    else if (node.type === 'Literal' && typeof node.value === 'string') names.add(node.value);
    else if (node.type === 'TemplateElement') names.add((node.value as { raw: string }).raw);
    return true;
  });
}

/** Files under dir (not in node_modules, dist or test folders) whose name passes the test. */
function sourceFiles(dir: string, test: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return /^(node_modules|dist|test)$/.test(entry.name) ? [] : sourceFiles(path, test);
    return entry.isFile() && test(entry.name) ? [path] : [];
  });
}

/** A class method of the bindings, with what its body calls. */
interface Method {
  /** the classes its module declares (a module declares a class and its variants) */
  classes: string[];
  name: string;
  isStatic: boolean;
  /** property names its body accesses on anything, and strings it holds */
  members: string[];
  /** `Class.method` (or `this.method`) its body names */
  qualified: string[];
}

/** What may be called: grows as methods are found reachable (`reachableMethods`). */
interface Calls {
  /** every name and string in our sources' code (not their types or comments: those call nothing) */
  ours: Set<string>;
  members: Set<string>;
  qualified: Set<string>;
}

/** Adds the member accesses and strings under `node` to `members`, static-looking calls to `qualified`. */
function collectCalls(node: unknown, members: Set<string> | string[], qualified: Set<string> | string[]) {
  const add = (to: Set<string> | string[], value: string) =>
    Array.isArray(to) ? to.push(value) : to.add(value);
  walk(node, (child) => {
    const object = child.object as Node & { name?: string };
    const property = child.property as Node & { name?: string };
    if (child.type === 'MemberExpression' && !child.computed && property.type === 'Identifier') {
      add(members, property.name!);
      if (object.type === 'Identifier') add(qualified, `${object.name}.${property.name}`);
      if (object.type === 'ThisExpression' || object.type === 'Super')
        add(qualified, `this.${property.name}`);
    } else if (child.type === 'Literal' && typeof child.value === 'string') add(members, child.value);
    return true;
  });
}

/**
 * Whether a method may be called, given the calls known so far. An instance method may be if its
 * name is called on anything; a static one (constructor_new, constr_from_ptr, constructor_ok…
 * exist on hundreds of classes) only if it is called on one of its module's classes (or `this`),
 * or our sources name both the method and one of those classes.
 */
function mayBeCalled(calls: Calls, m: Method): boolean {
  if (!m.isStatic) return calls.ours.has(m.name) || calls.members.has(m.name);
  if (calls.qualified.has(`this.${m.name}`)) return true;
  if (m.classes.some((c) => calls.qualified.has(`${c}.${m.name}`))) return true;
  return calls.ours.has(m.name) && m.classes.some((c) => calls.ours.has(c));
}

/**
 * The bindings' methods that may be called, by `methodKey`: from our sources' words and the
 * bindings' code outside methods (constructors, the WASM glue, trait callbacks' dispatch), then
 * from what those methods call in turn, until nothing new is reached. A method only an unreachable
 * method calls (ChannelManager's BOLT 12 methods calling offer builders) is not kept.
 */
function reachableMethods(ours: Set<string>): Set<string> {
  const calls: Calls = { ours, members: new Set(), qualified: new Set() };
  // the bindings' calls, from their syntax tree (their doc comments quote Rust examples)
  const ldkRoot = dirname(fileURLToPath(import.meta.resolve('lightningdevkit')));
  const methods = new Map<string, Method>();
  for (const file of sourceFiles(ldkRoot, (name) => name.endsWith('.mjs'))) {
    const module = relative(ldkRoot, file).split(sep).join('/');
    const found = classMethods(parseAst(readFileSync(file, 'utf8')));
    for (const m of found.methods) {
      const method: Method = {
        classes: found.classes,
        name: m.name,
        isStatic: m.isStatic,
        members: [],
        qualified: [],
      };
      collectCalls(m.node.value, method.members, method.qualified);
      methods.set(methodKey(module, m.className, m.isStatic, m.name), method);
    }
    // code outside methods runs (or is kept whole) whenever its module is bundled
    collectCalls(found.outside, calls.members, calls.qualified);
  }
  const reached = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [key, m] of methods) {
      if (reached.has(key) || !mayBeCalled(calls, m)) continue;
      reached.add(key);
      for (const name of m.members) calls.members.add(name);
      for (const name of m.qualified) calls.qualified.add(name);
      grew = true;
    }
  }
  return reached;
}

const methodKey = (module: string, className: string, isStatic: boolean, name: string) =>
  `${module}:${className}${isStatic ? '.' : '#'}${name}`;

interface FoundMethod {
  node: Node;
  className: string;
  name: string;
  isStatic: boolean;
}

/** A module's classes, their plain methods (not constructors or accessors), and its other code. */
function classMethods(ast: unknown): { classes: string[]; methods: FoundMethod[]; outside: Node[] } {
  const classes: string[] = [];
  const methods: FoundMethod[] = [];
  const outside: Node[] = [];
  let className = '';
  walk(ast, (node) => {
    const name = (node.id as { name?: string } | null)?.name;
    if (node.type === 'ClassDeclaration' && name) {
      classes.push(name);
      className = name;
    }
    if (node.type !== 'MethodDefinition') return true;
    const key = node.key as Node & { name?: string };
    if (node.kind === 'method' && key.type === 'Identifier') {
      methods.push({ node, className, name: key.name!, isStatic: node.static === true });
    } else outside.push(node);
    return false;
  });
  return { classes, methods, outside };
}

// Each of the ~7,900 wrappers first checks that initializeWasm() was awaited (1.7 KB gzip in all).
// The worker calls LDK only after `initLdkFromUrl` resolved, and `createNode` asserts it first
// (assertLdkReady), so the one check at the door stands for them all.
const INIT_GUARD = `    if (!isWasmInitialized) {
        throw new Error("initializeWasm() must be awaited first!");
    }
`;

function withoutInitGuards(code: string, id: string): string {
  const parts = code.split(INIT_GUARD);
  // none found: the bindings changed shape, and the guard's text must be looked at again
  if (parts.length < 1000) throw new Error(`lpw-prune-ldk-methods: the init guards of ${id} were not found`);
  return parts.join('');
}

// The bindings' 160 enum members, as TypeScript compiles them: `E[E["LDKE_A"] = 0] = "LDKE_A"`, a name
// for the value and the value's name back (~1.8 KB gzip in all). A member nothing names is cut (its
// value still arrives from the WASM as a number); the reverse names go too, but for an enum our
// sources index to print a value (`ldk.PaymentFailureReason[reason]`), which keeps every member.
const ENUM_MEMBER = /^(\s+)(\w+)\[\2\["(\w+)"\] = (-?\d+)\] = "\3";\n/gm;

/** The names our sources index with a value (`Name[x]`, not the type `Name[]`). */
function indexedNames(files: string[]): Set<string> {
  const indexed = new Set<string>();
  for (const file of files)
    for (const [, name] of readFileSync(file, 'utf8').matchAll(/\b([A-Z]\w*)\[(?!\])/g)) indexed.add(name!);
  return indexed;
}

/** The `LDK…` words of the bindings' classes (outside bindings.mjs, whose enums are what is pruned). */
function ldkClassWords(): Set<string> {
  const words = new Set<string>();
  const ldkRoot = dirname(fileURLToPath(import.meta.resolve('lightningdevkit')));
  for (const file of sourceFiles(ldkRoot, (name) => name.endsWith('.mjs') && name !== 'bindings.mjs'))
    for (const [word] of readFileSync(file, 'utf8').matchAll(/\bLDK\w+/g)) words.add(word);
  return words;
}

function prunedEnums(code: string, id: string, ours: Ours): string {
  const indexed = indexedNames(ours.files);
  const ldkWords = ldkClassWords();
  let count = 0;
  const out = code.replace(ENUM_MEMBER, (member, indent, name, key, value) => {
    count++;
    if (indexed.has(name)) return member;
    return ours.names.has(key) || ldkWords.has(key) ? `${indent}${name}["${key}"] = ${value};\n` : '';
  });
  if (count < 100) throw new Error(`lpw-prune-ldk-methods: the enum members of ${id} were not found`);
  return out;
}

/** Our bundled sources (tests and `notBundled` aside) and every name in their code (`valueNames`). */
interface Ours {
  files: string[];
  names: Set<string>;
}

function ourSources(sourceRoots: string[], notBundled: Set<string>): Ours {
  const files = sourceRoots
    .flatMap((root) => sourceFiles(root, (name) => /(?<!\.test)\.tsx?$/.test(name)))
    .filter((file) => !notBundled.has(resolve(file)));
  const names = new Set<string>();
  for (const file of files) valueNames(file, names);
  return { files, names };
}

/**
 * @param sourceRoots folders whose .ts/.tsx files (tests aside: not bundled) may call LDK
 * @param notBundled files under them that the build must leave out (code of the nodes that keep a
 *   graph): the methods only they name are cut too. The build fails if any of their code is bundled,
 *   as it would then call methods that are gone.
 */
export function pruneLdkMethods(sourceRoots: string[], notBundled: string[] = []): Plugin {
  let reached: Set<string> | undefined;
  let ours: Ours | undefined;
  const excluded = new Set(notBundled.map((file) => resolve(file)));
  return {
    name: 'lpw-prune-ldk-methods',
    apply: 'build',
    buildStart() {
      for (const file of excluded) if (!existsSync(file)) this.error(`notBundled: ${file} does not exist`);
    },
    generateBundle(_options, bundle) {
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== 'chunk') continue;
        for (const [id, module] of Object.entries(chunk.modules)) {
          if (excluded.has(id) && module.renderedLength > 0)
            this.error(`${id} is bundled in ${chunk.fileName}, but the LDK methods it calls were pruned`);
        }
      }
    },
    transform(code, id) {
      const file = LDK_FILE.exec(id)?.[1]?.split(sep).join('/');
      if (!file) return null;
      // bindings.mjs is the WASM glue (module state, imports object): it keeps its side effects.
      // Every other module only declares classes, so one nothing uses may be left out.
      if (file === 'bindings.mjs') {
        ours ??= ourSources(sourceRoots, excluded);
        const pruned = prunedEnums(withoutInitGuards(code, id), id, ours);
        return { code: pruned, map: null };
      }
      if (!/^(structs|enums)\//.test(file)) return { code, moduleSideEffects: false };
      ours ??= ourSources(sourceRoots, excluded);
      reached ??= reachableMethods(ours.names);
      const cuts = classMethods(this.parse(code)).methods.filter(
        (m) => !reached!.has(methodKey(file, m.className, m.isStatic, m.name)),
      );
      let pruned = code;
      for (const { start, end } of cuts.map((m) => m.node).sort((a, b) => b.start - a.start)) {
        // offsets must be string indices (not UTF-8 bytes): a wrong cut would ship broken code
        if (!/^(static\s+)?[\w$]+\s*\([\s\S]*\}$/.test(code.slice(start, end))) {
          throw new Error(`lpw-prune-ldk-methods: unexpected method text at ${id}:${start}`);
        }
        pruned = pruned.slice(0, start) + pruned.slice(end);
      }
      return { code: pruned, map: null, moduleSideEffects: false };
    },
  };
}
