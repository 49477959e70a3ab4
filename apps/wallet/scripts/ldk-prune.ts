// Build plugin for the node's worker: drop the LDK bindings' class methods nothing can call.
// lightningdevkit ships ~715 classes whose methods reference one another (ChannelManager's BOLT 12
// methods pull in offers, refunds, blinded paths…), and a bundler keeps a class whole, so nearly
// all of them were shipped. A method survives if our sources or the bindings' own code may call it
// (see `reachable`); the classes and WASM glue functions that then lose every reference are
// tree-shaken. Trait callbacks are not at risk: the WASM calls them on object literals
// (`structImplementation`), never on class methods. A name reached some other way (built at
// runtime, `ldk[name]`) would be cut: don't.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/** Files under dir (not in node_modules, dist or test folders) whose name passes the test. */
function sourceFiles(dir: string, test: (name: string) => boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return /^(node_modules|dist|test)$/.test(entry.name) ? [] : sourceFiles(path, test);
    return entry.isFile() && test(entry.name) ? [path] : [];
  });
}

/** How LDK's methods can be reached: by our sources' words and by the bindings' own calls. */
interface Callers {
  /** every word of our sources (comments included: over-inclusive on purpose) */
  ours: Set<string>;
  /** property names the bindings access on anything, and strings they hold */
  members: Set<string>;
  /** `Class.method` pairs the bindings call statically */
  qualified: Set<string>;
}

function findCallers(sourceRoots: string[]): Callers {
  const callers: Callers = { ours: new Set(), members: new Set(), qualified: new Set() };
  const ours = sourceRoots.flatMap((root) => sourceFiles(root, (name) => /(?<!\.test)\.tsx?$/.test(name)));
  for (const file of ours) {
    for (const [word] of readFileSync(file, 'utf8').matchAll(/[A-Za-z_$][\w$]*/g)) callers.ours.add(word);
  }
  // the bindings' calls, from their syntax tree (their doc comments quote Rust examples)
  const ldkRoot = dirname(fileURLToPath(import.meta.resolve('lightningdevkit')));
  for (const file of sourceFiles(ldkRoot, (name) => name.endsWith('.mjs'))) {
    walk(parseAst(readFileSync(file, 'utf8')), (node) => {
      const object = node.object as Node & { name?: string };
      const property = node.property as Node & { name?: string };
      if (node.type === 'MemberExpression' && !node.computed && property.type === 'Identifier') {
        callers.members.add(property.name!);
        if (object.type === 'Identifier') callers.qualified.add(`${object.name}.${property.name}`);
        if (object.type === 'ThisExpression' || object.type === 'Super')
          callers.qualified.add(`this.${property.name}`);
      } else if (node.type === 'Literal' && typeof node.value === 'string') callers.members.add(node.value);
      return true;
    });
  }
  return callers;
}

/**
 * Whether a method of a class declared in a module with `classes` may be called. An instance
 * method is kept if its name is called on anything; a static one (constructor_new, constr_from_ptr,
 * constructor_ok… exist on hundreds of classes) only if the bindings call it on one of the
 * module's classes, or our sources name both the method and one of those classes (a module
 * declares a class and its variants, whose statics come from the base).
 */
function reachable(callers: Callers, classes: string[], name: string, isStatic: boolean): boolean {
  if (!isStatic) return callers.ours.has(name) || callers.members.has(name);
  if (callers.qualified.has(`this.${name}`)) return true;
  if (classes.some((c) => callers.qualified.has(`${c}.${name}`))) return true;
  return callers.ours.has(name) && classes.some((c) => callers.ours.has(c));
}

/** @param sourceRoots folders whose .ts/.tsx files (tests aside: not bundled) may call LDK */
export function pruneLdkMethods(sourceRoots: string[]): Plugin {
  let callers: Callers | undefined;
  return {
    name: 'lpw-prune-ldk-methods',
    apply: 'build',
    transform(code, id) {
      const file = LDK_FILE.exec(id)?.[1];
      if (!file) return null;
      // bindings.mjs is the WASM glue (module state, imports object): it keeps its side effects.
      // Every other module only declares classes, so one nothing uses may be left out.
      if (file === 'bindings.mjs') return null;
      if (!/^(structs|enums)[\\/]/.test(file)) return { code, moduleSideEffects: false };
      callers ??= findCallers(sourceRoots);
      const ast = this.parse(code);
      const classes: string[] = [];
      const methods: Node[] = [];
      walk(ast, (node) => {
        const name = (node.id as { name?: string } | null)?.name;
        if (node.type === 'ClassDeclaration' && name) classes.push(name);
        if (node.type !== 'MethodDefinition') return true;
        if (node.kind === 'method' && (node.key as Node).type === 'Identifier') methods.push(node);
        return false;
      });
      const cuts = methods.filter(
        (m) => !reachable(callers!, classes, (m.key as Node & { name: string }).name, m.static === true),
      );
      let pruned = code;
      for (const { start, end } of cuts.sort((a, b) => b.start - a.start)) {
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
