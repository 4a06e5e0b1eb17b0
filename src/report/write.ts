import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from '../results/model.js';
import { trialsCsv } from './csv.js';
import { markdownSummary } from './summary.js';

export interface WrittenReports {
  summary: string;
  csv: string;
  markdown: string;
}

/** The only writer of report files; they go beside run.json. */
export async function writeReports(run: Run, dir: string): Promise<WrittenReports> {
  const markdown = markdownSummary(run);
  const summary = join(dir, 'summary.md');
  const csv = join(dir, 'trials.csv');
  await writeFile(summary, markdown);
  await writeFile(csv, trialsCsv(run));
  return { summary, csv, markdown };
}
