/** The text `mlforge --help` prints. */
export const USAGE = `Usage: mlforge <command> [options]

Commands:
  build              Build features into the offline store (unchanged ones are skipped)
  list               List every feature and whether it is built
  inspect <feature>  Show a feature's definition, build metadata and schema

Options:
  --target <file>    Definitions file (.ts, .mts, .js, .mjs) exporting \`defs\` or a default Definitions
                     (default: definitions.{ts,mts,js,mjs} or src/definitions.{ts,mts,js,mjs} in the working directory)
  --features <a,b>   build: only these features
  --tags <t1,t2>     build: only features carrying at least one of these tags
  --force            build: rebuild even unchanged features
  --json             Print one JSON document on stdout instead of text
  -h, --help         Show this help
  -v, --version      Show the version

Exit codes: 0 success, 1 a feature failed or another error, 2 usage error.
`;
