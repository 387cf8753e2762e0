#!/usr/bin/env node
// Changesets v3's own bin calls module.enableCompileCache(), which Node 20 lacks (the package asks
// for Node 22.11+). The CLI itself runs on Node 20, so start it without that call.
await import("@changesets/cli");
