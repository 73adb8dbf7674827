/**
 * A clock for tests of timed behaviour: `now` is what the code under test is given as its clock, and
 * `advance` moves it and node:test's mocked setTimeout together, so a retry due in 5 minutes comes at once.
 */
import { mock } from 'node:test';

export class FakeClock {
  constructor(public at = 1_000_000) {
    mock.timers.enable({ apis: ['setTimeout'] });
  }

  readonly now = (): number => this.at;

  advance(ms: number): void {
    this.at += ms;
    mock.timers.tick(ms);
  }

  /** Gives setTimeout back; call in `finally`. */
  stop(): void {
    mock.timers.reset();
  }
}
