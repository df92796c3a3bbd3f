// Package app is the HTTP application of the example Worker: a worker.Handler
// over one dokv.Namespace. Its byte routes, the hot path, are written on
// dokv's lean handler form; its flow-job API is a net/http ServeMux served
// through workerhttp. It builds on every platform; the Worker's main package
// serves it over a Durable Object namespace, and tests serve it over
// dokv.NewMemoryNamespace with workerhttp.FromHandler.
//
//	h, err := app.New(ns, app.WithShards(16))
//
// All of its stores share the one namespace and have prefixes of their own,
// so they never see each other's keys.
//
// # Byte stores
//
// Three stores of opaque bytes, one per scaling pattern of
// @uploadista/kv-store-cloudflare-do's README:
//
//	/single/{key...}    every key in one object, SingleObject("single")
//	/perkey/{key...}    one object per key, PerKey()
//	/sharded/{key...}   keys hashed over n objects, HashShards(n), n = 8 unless WithShards
//
// On each of them:
//
//	PUT    /<pattern>/{key}   store the request body, byte for byte, as the value: 204 No Content;
//	                          ?ttl=2s makes the key expire after that Go duration (400 if invalid)
//	GET    /<pattern>/{key}   200 with exactly the stored bytes (Content-Type application/octet-stream), 404 if missing
//	DELETE /<pattern>/{key}   remove the key: 204, also when it was missing
//	GET    /<pattern>/?prefix=&after=&limit=
//	                          200 {"keys": [...], "next": "..."}: keys in ascending byte order;
//	                          limit is 1 to 1000 (default 100); next is the last key when the
//	                          page is full (pass it as after for the next page), "" at the end.
//	                          /perkey/ cannot list: 501.
//
// The key is the rest of the path after the pattern's slash, percent-decoded:
// /single/a/b%20c is the key "a/b c". Keys are 1 to 2048 bytes of valid UTF-8
// (400 otherwise, e.g. /single/%FF). HTTP clients and the router normalize
// empty, "." and ".." path segments, so a key that has such segments must
// have its slashes percent-encoded (%2F), which decodes to the same key.
// A body larger than dokv.MaxEntryBytes, or a key and body that together
// exceed it, gives 413.
//
// # Flow jobs
//
// uploadista FlowJob records (dokv.FlowJob, JSON as uploadista writes it) in
// a dokv.NewFlowJobStore with the ObjectNamedByKey layout of
// @uploadista/kv-store-cloudflare-do: each job in the object named by its
// ID, where a TypeScript uploadista server bound to this Worker's
// DokvObject reads and writes it with the npm client. Such objects cannot
// be listed, so POST /jobs also records the ID in a job index sharded like
// /sharded, which GET /jobs reads (jobs created by other clients are not in
// it):
//
//	POST  /jobs                     {"flowId": "f", "storageId": "s", "nodes": ["a", "b"]}
//	                                creates a pending job with one pending task per node:
//	                                201 with the job and Location: /jobs/{id}
//	GET   /jobs/{id}                200 with the job, 404 if missing
//	PATCH /jobs/{id}                {"status": "running", "error": "optional message"}
//	                                moves the job to any valid status: 200 with the job; EndedAt is
//	                                set when the status is terminal (completed, failed, cancelled).
//	                                A terminal job keeps its status: moving it to another one is
//	                                409, to the same one changes nothing (200).
//	PATCH /jobs/{id}/tasks/{node}   {"status": "completed", "result": <any JSON>, "error": "..."}
//	                                moves one task (result and error are kept unless given; a null
//	                                result clears it): 200 with the job. A pending or started job
//	                                becomes running; a failed task fails the job with the task's
//	                                error; when every task is completed the job completes. 404 if
//	                                the job or the task is missing; 409 if the job is terminal
//	                                (unless the task already has the status, which changes nothing).
//	GET   /jobs?status=&limit=&after=
//	                                200 {"jobs": [...], "next": "..."}: jobs in ascending ID order,
//	                                only those with the status if given; limit is 1 to 1000
//	                                (default 50). At most 1000 jobs are examined per request (each
//	                                is a call to its object, 16 at a time); next
//	                                is the last ID examined when the page stopped early (pass it as
//	                                after to continue; the next page may be empty), "" at the end.
//
// # Upload files
//
// uploadista UploadFile records in a dokv.NewUploadFileStore with the
// ObjectNamedByKey layout of @uploadista/kv-store-cloudflare-do: each in the
// object named by its ID, where a TypeScript uploadista server bound to this
// Worker's DokvObject writes them with the npm client.
//
//	GET   /uploads/{id}             200 with the upload file, 404 if missing
//
// # Watches
//
// A watch needs a token, made by
//
//	POST  /jobs/{id}/watch-token    200 {"token", "expiresAt"}: opens the job's watch for a minute
//	POST  /uploads/{id}/watch-token the same for an upload file
//
// (signed with WithWatchTokenSecret's secret; see dokv.WatchTokens). In an
// application that route sits behind its own authentication. On Workers, a
// WebSocket upgrade of
//
//	GET   /jobs/{id}/watch?token=T[&after=N]
//	GET   /uploads/{id}/watch?token=T[&after=N]
//
// with a valid token (else 401, before any upgrade) is handed to the record's object (dokv's Store.ServeWatch), which sends
// one JSON text message per change of the record and per event emitted to
// it (emit() from TypeScript, Store.Emit from Go), each with the job's or
// upload's ID as its "key"; see "Watch" in dokv's README for the messages.
// A request that is not a WebSocket upgrade gets 426, an invalid after
// 400. Outside a Worker, served with workerhttp.FromHandler on the memory
// or local namespace, the server accepts the WebSocket itself and sends
// the same messages.
//
// Every change of a job is a dokv Store.Update, a read-modify-write retried
// on conflict, so concurrent task updates of one job all take effect. A job
// that finishes (completed, failed, cancelled) expires after the retention
// time (WithJobRetention, DefaultJobRetention by default), and its index
// entry with it (dokv.WithFlowJobRetention). Jobs written by TypeScript's
// setFlowJob carry no retention: the Go store decides TTLs on its writes.
//
// # Admin
//
// With WithAdminSecret returning a secret of backup.AdminSecretMinBytes (32)
// bytes or more, backup.AdminHandler serves /__dokv/admin/export and
// /__dokv/admin/import for the stores "single" and "sharded" (see `dokv
// export`, `dokv import`); without one those paths answer 404, and with a
// shorter one 500 (the log says why).
//
// # Stats
//
//	GET   /stats/single             200 with dokv.StoreStats of /single's object
//	GET   /stats/sharded            200 with dokv.StoreStats of /sharded's objects
//
// # Root and errors
//
// GET / returns to browsers (Accept: text/html) the flow job dashboard:
// the jobs, and the open job's tasks as progress bars that follow its watch
// (a task's progress is the "progress" of its result, 0 to 1; see
// TaskProgress), with /dashboard.js and /dashboard.css. Other clients get a
// plain-text summary of these routes, preceded by the greeting of
// WithGreeting when it is not empty.
//
// # Demo jobs
//
//	POST  /jobs/demo                201 with a new demo job (flowId "demo", four tasks)
//	POST  /jobs/{id}/advance        200: the demo job one step on; 409 when finished or not a demo
//
// The dashboard's "Start a demo job" creates one and advances it with its
// own requests, so that no handler waits.
//
// Every error is a JSON object {"error": "message"}: 400 for an invalid key,
// argument or JSON body, 404 for a missing key, job, task or route, 405 for a
// method a route does not have (with an Allow header), 409 for a conflict,
// 413 for a too large body or value, 501 for an operation the partitioning
// does not support, 503 when the request's context ends, and 500, with a
// generic message, for anything else. The same JSON comes from dokv's entry
// module for what it answers before the handler runs: 413 for a body over
// worker.MaxRequestBodyBytes.
package app
