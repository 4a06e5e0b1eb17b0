import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from '../results/model.js';
import { markdownSummary } from './summary.js';

/** Writes the report files beside run.json; returns their paths. */
export async function writeReports(run: Run, dir: string): Promise<{ summary: string; markdown: string }> {
  const markdown = markdownSummary(run);
  const summary = join(dir, 'summary.md');
  await writeFile(summary, markdown);
  return { summary, markdown };
}
