// A one-line progress bar for a Node terminal. Prints nothing when stderr is not a TTY (CI, pipes).

interface Stream {
  isTTY?: boolean;
  columns?: number;
  write(s: string): unknown;
}

export class ProgressBar {
  private readonly stream: Stream | null;
  private last = 0;

  constructor(enabled: boolean, private readonly label: string) {
    const stderr = (globalThis as { process?: { stderr?: Stream } }).process?.stderr;
    this.stream = enabled && stderr?.isTTY ? stderr : null;
  }

  update(done: number, total: number, text: string): void {
    if (!this.stream) return;
    const now = Date.now();
    if (done < total && now - this.last < 100) return; // at most ten redraws a second
    this.last = now;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const bar = `${"=".repeat(Math.max(0, filled - 1))}${filled ? (done < total ? ">" : "=") : ""}${" ".repeat(width - filled)}`;
    this.stream.write(`\r${this.label} [${bar}] ${done}/${total} ${text}\x1b[K`);
  }

  end(): void {
    this.stream?.write("\n");
  }
}
