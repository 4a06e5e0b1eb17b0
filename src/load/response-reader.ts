/**
 * Incremental HTTP/1.1 response framing (status + Content-Length). Hand-written on purpose: the
 * engine only needs to know *when* a response is complete, and a general parser (undici, the
 * http module) allocates objects per response and runs through extra event-loop turns, which
 * showed up as tens of milliseconds of generator stall at 5k rps. It works on the received
 * Buffers directly, so a response that arrives in one chunk (the usual case) allocates nothing.
 * Chunked bodies are not needed for the echo backends; a response without Content-Length
 * completes at connection close.
 */
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');
const NAME = Buffer.from('\r\ncontent-length:', 'latin1');

/**
 * Content-Length of the head in buf[from, end), or -1 when it has none. A bounded, allocation-free
 * scan: `buf` may be a shared 64 KiB read buffer whose bytes past `end` are stale.
 */
function contentLength(buf: Buffer, from: number, end: number): number {
  const last = end - NAME.length;
  outer: for (let i = from; i <= last; i++) {
    if (buf[i] !== 0x0d) continue;
    for (let k = 1; k < NAME.length; k++) {
      const b = buf[i + k]!;
      // ASCII letters compare case-insensitively by setting bit 0x20; other bytes must match.
      if ((b >= 0x41 && b <= 0x5a ? b | 0x20 : b) !== NAME[k]) continue outer;
    }
    let j = i + NAME.length;
    while (j < end && (buf[j] === 0x20 || buf[j] === 0x09)) j++;
    let n = 0;
    let digits = 0;
    for (; j < end && buf[j]! >= 0x30 && buf[j]! <= 0x39; j++, digits++) n = n * 10 + buf[j]! - 0x30;
    return digits ? n : -1;
  }
  return -1;
}

export class ResponseReader {
  /** Bytes of an incomplete head kept from earlier chunks (rare: heads are small). */
  private pending: Buffer | undefined;
  private bodyLeft = -1;
  private status = 0;

  /**
   * Feeds chunk[0, length); calls `onResponse(status)` once per complete response. The chunk may
   * be reused by the caller afterwards: what must outlive the call is copied.
   */
  feed(chunk: Buffer, onResponse: (status: number) => void, length = chunk.length): void {
    let buf = chunk;
    let size = length;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk.subarray(0, length)]);
      size = buf.length;
      this.pending = undefined;
    }
    let pos = 0;
    while (pos < size) {
      if (this.bodyLeft < 0) {
        const found = buf.indexOf(HEAD_END, pos);
        const end = found >= 0 && found + 4 <= size ? found : -1;
        if (end < 0) {
          this.pending = Buffer.from(buf.subarray(pos, size));
          return;
        }
        const s = pos + 9;
        this.status = end - pos >= 12 ? (buf[s]! - 0x30) * 100 + (buf[s + 1]! - 0x30) * 10 + (buf[s + 2]! - 0x30) : 0;
        if (!(this.status >= 100 && this.status <= 999)) this.status = 0;
        const len = contentLength(buf, pos, end);
        this.bodyLeft = len < 0 ? Number.POSITIVE_INFINITY : len;
        pos = end + 4;
      }
      const take = Math.min(this.bodyLeft, size - pos);
      this.bodyLeft -= take;
      pos += take;
      if (this.bodyLeft > 0) return;
      this.bodyLeft = -1;
      onResponse(this.status);
    }
  }

  /** At connection close: completes a response that had no Content-Length. */
  end(onResponse: (status: number) => void): void {
    if (this.bodyLeft === Number.POSITIVE_INFINITY) {
      this.bodyLeft = -1;
      onResponse(this.status);
    }
  }

  reset(): void {
    this.pending = undefined;
    this.bodyLeft = -1;
  }
}
