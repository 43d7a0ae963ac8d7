// danfojs's own declarations, by the file path that Node10 module resolution (tslab's) can find.
export * from "danfojs/dist/danfojs-browser/src/index";
