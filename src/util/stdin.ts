/** Reads all of stdin as JSON: how worker processes receive their input (see netns-worker.ts). */
export async function readJsonStdin<T>(): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString()) as T;
}

/**
 * The child side of runWorker (netns-worker.ts): the input arrives on stdin as JSON, the result
 * leaves as one JSON line on stdout.
 */
export async function serveWorker<I, O>(work: (input: I) => Promise<O>): Promise<void> {
  const out = await work(await readJsonStdin<I>());
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
