// What every notebook needs at its start: quick mode for the test suite.

/** True when ZTH_QUICK=1: the test suite runs every notebook with fewer steps and less data. */
export function isQuickMode(): boolean {
  return process.env.ZTH_QUICK === "1" || process.env.ZTH_QUICK === "true";
}

/** `full` normally, `quick` in quick mode: `const steps = pick({ full: 200_000, quick: 500 })`. */
export function pick<T>(choices: { full: T; quick: T }): T {
  return isQuickMode() ? choices.quick : choices.full;
}
