/**
 * The balance tasks' progress lines: a long run (thousands of accounts, a slow
 * node) says every 10 s where it is; a short one says nothing until its summary.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressLog } from '../../../src/apps/payments/balances/runs.js';
import type { BalanceTaskPorts } from '../../../src/apps/payments/balances/index.js';

afterEach(() => vi.useRealTimers());

describe('balance task progress', () => {
  it('logs at most one line every 10 s, with the counts so far and the seconds since the start', () => {
    vi.useFakeTimers({ now: new Date('2026-11-30T10:00:00Z') });
    const info = vi.fn();
    const progress = progressLog({ logger: { info } } as unknown as BalanceTaskPorts, 'payments.reconcile');

    progress({ checked: 100 });
    vi.advanceTimersByTime(9_999);
    progress({ checked: 200 });
    expect(info).not.toHaveBeenCalled();

    vi.advanceTimersByTime(1);
    progress({ checked: 300, drifts: 1 });
    expect(info).toHaveBeenCalledTimes(1);
    expect(info).toHaveBeenLastCalledWith({ task: 'payments.reconcile', checked: 300, drifts: 1, seconds: 10 }, 'balances: still working');

    vi.advanceTimersByTime(5_000);
    progress({ checked: 400, drifts: 1 });
    expect(info).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(20_000);
    progress({ checked: 500, drifts: 2 });
    expect(info).toHaveBeenCalledTimes(2);
    expect(info).toHaveBeenLastCalledWith({ task: 'payments.reconcile', checked: 500, drifts: 2, seconds: 35 }, 'balances: still working');
  });
});
