// A value as text, roughly as Node's console.log shows it (strings bare, tensors by their toString).
export function formatValue(value: unknown, depth = 0): string {
  if (typeof value === "string") return depth === 0 ? value : JSON.stringify(value);
  if (typeof value !== "object" || value === null) return String(value);
  if (Array.isArray(value)) return value.length === 0 ? "[]" : `[ ${value.map((v) => formatValue(v, depth + 1)).join(", ")} ]`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as ArrayLike<number>).length}) [ ${Array.from(value as unknown as ArrayLike<number>).slice(0, 100).join(", ")} ]`;
  const own = (value as object).toString;
  if (own !== Object.prototype.toString) return String(value);
  if (depth > 2) return "[Object]";
  const entries = Object.entries(value as object).map(([k, v]) => `${k}: ${formatValue(v, depth + 1)}`);
  return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
}
