/** Waits until the wall clock is 2–30 s past a minute: a crontab's next tick (minute resolution) is at least 30 s away. */
export async function earlyInAMinute(): Promise<void> {
  const second = new Date().getSeconds();
  if (second >= 2 && second <= 30) return;
  const wait = ((62 - second) % 60) * 1000;
  await new Promise((resolve) => setTimeout(resolve, wait));
}
