// Preloaded (node --import) into the processes the benchmarks measure: on an IPC
// "memory" message it forces a full GC (the process runs with --expose-gc) and
// answers with process.memoryUsage(), so memory is read without a collection's noise.
if (process.send) {
  process.on('message', (msg) => {
    if (msg !== 'memory') return;
    globalThis.gc?.();
    globalThis.gc?.();
    process.send({ memory: process.memoryUsage() });
  });
  // The channel must not keep the process alive once the app has stopped.
  process.channel?.unref();
}
