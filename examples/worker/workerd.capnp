# workerd config written by dokv. Run:
#   workerd serve workerd.capnp --socket-addr http=127.0.0.1:8787 --directory-path store=DIR
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "store", disk = (path = ".dokv-store", writable = true)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "entry.mjs", esModule = embed "build/entry.mjs"),
    (name = "wasm_exec.js", esModule = embed "build/wasm_exec.js"),
    (name = "app.wasm", wasm = embed "build/app.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  compatibilityFlags = ["enable_request_signal"],
  durableObjectNamespaces = [
    (className = "DokvObject", uniqueKey = "dokv-example", enableSql = true),
  ],
  durableObjectStorage = (localDisk = "store"),
  bindings = [
    (name = "DOKV", durableObjectNamespace = "DokvObject"),
    (name = "GREETING", text = "Hello from a Go Worker on dokv."),
  ],
);
