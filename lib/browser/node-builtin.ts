// What a Node built-in module (fs, path, crypto, ...) is in the browser build: nothing. Code that
// reaches one (a tokenizer file, a checkpoint) fails with this message instead of a bundler's.
const unavailable = new Proxy(
  {},
  {
    get(_target, name) {
      if (name === "__esModule" || name === "default" || typeof name === "symbol") return undefined;
      return () => {
        throw new Error(`${String(name)}: files, processes and threads are not available in live mode (the browser); run this notebook in Jupyter.`);
      };
    },
  },
);
// As a prototype: the bundler copies a module's own keys, and every other name falls through to the proxy.
module.exports = Object.create(unavailable);
