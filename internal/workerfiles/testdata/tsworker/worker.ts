// A TypeScript Worker bound to the Go Worker's DokvObject class, calling
// every RPC method that entry.d.mts declares. It is type-checked in CI
// (npx tsc --noEmit -p internal/workerfiles/testdata/tsworker) so that the
// declarations stay usable through DurableObjectNamespace<DokvObject>.
// A user imports "./build/entry.mjs", which `dokv build` writes with its
// types beside it; here the import reaches the declarations' one source.
import type { DokvObject, FlowJob, UploadFile } from "../../entry.mjs";

interface Env {
  DOKV: DurableObjectNamespace<DokvObject>;
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    const key = url.searchParams.get("key") ?? "";
    const stub = env.DOKV.get(env.DOKV.idFromName(key));
    switch (url.pathname) {
      case "/upload": {
        const file: UploadFile = {
          id: key,
          offset: 0,
          storage: { id: "r2", type: "r2", parts: [{ partNumber: 1, etag: "e", size: 5 }] },
          size: 5,
          metadata: { name: "a.txt", tags: ["x"], seen: new Date(0) },
          creationDate: new Date().toISOString(),
        };
        await stub.setUploadFile(file);
        const got: UploadFile | undefined = await stub.getUploadFile();
        await stub.deleteUploadFile();
        const gone = await stub.getUploadFile();
        return Response.json({ got, gone: gone === undefined });
      }
      case "/flow": {
        const job: FlowJob = {
          id: key,
          flowId: "flow",
          storageId: "r2",
          clientId: null,
          status: "running",
          createdAt: new Date(),
          updatedAt: new Date().toISOString(),
          tasks: [{ nodeId: "n1", status: "completed", result: { ok: true }, createdAt: new Date(), updatedAt: new Date() }],
          executionState: { executionOrder: ["n1"], currentIndex: 0, inputs: { n1: 1 } },
        };
        await stub.setFlowJob(job);
        const got = await stub.getFlowJob();
        await stub.deleteFlowJob();
        return Response.json({ status: got?.status, createdAtIsDate: got?.createdAt instanceof Date });
      }
      case "/emit":
        await stub.emit({ type: "progress", progress: 0.5 });
        return new Response(null, { status: 204 });
      default:
        // The object's WebSockets, whose URL dokv's ServeWatch makes.
        return stub.fetch(request);
    }
  },
} satisfies ExportedHandler<Env>;
