/** Reads all of stdin as JSON: how worker processes receive their input (see netns-worker.ts). */
export async function readJsonStdin<T>(): Promise<T> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString()) as T;
}
