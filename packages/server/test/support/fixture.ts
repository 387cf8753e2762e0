import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, type OnlineStore } from "@mlforge/core";
import { LocalOnlineStore } from "@mlforge/online-local";
import { LocalStore } from "@mlforge/store-local";

/** 2^53 + 1: a BIGINT JSON numbers cannot carry. */
export const BIG_VALUE = "9007199254740993";

/** Transactions of 40 users over 5 days, and 3 accounts with huge counters; written as CSV. */
async function writeSources(directory: string): Promise<void> {
  const lines = ["user_id,amount,category,day"];
  for (let user = 1; user <= 40; user++) {
    for (let index = 0; index < (user % 5) + 1; index++) {
      const amount = ((user * 37 + index * 11) % 200) + 0.5;
      const category = ["groceries", "travel", "books", "games"][(user + index) % 4];
      lines.push(`u${String(user).padStart(2, "0")},${amount},${category},2024-01-0${(index % 5) + 1}`);
    }
  }
  await writeFile(path.join(directory, "transactions.csv"), `${lines.join("\n")}\n`);
  await writeFile(path.join(directory, "accounts.csv"), `account_id,counter\n1,${BIG_VALUE}\n2,42\n3,7\n`);
}

export const userSpend = feature(
  { name: "user_spend", keys: ["user_id"], timestamp: "as_of", source: "transactions.csv", description: "Total spend and transaction count per user, as of their last transaction day.", tags: ["user", "spend"] },
  (source) => `SELECT user_id, sum(amount)::DOUBLE AS total_spend, count(*)::BIGINT AS transaction_count, max(day)::TIMESTAMP AS as_of FROM ${source} GROUP BY user_id`,
);

export const userCategory = feature(
  { name: "user_top_category", keys: ["user_id"], source: "transactions.csv", description: "The category each user spends most in.", tags: ["user"] },
  (source) => `SELECT user_id, arg_max(category, amount) AS top_category FROM ${source} GROUP BY user_id`,
);

export const accountCounter = feature(
  { name: "account_counter", keys: ["account_id"], source: "accounts.csv", description: "A counter too large for a JSON number.", tags: ["accounts"] },
  (source) => `SELECT account_id::INTEGER AS account_id, counter::BIGINT AS counter FROM ${source}`,
);

/** A project in a temporary directory, built and synced. */
export interface Fixture {
  directory: string;
  defs: Definitions;
  /** New definitions over the same stores (each server closes the definitions it serves). */
  open(onlineStore?: OnlineStore | false): Definitions;
  remove(): Promise<void>;
}

/** Writes the sources, builds every feature and syncs them to `onlineStore` (a LocalOnlineStore by default). */
export async function createFixture(options: { onlineStore?: (directory: string) => OnlineStore; sync?: boolean } = {}): Promise<Fixture> {
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-server-"));
  await writeSources(directory);
  const onlineFactory = options.onlineStore ?? ((base: string) => new LocalOnlineStore(path.join(base, "online_store")));
  const open = (onlineStore?: OnlineStore | false) =>
    new Definitions({
      name: "server-test",
      features: [userSpend, userCategory, accountCounter],
      offlineStore: new LocalStore(path.join(directory, "feature_store")),
      ...(onlineStore === false ? {} : { onlineStore: onlineStore ?? onlineFactory(directory) }),
      baseDirectory: directory,
    });
  const defs = open();
  await defs.build();
  if (options.sync !== false) await defs.syncOnline();
  return {
    directory,
    defs,
    open,
    remove: async () => {
      await defs.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
