import type { CommandContext } from "./command-context";
import { runServer } from "./serve-command";

/** `mlforge ui`: the catalog page over the offline store alone; online routes answer 503 and no online store is opened. */
export function uiCommand(context: CommandContext): Promise<number> {
  return runServer(context, "ui");
}
