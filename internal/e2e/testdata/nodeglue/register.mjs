// Registers hooks.mjs: node --import ./register.mjs abort.mjs (or stale.mjs)
import { register } from "node:module";
register("./hooks.mjs", import.meta.url);
