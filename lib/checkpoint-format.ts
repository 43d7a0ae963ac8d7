// What lib/checkpoint.ts and live mode's lib/browser/checkpoint.ts share: the layout of weights.bin
// (every parameter's float32 values, in the model's namedParameters order) and the lines of the error
// they give when a checkpoint does not match the model.
import * as tf from "@tensorflow/tfjs";

type Named = [string, tf.Variable][];

/** weights.bin's bytes: every parameter's float32 values, one after another. */
export async function weightBytes(named: Named): Promise<Uint8Array> {
  const arrays = await Promise.all(named.map(([, p]) => p.data() as Promise<Float32Array>));
  const bytes = new Uint8Array(arrays.reduce((total, values) => total + values.byteLength, 0));
  arrays.reduce((offset, values) => (bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset), offset + values.byteLength), 0);
  return bytes;
}

/** Puts weights.bin's values into the parameters (the caller has checked its size and SHA-256). */
export function assignWeights(named: Named, bytes: Uint8Array): void {
  // Copied into an aligned array (the bytes may start at any offset of their buffer).
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  let offset = 0;
  tf.tidy(() => {
    for (const [, p] of named) {
      p.assign(tf.tensor(values.subarray(offset, offset + p.size), p.shape, "float32"));
      offset += p.size;
    }
  });
}

/** "config.nEmbd: saved 128, now 64" for every key whose value differs. */
export function differencesBetween(label: string, saved: object, current: object): string[] {
  const keys = [...new Set([...Object.keys(saved ?? {}), ...Object.keys(current)])].sort();
  const s = (saved ?? {}) as Record<string, unknown>;
  const c = current as Record<string, unknown>;
  return keys
    .filter((key) => JSON.stringify(s[key]) !== JSON.stringify(c[key]))
    .map((key) => `${label}.${key}: saved ${JSON.stringify(s[key]) ?? "nothing"}, now ${JSON.stringify(c[key]) ?? "nothing"}`);
}
