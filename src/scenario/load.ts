import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { badInput } from '../errors.js';
import { ScenarioSchema, type Scenario } from './schema.js';

export interface Problem {
  line: number;
  col: number;
  path: string;
  message: string;
  hint: string;
}

export const formatProblem = (file: string, p: Problem) =>
  `${file}:${p.line}:${p.col} ${p.path || '(root)'}: ${p.message}${p.hint ? ` (${p.hint})` : ''}`;

/** The deepest node of the document that exists along `path`, so a missing key points at its parent. */
function positionOf(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): { line: number; col: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return lc.linePos(node.range[0]);
  }
  return { line: 1, col: 1 };
}

function hintFor(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'unrecognized_keys':
      return 'remove it, or check the spelling against schemas/scenario.schema.json';
    case 'invalid_type':
      return issue.input === undefined ? 'this field is required' : `expected ${issue.expected}`;
    case 'too_small':
    case 'too_big':
      return 'see the limits in schemas/scenario.schema.json';
    default:
      return '';
  }
}

/** Parses and validates scenario text. Collects *every* problem before throwing. */
export function parseScenario(text: string, file: string): Scenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  const problems: Problem[] = doc.errors.map((e) => {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    return { line: pos.line, col: pos.col, path: '', message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), hint: 'fix the YAML syntax' };
  });
  if (problems.length === 0) {
    const parsed = ScenarioSchema.safeParse(doc.toJS() ?? {});
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
      const { line, col } = positionOf(doc, lc, path);
      problems.push({ line, col, path: path.map(String).join('.'), message: issue.message, hint: hintFor(issue) });
    }
  }
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  const shown = relative(process.cwd(), file) || file;
  throw badInput(
    `${shown}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`,
    'fix each line above; `dpbench validate <file>` re-checks without running anything',
    problems.map((p) => formatProblem(shown, p)),
  );
}

export async function loadScenario(file: string): Promise<Scenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw badInput(`cannot read scenario ${file}: ${(e as Error).message}`, 'check the path; scenarios/ has examples');
  }
  return parseScenario(text, file);
}
