const preset = require("../../jest.preset.cjs")(__dirname);

// Fastify's inject() loads light-my-request, which needs cookie@2, an ES module only: Jest's
// CommonJS runtime gets it compiled by SWC like the TypeScript sources.
module.exports = {
  ...preset,
  transform: { ...preset.transform, "/node_modules/\\.pnpm/cookie@[^/]+/.+\\.js$": preset.transform["^.+\\.ts$"] },
  transformIgnorePatterns: ["/node_modules/(?!\\.pnpm/cookie@|cookie/)"],
};
