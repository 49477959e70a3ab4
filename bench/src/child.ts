// Runs bench code in a fresh Node process (tsx loader) and reads back its one BENCH_RESULT line, so
// each measurement group starts with a clean heap and a fresh WASM instance.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function runChild<T>(script: string, args: string[], nodeFlags: string[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', join(here, script), ...args], {
      cwd: join(here, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) {
        reject(new Error(`${script} exited with ${code}:\n${out.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as T);
    });
  });
}

/** The child side: print the result where runChild finds it, then exit (LDK keeps no handles open). */
export function reportToParent(result: unknown): never {
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
  process.exit(0);
}
