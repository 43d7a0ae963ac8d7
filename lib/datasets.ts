// The course's two public data sets: where each comes from, and the size and SHA-256 that identify it
// (shared by the Node loader, lib/data.ts, and the browser's, lib/browser/data.ts).

export interface DatasetSpec {
  file: string; // file name in the cache folder and in a mirror
  url: string; // public source
  bytes: number;
  sha256: string;
}

export const DATASETS = {
  names: {
    file: "names.txt",
    url: "https://raw.githubusercontent.com/karpathy/makemore/master/names.txt",
    bytes: 228_145,
    sha256: "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d",
  },
  tinyshakespeare: {
    file: "tinyshakespeare.txt",
    url: "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
    bytes: 1_115_394,
    sha256: "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
  },
} as const satisfies Record<string, DatasetSpec>;

export type DatasetName = keyof typeof DATASETS;
