// Bundling alias for "zod" (wrangler.toml [alias]): zod's entry point minus its 40-odd locale
// packs. Libraries import the `z` namespace object and use it dynamically, so a bundler cannot
// drop the `z.locales` member it carries (about 360 KiB of every Worker). English messages still
// load: zod's schemas module registers them itself. test/zod-bundle.test.ts keeps exports.mjs in
// step with the installed zod.
import * as z from "./exports.mjs";

export * from "./exports.mjs";
export { z, z as default };
