/** The text `mlforge --help` prints. */
export const USAGE = `Usage: mlforge <command> [options]

Commands:
  build              Build features into the offline store (unchanged ones are skipped)
  list               List every feature and whether it is built
  inspect <feature>  Show a feature's definition, build metadata, schema and first rows
  training-data      Join features to entity rows point in time and write the result to a file

Options:
  --target <file>    Definitions file (.ts, .mts, .js, .mjs) exporting \`defs\` or a default Definitions
                     (default: definitions.{ts,mts,js,mjs} or src/definitions.{ts,mts,js,mjs} in the working directory)
  --features <a,b>   build: only these features; training-data: the features to join, in column order
  --tags <t1,t2>     build: only features carrying at least one of these tags
  --force            build: rebuild even unchanged features
  --shard <i/n>      build: only share i of n of the selected features (1-based), for n machines building
                     into one store; from a 0-based index: --shard $((JOB_COMPLETION_INDEX + 1))/n
  --rows <n>         inspect: how many sample rows to show (default 5; 0 for none)
  --entities <file>  training-data: the entity rows (.parquet, .csv, .json, .ndjson): keys, event time, labels
  --timestamp <col>  training-data: the entity rows' event-time column; features with a timestamp
                     are joined as of it (required when any selected feature has a timestamp)
  --out <file>       training-data: the file to write, .parquet, .csv or .csv.gz (replaced if it exists)
  --json             Print one JSON document on stdout instead of text
  -h, --help         Show this help
  -v, --version      Show the version

Example:
  mlforge training-data --features user_total_spend,user_spend_7d --entities labels.parquet \\
    --timestamp event_time --out train.parquet

Exit codes: 0 success, 1 a feature failed or another error, 2 usage error.
`;
