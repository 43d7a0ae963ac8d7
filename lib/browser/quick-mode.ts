// Browser build of lib/runtime/quick-mode.ts: the page's quick/full choice instead of ZTH_QUICK.
import { host } from "./host";

export function isQuickMode(): boolean {
  return host.quick;
}

export function pick<T>(choices: { full: T; quick: T }): T {
  return isQuickMode() ? choices.quick : choices.full;
}
