// The course's shared library: each lecture's notebook imports what it and the earlier lectures built.
export * from "./engine";
export * from "./notebook";
export * from "./data";
export * from "./random";
export * from "./tokenizer";
export * from "./bigram";
export * from "./bigram-net";
export * from "./micrograd";
export * from "./graph";
export * from "./losses";
export * from "./display";
export * from "./plot";
export * from "./table";
