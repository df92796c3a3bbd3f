// The Effect service tags of uploadista's KV stores.
import { Context } from "effect";

export const UploadFileKVStore = Context.GenericTag("UploadFileKVStore");
export const FlowJobKVStore = Context.GenericTag("FlowJobKVStore");
