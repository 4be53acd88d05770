/** One dependency that must be healthy for the process to take traffic. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<CheckResult>;
}

export interface CheckResult {
  ok: boolean;
  detail?: string;
  [fact: string]: unknown;
}

const CHECK_TIMEOUT_MS = 2_000;

/** Runs every check at once, each bounded by a timeout, and reports them all. */
export async function runChecks(checks: ReadinessCheck[]): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<CheckResult>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS);
      });
      try {
        const result = await Promise.race([check(), timeout]);
        return [name, result] as const;
      } catch (error) {
        return [name, { ok: false, detail: (error as Error).message.split('\n')[0] }] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
}
