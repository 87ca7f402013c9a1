/**
 * A TypeScript script run as a real child process (node --import tsx), its stdout read line
 * by line, for tests that kill processes: wait for a line, kill with SIGKILL, await the end.
 * Every child still running when the test file ends is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import t from 'tap';

export interface Child {
  readonly pid: number;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** Resolves with the first line (seen or coming) that matches; rejects if the child ends first or after timeoutMs. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** The signal name or exit code once the child has ended. */
  readonly exited: Promise<string | number>;
  kill(): Promise<string | number>;
}

const running = new Set<ChildProcess>();
let teardown = false;

export function spawnScript(script: string, env: Record<string, string>, args: string[] = []): Child {
  if (!teardown) {
    teardown = true;
    t.teardown(() => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  const exited = new Promise<string | number>((resolve) =>
    // 'close', not 'exit': every stdout line has been read by then.
    child.once('close', (code, signal) => {
      running.delete(child);
      resolve(signal ?? code ?? -1);
    }),
  );
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const l of [...listeners]) l(line);
  });
  return {
    pid: child.pid!,
    lines,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      const seen = lines.map((l) => pattern.exec(l)).find((m) => m !== null);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const done = (): void => {
          listeners.delete(listener);
          clearTimeout(timer);
        };
        const listener = (line: string): void => {
          const m = pattern.exec(line);
          if (m === null) return;
          done();
          resolve(m);
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; lines: ${lines.slice(-5).join(' | ')}`));
        }, timeoutMs);
        listeners.add(listener);
        void exited.then((how) => {
          if (!listeners.has(listener)) return;
          done();
          reject(new Error(`the child ended (${how}) before a line matching ${pattern}; lines: ${lines.slice(-5).join(' | ')}`));
        });
      });
    },
    async kill() {
      child.kill('SIGKILL');
      return exited;
    },
  };
}
