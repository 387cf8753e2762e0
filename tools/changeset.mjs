#!/usr/bin/env node
// Changesets v3 asks for Node 22.11+, and this repository runs on Node 20. Two gaps matter:
// its bin calls module.enableCompileCache() (skipped here by importing the CLI directly), and
// publish-plan/publish use Promise.withResolvers (Node 22), supplied below to the spec.
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new this((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  return { promise, resolve, reject };
};
await import("@changesets/cli");
