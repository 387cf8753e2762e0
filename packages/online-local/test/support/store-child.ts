// A second process using a LocalOnlineStore, for the multi-process tests. Commands (argv[3] on):
//   read <path> <namespace> <key…>   prints JSON of the values
//   put <path> <namespace> <key> <value>   writes one entry
//   put-forever <path> <namespace>   writes batches of entries `k<batch>-<i>` = `<batch>:<i>:<padding>` forever, printing each committed batch number
import { LocalOnlineStore } from "@mlforge/online-local";

async function main(): Promise<void> {
  const [command, location, namespace, ...rest] = process.argv.slice(2);
  const store = new LocalOnlineStore(location!);
  if (command === "read") {
    const values = await store.get([{ namespace: namespace!, keys: rest }]);
    process.stdout.write(`${JSON.stringify(values[0])}\n`);
    await store.close();
    return;
  }
  if (command === "put") {
    await store.put(namespace!, [[rest[0]!, rest[1]!]]);
    await store.close();
    return;
  }
  if (command === "put-forever") {
    const padding = "x".repeat(2000);
    for (let batch = 0; ; batch += 1) {
      const entries = Array.from({ length: 500 }, (_, index) => [`k${batch}-${index}`, `${batch}:${index}:${padding}`] as const);
      await store.put(namespace!, entries);
      process.stdout.write(`${batch}\n`);
    }
  }
  throw new Error(`Unknown command ${command}`);
}

main().catch((error) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
