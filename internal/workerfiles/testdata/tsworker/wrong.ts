// Calls that the declarations must refuse: each line marked "expect TSnnnn"
// must fail tsc with that code, and no other line may (types_test.go), so
// that the declarations are shown to bite rather than to accept anything.
import type { DokvObject, FlowJob } from "../../entry.mjs";

declare const ns: DurableObjectNamespace<DokvObject>;
declare const job: FlowJob;

export async function wrong(): Promise<void> {
  const stub = ns.get(ns.idFromName("k"));
  await stub.call(new Uint8Array(1)); // expect TS2339: dokv's binary protocol is not public
  await stub.watch("k", 0, false); // expect TS2339: takes dokv's encoded stored keys
  await stub.setFlowJob({ ...job, status: "done" }); // expect TS2322: not a FlowJobStatus
  await stub.setUploadFile({ id: "u", offset: 0 }); // expect TS2345: storage is required
  const got = await stub.getFlowJob();
  got.id; // expect TS18048: a missing record is undefined
  await stub.emit(undefined); // expect TS2345: undefined is not JSON
  const offset: string = (await stub.getUploadFile())!.offset; // expect TS2322: a result is typed, not never
}
