/**
 * A start-up check of a network store (schema version, table layout) run once and remembered when
 * it passes; a failure is forgotten, so the next call tries again instead of failing forever.
 */
export class ReadyCheck {
  private passed: Promise<void> | undefined;

  run(check: () => Promise<void>): Promise<void> {
    this.passed ??= check().catch((err: unknown) => {
      this.passed = undefined;
      throw err;
    });
    return this.passed;
  }

  /** migrate() has just brought the store to the expected version. */
  markPassed(): void {
    this.passed = Promise.resolve();
  }
}
