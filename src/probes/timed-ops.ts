/** What a probe worker sends back: one time per op (-1 for a failed op) and failures by code. */
export interface TimedOps {
  us: number[];
  errors: Record<string, number>;
}

/**
 * Runs `measure` once per item, one at a time with `gapMs` between, until SIGTERM. Shared by the
 * connect and DNS workers so both pace and count failures the same way.
 */
export async function timeEach<T>(items: readonly T[], gapMs: number, measure: (item: T) => Promise<number>): Promise<TimedOps> {
  let stop = false;
  process.on('SIGTERM', () => (stop = true));
  const out: TimedOps = { us: [], errors: {} };
  for (const item of items) {
    if (stop) break;
    try {
      out.us.push(Math.round((await measure(item)) * 10) / 10);
    } catch (e) {
      out.us.push(-1);
      const code = (e as NodeJS.ErrnoException).code ?? 'ERROR';
      out.errors[code] = (out.errors[code] ?? 0) + 1;
    }
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return out;
}
