// A rollback in the offline store reaches online readers through the next sync, with LocalOnlineStore.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature } from "@mlforge/core";
import { LocalOnlineStore } from "@mlforge/online-local";
import { LocalStore } from "@mlforge/store-local";

let directory: string;
let transactions: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-online-rollback-"));
  transactions = path.join(directory, "transactions.csv");
  await writeFile(transactions, "user_id,amount\nu1,10\nu1,5\nu2,7\n");
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** `user_total_spend` with every total times `factor`, over one offline and one online store. */
function definitions(factor: number): Definitions {
  const spend = feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (source) => `SELECT user_id, sum(amount) * ${factor} AS total FROM ${source} GROUP BY user_id`);
  return new Definitions({
    name: "rollback",
    features: [spend],
    offlineStore: new LocalStore(path.join(directory, "offline")),
    onlineStore: new LocalOnlineStore(path.join(directory, "online")),
  });
}

test("after a rollback the next syncOnline serves the restored version, and the one after skips it", async () => {
  await using first = definitions(1);
  await first.build();
  const original = (await first.metadata("user_total_spend"))!.buildId;
  await first.syncOnline({ graceMs: 0 });
  await first.close();

  await using second = definitions(2);
  await second.build();
  await second.syncOnline({ graceMs: 0 });
  const entities = [{ user_id: "u1" }, { user_id: "u2" }];
  expect(await second.getOnlineFeatures({ features: ["user_total_spend"], entities })).toEqual([
    { user_id: "u1", total: 30 },
    { user_id: "u2", total: 14 },
  ]);

  await second.rollback("user_total_spend", { to: "previous" });
  const synced = await second.syncOnline({ graceMs: 0 });
  expect(synced.synced.map((entry) => [entry.name, entry.buildId])).toEqual([["user_total_spend", original]]);
  expect(await second.getOnlineFeatures({ features: ["user_total_spend"], entities })).toEqual([
    { user_id: "u1", total: 15 },
    { user_id: "u2", total: 7 },
  ]);
  expect((await second.onlineStatus(["user_total_spend"])).user_total_spend?.buildId).toBe(original);
  expect((await second.syncOnline({ graceMs: 0 })).skipped.map((entry) => entry.name)).toEqual(["user_total_spend"]);
});
