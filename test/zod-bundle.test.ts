import { describe, expect, it } from "vitest";
import * as zod from "zod";
// @ts-expect-error: a JavaScript module for the bundler alias, without type declarations.
import * as slim from "../workers/lib/zod-without-locales/index.mjs";

const withoutLocales = (keys: string[]) => keys.filter((key) => key !== "locales").sort();

describe("zod without locale packs (the bundles' alias for zod)", () => {
  it("exports everything the installed zod exports except its locales, as the same objects", () => {
    expect(Object.keys(slim).sort()).toEqual(withoutLocales(Object.keys(zod)));
    expect(Object.keys(slim.core).sort()).toEqual(withoutLocales(Object.keys(zod.core)));
    expect(slim.ZodObject).toBe(zod.ZodObject);
    expect(slim.z.string).toBe(zod.z.string);
    expect(slim.locales).toBeUndefined();
  });

  it("still explains validation failures in English", () => {
    const result = slim.z.object({ quantity: slim.z.number().int().min(1) }).safeParse({ quantity: 0 });
    expect(result.success).toBe(false);
    expect(result.error.issues[0].message).toMatch(/Too small: expected number to be >=1/);
  });
});
