import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, FeatureVersionNotFoundError } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

let directory: string;
let transactions: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-versions-"));
  transactions = path.join(directory, "transactions.csv");
  await writeFile(transactions, "user_id,amount\nu1,10\nu1,5\nu2,7\n");
});
afterEach(() => rm(directory, { recursive: true, force: true }));

function definitions(): Definitions {
  const spend = feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (source) => `SELECT user_id, sum(amount)::DOUBLE AS total FROM ${source} GROUP BY user_id ORDER BY user_id`);
  return new Definitions({ name: "test", features: [spend], offlineStore: new LocalStore(path.join(directory, "store")) });
}

describe("reading versions", () => {
  test("a feature never built has no versions", async () => {
    await using defs = definitions();
    expect(await defs.versions("user_total_spend")).toEqual([]);
  });

  test("the current build is a version, readable by its build id", async () => {
    await using defs = definitions();
    await defs.build();
    const current = (await defs.metadata("user_total_spend"))!;
    const versions = await defs.versions("user_total_spend");
    expect(versions).toEqual([{ buildId: current.buildId, builtAt: current.builtAt, rows: 2, bytes: current.bytes, fingerprint: current.fingerprint, current: true }]);
    await using frame = await defs.read("user_total_spend", { version: current.buildId });
    expect(await frame.rows()).toEqual([
      { user_id: "u1", total: 15 },
      { user_id: "u2", total: 7 },
    ]);
  });

  test("an unknown version is an error naming it and the kept ones", async () => {
    await using defs = definitions();
    await defs.build();
    const { buildId } = (await defs.metadata("user_total_spend"))!;
    const error = await defs.read("user_total_spend", { version: "0123456789abcdef" }).catch((caught: unknown) => caught);
    expect(FeatureVersionNotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain("'0123456789abcdef'");
    await expect(defs.read("user_total_spend", { version: "../x" })).rejects.toThrow(/no version '\.\.\/x'/);
    expect(buildId).toMatch(/^[0-9a-f]{32}$/);
  });
});
