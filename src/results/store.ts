import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SCHEMA_VERSION, type Fingerprint, type HostProbe, type Run, type TrialResult } from './model.js';

/**
 * The only writer of run.json. Every trial is appended as soon as it ends and the file is
 * replaced atomically (write + rename), so a crash or Ctrl-C keeps every finished trial.
 */
export class ResultStore {
  readonly dir: string;
  readonly file: string;
  private readonly run: Run;

  private constructor(dir: string, run: Run) {
    this.dir = dir;
    this.file = join(dir, 'run.json');
    this.run = run;
  }

  static async create(outDir: string, init: { runId: string; scenario: object; scenarioFile?: string; fingerprint: Fingerprint }) {
    const dir = join(outDir, init.runId);
    await mkdir(dir, { recursive: true });
    const store = new ResultStore(dir, {
      schemaVersion: SCHEMA_VERSION,
      runId: init.runId,
      startedAt: new Date().toISOString(),
      scenario: init.scenario as Record<string, unknown>,
      scenarioFile: init.scenarioFile,
      fingerprint: init.fingerprint,
      trials: [],
    });
    await store.flush();
    return store;
  }

  get current(): Readonly<Run> {
    return this.run;
  }

  async append(t: TrialResult): Promise<void> {
    this.run.trials.push(t);
    await this.flush();
  }

  async setHostProbe(name: string, p: HostProbe): Promise<void> {
    this.run.hostProbes = { ...this.run.hostProbes, [name]: p };
    await this.flush();
  }

  async finish(): Promise<Run> {
    this.run.endedAt = new Date().toISOString();
    await this.flush();
    return this.run;
  }

  private async flush(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, `${JSON.stringify(this.run, null, 2)}\n`);
    await rename(tmp, this.file);
  }
}

/** Sortable, readable, unique enough for one machine: 20261207-184512-3fa9. */
export function newRunId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const d = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}`;
  const t = `${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${d}-${t}-${Math.random().toString(16).slice(2, 6)}`;
}
