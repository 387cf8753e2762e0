import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import * as core from "@mlforge/core";
import { checkOptions } from "@mlforge/core/store-kit";
import { LocalStore } from "@mlforge/store-local";

const errorsDirectory = path.join(__dirname, "../src/errors");

describe("error classes", () => {
  test("every class under errors/ sets a literal name and checks its own Symbol.for marker, and is exported", async () => {
    const files = (await readdir(errorsDirectory)).filter((file) => file.endsWith("-error.ts") && file !== "error-message.ts");
    for (const file of files) {
      const source = await readFile(path.join(errorsDirectory, file), "utf8");
      const name = /export class (\w+)/.exec(source)![1]!;
      expect({ file, name: source.includes(`readonly name: string = "${name}";`) }).toEqual({ file, name: true });
      if (name !== "MlforgeError") expect({ file, marker: source.includes(`"mlforge.error.${name}"`) }).toEqual({ file, marker: true });
      expect(typeof (core as Record<string, unknown>)[name]).toBe("function");
    }
  });

  test("isInstance recognises an error of another copy of core by its marker, and only its own class", () => {
    const foreign = Object.assign(new Error("from another copy"), { [Symbol.for("mlforge.error")]: true, [Symbol.for("mlforge.error.StoreAccessError")]: true });
    expect(core.StoreAccessError.isInstance(foreign)).toBe(true);
    expect(core.MlforgeError.isInstance(foreign)).toBe(true);
    expect(core.TrainingDataError.isInstance(foreign)).toBe(false);
    const own = new core.InvalidOptionError("x", "build", ["feature"]);
    expect([own.name, core.InvalidOptionError.isInstance(own), core.FeatureDefinitionError.isInstance(own), core.StoreAccessError.isInstance(own)]).toEqual([
      "InvalidOptionError",
      true,
      true,
      false,
    ]);
  });

  test("StoreAccessError says which store failed doing what", async () => {
    const error = new core.StoreAccessError("m", { store: "S3Store s3://b/p", operation: "putFeature" });
    expect([error.store, error.operation]).toEqual(["S3Store s3://b/p", "putFeature"]);
    const store = new LocalStore(__filename);
    const failure = await store.check().catch((caught: unknown) => caught);
    expect(core.StoreAccessError.isInstance(failure) && [failure.store, failure.operation]).toEqual([`LocalStore at ${__filename}`, "check"]);
  });
});

describe("checkOptions", () => {
  const spec = { features: "names", force: "boolean", path: { kind: "string", example: '"./x"' } } as const;

  test.each([
    [null, "demo takes an options object, for example demo({})."],
    [{ featres: [] }, "demo has unknown option 'featres'. Known options: features, force, path."],
    [{ features: "a" }, `demo option 'features' must be an array of names, for example features: ["user_total_spend"].`],
    [{ force: 1 }, "demo option 'force' must be true or false."],
    [{ path: 1 }, `demo option 'path' must be a string, for example path: "./x".`],
  ])("refuses %j with InvalidOptionError", (options, message) => {
    const attempt = () => checkOptions("demo", options, spec, { example: "demo({})" });
    expect(attempt).toThrow(core.InvalidOptionError);
    expect(attempt).toThrow(message);
  });

  test("an owner with an older error class keeps it and still passes InvalidOptionError.isInstance", () => {
    let caught: unknown;
    try {
      checkOptions("getTrainingData", { plan: "x", timestmp: "t" }, { plan: "any" }, { errorClass: core.TrainingDataError });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(core.TrainingDataError);
    expect(core.InvalidOptionError.isInstance(caught) && [caught.owner, caught.options]).toEqual(["getTrainingData", ["timestmp"]]);
  });

  test("LocalStore refuses a misspelt option", () => {
    expect(() => new LocalStore({ pth: "x" } as never)).toThrow("LocalStore has unknown option 'pth'. Known options: path.");
  });
});
