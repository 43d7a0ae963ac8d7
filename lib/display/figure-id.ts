// The start of a plot's element id: unique per process (and per worker in the browser), so two
// notebooks' figures never share an id on one page.
export function figureIdPrefix(): string {
  return typeof process !== "undefined" && process.pid !== undefined ? String(process.pid) : "web";
}
