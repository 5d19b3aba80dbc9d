// Giving the event loop a turn: a macrotask, so that timers, input and rendering run (a resolved
// promise would not let them). setImmediate in Node, a MessageChannel in browsers and workers
// (setTimeout would be clamped to 4 ms after a few nested calls), setTimeout elsewhere.
let post: ((resume: () => void) => void) | undefined;

function poster(): (resume: () => void) => void {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown; MessageChannel?: typeof MessageChannel };
  if (typeof g.setImmediate === "function") return (resume) => g.setImmediate!(resume);
  if (typeof g.MessageChannel === "function") {
    const channel = new g.MessageChannel();
    const waiting: (() => void)[] = [];
    channel.port1.onmessage = () => waiting.shift()?.();
    return (resume) => {
      waiting.push(resume);
      channel.port2.postMessage(0);
    };
  }
  return (resume) => setTimeout(resume, 0);
}

export function yieldToEventLoop(): Promise<void> {
  post ??= poster();
  return new Promise((resolve) => post!(resolve));
}
