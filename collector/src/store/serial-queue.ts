/**
 * Runs async operations one after another. A DuckDB connection must never run two operations at
 * once (concurrent calls on one connection have crashed the process), so every use goes through one.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation, operation);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
