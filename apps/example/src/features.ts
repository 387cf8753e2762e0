import { feature } from "@mlforge/core";

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
  },
  (transactions) => `
    SELECT user_id, avg(amount) AS avg_spend
    FROM ${transactions}
    GROUP BY user_id`,
);

/** How often each product sells, and to how many different users. */
export const productPopularity = feature(
  {
    name: "product_popularity",
    keys: ["product_id"],
    source: TRANSACTIONS_SOURCE,
    description: "Number of purchases and of distinct buyers per product",
    tags: ["products"],
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
 * A user's spend over the last 7 days, one row per user and day with purchases: that day and the
 * six before. The value covers the whole day, so it is stamped `as_of` the end of that day
 * (midnight after it): a label at 10:00 sees the window that closed the night before, never that
 * afternoon's spend.
 */
export const userSpend7d = feature(
  {
    name: "user_spend_7d",
    keys: ["user_id"],
    timestamp: "as_of",
    source: TRANSACTIONS_SOURCE,
    description: "Rolling 7-day spend and transaction count per user, on each day the user bought something",
    tags: ["users", "spend", "rolling"],
  },
  (transactions) => `
    WITH daily AS (
      SELECT
        user_id,
        date_trunc('day', event_time) AS day,
        sum(amount) AS spend,
        count(*) AS transactions
      FROM ${transactions}
      GROUP BY user_id, day
    )
    SELECT
      user_id,
      day + INTERVAL 1 DAY AS as_of,
      sum(spend) OVER last_7_days AS spend_7d,
      CAST(sum(transactions) OVER last_7_days AS BIGINT) AS transaction_count_7d
    FROM daily
    WINDOW last_7_days AS (
      PARTITION BY user_id
      ORDER BY day
      RANGE BETWEEN INTERVAL 6 DAYS PRECEDING AND CURRENT ROW
    )`,
);
