import { execFile } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const workspace = path.resolve(__dirname, "../../..");

/** Runs a command and returns its output; a failure (or running past `timeout` ms) throws with both streams in the message. */
export async function sh(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024, timeout: options.timeout ?? 0 });
  } catch (error) {
    const failure = error as Error & { stdout?: string; stderr?: string; killed?: boolean };
    const how = failure.killed && options.timeout ? `did not finish in ${options.timeout / 1000} s` : "failed";
    throw new Error(`${command} ${args.join(" ")} ${how} in ${options.cwd}:\n${failure.stdout ?? ""}\n${failure.stderr ?? ""}`, { cause: error });
  }
}

/** Packs a workspace package with pnpm (which turns workspace: ranges into versions); returns the tarball path. */
export async function pack(name: string, destination: string): Promise<string> {
  const pnpm = path.join(workspace, "node_modules", ".bin", "pnpm");
  await sh(pnpm, ["pack", "--pack-destination", destination], { cwd: path.join(workspace, "packages", name) });
  const tarball = (await readdir(destination)).find((file) => file.startsWith(`mlforge-${name}-`) && file.endsWith(".tgz"));
  if (tarball === undefined) throw new Error(`pnpm pack wrote no tarball for ${name} in ${destination}`);
  return path.join(destination, tarball);
}

/**
 * Installs tarballs into a new npm project, as a user outside the workspace would. npm logs its
 * requests (`--loglevel=http`, shown only on failure) and is stopped before the hooks' 300 s, so an
 * install stuck retrying the registry (e.g. `SELF_SIGNED_CERT_IN_CHAIN` when npm runs on a node
 * that is not the machine's and lost its global config: use tools/with-node.sh) says why.
 */
export async function npmInstall(project: string, tarballs: string[]): Promise<void> {
  await sh("npm", ["init", "-y"], { cwd: project });
  await sh("npm", ["install", "--no-audit", "--no-fund", "--loglevel=http", ...tarballs], { cwd: project, timeout: 240_000 });
}

/** Bytes under a directory, as `du` would count file contents. */
export async function directorySize(directory: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** Installed package names under node_modules (scoped ones as @scope/name). */
export async function installedPackages(project: string): Promise<string[]> {
  const modules = path.join(project, "node_modules");
  const names: string[] = [];
  for (const entry of await readdir(modules)) {
    if (entry.startsWith(".")) continue;
    if (entry.startsWith("@")) names.push(...(await readdir(path.join(modules, entry))).map((name) => `${entry}/${name}`));
    else names.push(entry);
  }
  return names;
}
