/**
 * Incremental HTTP/1.1 response framing (status + Content-Length). Hand-written on purpose: the
 * engine only needs to know *when* a response is complete, and a general parser (undici, the
 * http module) allocates objects per response and runs through extra event-loop turns, which
 * showed up as tens of milliseconds of generator stall at 5k rps. Chunked bodies are not
 * needed for the echo backends; a response without Content-Length completes at connection close.
 */
export class ResponseReader {
  private pending = '';
  private bodyLeft = -1;
  private status = 0;

  /** Feeds bytes; calls `onResponse(status)` once per complete response. */
  feed(chunk: Buffer, onResponse: (status: number) => void): void {
    this.pending = this.pending.length ? this.pending + chunk.toString('latin1') : chunk.toString('latin1');
    for (;;) {
      if (this.bodyLeft < 0) {
        const end = this.pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = this.pending.slice(0, end);
        this.status = Number(head.slice(9, 12)) || 0;
        const m = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
        this.bodyLeft = m ? Number(m[1]) : Number.POSITIVE_INFINITY;
        this.pending = this.pending.slice(end + 4);
      }
      if (this.pending.length < this.bodyLeft) return;
      this.pending = this.pending.slice(this.bodyLeft);
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
    this.pending = '';
    this.bodyLeft = -1;
  }
}
