import { atLeast, atMost, between, expect, feature, greaterThan, notNull, unique } from "@mlforge/core";

/**
 * The transactions every feature reads, relative to the working directory. The
 * MLFORGE_EXAMPLE_DATA environment variable points the features at another file (tests do).
 */
export const TRANSACTIONS_SOURCE = process.env.MLFORGE_EXAMPLE_DATA ?? "data/transactions.parquet";

/** Lifetime spend and number of purchases per user. */
export const userTotalSpend = feature(
  {
    name: "user_total_spend",
    keys: ["user_id"],
    source: TRANSACTIONS_SOURCE,
    description: "Total amount spent and number of transactions per user, over all history",
    tags: ["users", "spend"],
    checks: { user_id: [notNull(), unique()], total_spend: [greaterThan(0)], transaction_count: [atLeast(1)] },
  },
  (transactions) => `
    SELECT
      user_id,
      sum(amount) AS total_spend,
      count(*) AS transaction_count
    FROM ${transactions}
    GROUP BY user_id`,
);

/** Average amount of a user's purchases. */
export const userAvgSpend = feature(
  {
    name: "user_avg_spend",
    keys: ["user_id"],
    source: TRANSACTIONS_SOURCE,
    description: "Average transaction amount per user",
    tags: ["users", "spend"],
    checks: { avg_spend: [notNull(), between(0.01, 10_000)] },
  },
  (transactions) => `
    SELECT user_id, avg(amount) AS avg_spend
    FROM ${transactions}
    GROUP BY user_id`,
);

/** A product cannot have more distinct buyers than purchases. */
function expectAtMostPurchases() {
  return expect("unique_buyers <= purchase_count", "no more buyers than purchases");
}

/** How often each product sells, and to how many different users. */
export const productPopularity = feature(
  {
    name: "product_popularity",
    keys: ["product_id"],
    source: TRANSACTIONS_SOURCE,
    description: "Number of purchases and of distinct buyers per product",
    tags: ["products"],
    checks: { product_id: [unique()], purchase_count: [atLeast(1)], unique_buyers: [atLeast(1), expectAtMostPurchases()] },
  },
  (transactions) => `
    SELECT
      product_id,
      count(*) AS purchase_count,
      count(DISTINCT user_id) AS unique_buyers
    FROM ${transactions}
    GROUP BY product_id`,
);

/**
 * A user's spend over the last 7 and 30 days, compiled by mlforge from the `rolling` option: a row
 * per user at each midnight (UTC) where a purchase enters or leaves a window, stamped `as_of` that
 * midnight and covering the purchases before it. A label at 10:00 sees the windows that closed the
 * night before, never that morning's spend; a user who stops buying gets a row of zeros when the
 * 30-day window empties, not a stale value.
 */
export const userSpend = feature(
  {
    name: "user_spend",
    keys: ["user_id"],
    timestamp: "event_time",
    source: TRANSACTIONS_SOURCE,
    description: "Rolling 7- and 30-day spend, transaction count, mean and largest amount, and distinct products per user",
    tags: ["users", "spend", "rolling"],
    rolling: {
      interval: "1d",
      windows: ["7d", "30d"],
      aggregations: { amount: ["sum", "count", "mean", "max"], product_id: ["count_distinct"] },
    },
    checks: {
      amount_count_30d: [notNull(), atLeast(0)],
      amount_sum_30d: [atLeast(0)],
      // A few big baskets exceed $500 in a month's single purchase: worth a look, not a failed build.
      amount_max_30d: [atMost(500, { severity: "warn" })],
    },
  },
  (transactions) => `SELECT user_id, event_time, amount, product_id FROM ${transactions}`,
);
