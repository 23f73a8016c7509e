import { open, type FileHandle } from "node:fs/promises";

/**
 * A buffered line writer for one output file. The hot loop calls `write` synchronously and
 * awaits `flushIfFull` once per input chunk, so file writes are few and large and memory stays
 * bounded by the buffer, however many lines go through.
 */
export class LineSink {
  private parts: string[] = [];
  private size = 0;
  lines = 0;

  private constructor(private readonly fh: FileHandle, private readonly limit: number) {}

  /**
   * Opens `path` for writing; `header` (when given) is the first line and not counted. The
   * 32 KB buffer keeps each joined write below V8's large-object size: larger joins went to
   * large-object space, freed only by full GCs, and made peak RSS climb with input length.
   */
  static async create(path: string, header?: string, limit = 1 << 15): Promise<LineSink> {
    const sink = new LineSink(await open(path, "w"), limit);
    if (header !== undefined) sink.parts.push(header);
    return sink;
  }

  write(line: string): void {
    this.parts.push(line);
    this.size += line.length;
    this.lines++;
  }

  async flushIfFull(): Promise<void> {
    if (this.size >= this.limit) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const text = this.parts.join("\n") + "\n";
    this.parts = [];
    this.size = 0;
    await this.fh.write(text);
  }

  /** Writes every row of `rows`, flushing as the buffer fills. */
  async writeAll(rows: Iterable<string>): Promise<void> {
    for (const row of rows) {
      this.write(row);
      if (this.size >= this.limit) await this.flush();
    }
  }

  async close(): Promise<void> {
    try {
      await this.flush();
      await this.fh.sync();
    } finally {
      await this.fh.close();
    }
  }
}
