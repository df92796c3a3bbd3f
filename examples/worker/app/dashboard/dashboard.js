// The flow job dashboard of dokv's example Worker: the jobs of the job
// index, and the open job's tasks as progress bars, updated live from the
// job's watch (GET /jobs/{id}/watch, a WebSocket to the job's Durable
// Object). Plain JavaScript, no build step.
//
// The page never shows a state older than one it has shown: a job's
// version only grows, so a message whose version is below the shown one is
// ignored. When the socket drops it reconnects by itself, with ?after= the
// position of the last message it applied, and a "resync" start (the object
// no longer holds every change since then) replaces the state whole.
"use strict";

const $ = (id) => document.getElementById(id);
const LIST_EVERY_MS = 3000; // how often the job list is read again
const DEMO_STEP_MS = 400; // how often a demo job this page runs moves on
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 4000;

const open = {
  id: "", // the open job's ID
  job: null, // its state as shown
  version: 0, // the version of that state
  at: "", // the position of the last watch message applied
  socket: null,
  retryMs: RETRY_MIN_MS,
  retryTimer: 0,
  demo: false, // whether this page advances it (a demo job it opened)
  demoTimer: 0,
};

// Progress of a task from 0 to 100: a completed task is done; a running
// one reports its progress in its result ({"progress": 0.4}), as the demo
// and the example's clients write it.
function taskProgress(task) {
  if (task.status === "completed") return 100;
  const p = task.result && typeof task.result.progress === "number" ? task.result.progress : 0;
  return Math.round(Math.min(Math.max(p, 0), 1) * 100);
}

const terminal = (status) => status === "completed" || status === "failed" || status === "cancelled";

function notice(text) {
  $("notice").textContent = text;
}

// renderJob shows job at version, unless an equal or newer version is
// already shown (a snapshot may repeat the shown version).
function renderJob(job, version, { force = false } = {}) {
  if (!force && version < open.version) return;
  open.job = job;
  open.version = version;
  $("job").hidden = false;
  $("job-id").textContent = open.id;
  if (!job) {
    $("job-status").textContent = "deleted";
    $("job-status").dataset.status = "deleted";
    $("tasks").replaceChildren();
    return;
  }
  $("job-status").textContent = job.status;
  $("job-status").dataset.status = job.status;
  const list = $("tasks");
  const items = new Map([...list.children].map((li) => [li.dataset.node, li]));
  const wanted = [];
  for (const task of job.tasks ?? []) {
    let li = items.get(task.nodeId);
    if (!li) {
      li = document.createElement("li");
      li.dataset.node = task.nodeId;
      const label = document.createElement("label");
      const name = document.createElement("span");
      name.className = "node";
      const text = document.createElement("span");
      text.className = "task-status";
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.id = `task-${wanted.length}-${Math.random().toString(36).slice(2)}`;
      label.htmlFor = bar.id;
      label.append(name, text);
      li.append(label, bar);
    }
    const percent = taskProgress(task);
    li.querySelector(".node").textContent = task.nodeId;
    li.querySelector(".task-status").textContent = `${task.status}, ${percent}%`;
    const bar = li.querySelector("progress");
    bar.value = percent;
    bar.textContent = `${percent}%`;
    bar.setAttribute("aria-valuetext", `${task.nodeId}: ${task.status}, ${percent}%`);
    li.dataset.status = task.status;
    li.dataset.progress = String(percent);
    wanted.push(li);
  }
  list.replaceChildren(...wanted);
  if (terminal(job.status)) stopDemo();
  markOpenInList();
}

// decodeValue reads a watch message's value: verbatim JSON in "value", or
// base64 in "value64" when the bytes could not stand in a JSON document.
function decodeValue(m) {
  if ("value" in m) return m.value;
  if ("value64" in m) {
    const bytes = Uint8Array.from(atob(m.value64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  }
  return null;
}

function onMessage(m, id) {
  if (id !== open.id) return; // a message of a job no longer open
  if (m.at !== undefined) open.at = String(m.at);
  switch (m.type) {
    case "start":
      if (m.from === "resume") break; // every change since open.at follows
      // A snapshot or a resync: the state whole. A job's versions grow
      // even across a delete, so an older version is never shown; no
      // version means the job is gone now.
      if (m.version) renderJob(decodeValue(m), m.version);
      else renderJob(null, open.version, { force: true });
      break;
    case "set":
      if (m.truncated) {
        refetchJob(id); // too large for a message: read it instead
      } else {
        renderJob(decodeValue(m), m.version);
      }
      break;
    case "delete":
      renderJob(null, open.version, { force: true });
      break;
    default: // events: not used by this page
  }
}

async function refetchJob(id) {
  const res = await fetch(`/jobs/${encodeURIComponent(id)}`);
  if (!res.ok || id !== open.id) return;
  const version = Number(res.headers.get("X-Version") ?? open.version);
  renderJob(await res.json(), version);
}

// watch opens the open job's watch, with a fresh token from the job's
// token route (a browser cannot send an Authorization header with a
// WebSocket, so the Worker signs a short-lived token for this one job).
async function watch() {
  const id = open.id;
  clearTimeout(open.retryTimer);
  $("connection").textContent = open.at ? "reconnecting…" : "connecting…";
  let token;
  try {
    const res = await fetch(`/jobs/${encodeURIComponent(id)}/watch-token`, { method: "POST" });
    if (!res.ok) throw new Error(`token: ${res.status}`);
    token = (await res.json()).token;
  } catch {
    return retry(id);
  }
  if (id !== open.id) return;
  const url = new URL(`/jobs/${encodeURIComponent(id)}/watch`, location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token);
  if (open.at) url.searchParams.set("after", open.at);
  const ws = new WebSocket(url);
  open.socket = ws;
  ws.onopen = () => {
    open.retryMs = RETRY_MIN_MS;
    $("connection").textContent = "live";
  };
  ws.onmessage = (e) => onMessage(JSON.parse(e.data), id);
  ws.onclose = () => {
    if (open.socket === ws) {
      open.socket = null;
      retry(id);
    }
  };
}

function retry(id) {
  if (id !== open.id) return;
  $("connection").textContent = "reconnecting…";
  open.retryTimer = setTimeout(watch, open.retryMs);
  open.retryMs = Math.min(open.retryMs * 2, RETRY_MAX_MS);
}

function openJob(id, { demo = false } = {}) {
  if (open.socket) {
    const ws = open.socket;
    open.socket = null;
    ws.close(1000, "another job");
  }
  clearTimeout(open.retryTimer);
  stopDemo();
  Object.assign(open, { id, job: null, version: 0, at: "", retryMs: RETRY_MIN_MS, demo });
  $("tasks").replaceChildren();
  if (location.hash !== `#job=${id}`) history.replaceState(null, "", `#job=${encodeURIComponent(id)}`);
  watch();
  if (demo) open.demoTimer = setTimeout(advanceDemo, DEMO_STEP_MS);
}

// advanceDemo moves the demo job on by one step (POST /jobs/{id}/advance),
// until it is finished: the page's own requests drive it, so a newcomer
// sees progress without a client of their own.
async function advanceDemo() {
  const id = open.id;
  if (!open.demo || (open.job && terminal(open.job.status))) return;
  try {
    const res = await fetch(`/jobs/${encodeURIComponent(id)}/advance`, { method: "POST" });
    if (res.status === 409) return; // finished
  } catch {
    // the Worker is away: try again on the next step
  }
  if (id === open.id && open.demo) open.demoTimer = setTimeout(advanceDemo, DEMO_STEP_MS);
}

function stopDemo() {
  clearTimeout(open.demoTimer);
  open.demo = false;
}

function markOpenInList() {
  for (const li of $("jobs").children) li.setAttribute("aria-current", String(li.dataset.id === open.id));
}

async function listJobs() {
  try {
    const res = await fetch("/jobs?limit=20");
    if (!res.ok) return;
    const { jobs } = await res.json();
    jobs.sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
    $("no-jobs").hidden = jobs.length > 0;
    $("jobs").replaceChildren(
      ...jobs.map((job) => {
        const li = document.createElement("li");
        li.dataset.id = job.id;
        const a = document.createElement("a");
        a.href = `#job=${encodeURIComponent(job.id)}`;
        a.textContent = job.id.slice(0, 8);
        a.title = job.id;
        const flow = document.createElement("span");
        flow.textContent = job.flowId;
        const status = document.createElement("span");
        status.className = "status";
        // An open job's status is the live one.
        const shown = job.id === open.id && open.job ? open.job.status : job.status;
        status.textContent = shown;
        status.dataset.status = shown;
        li.append(a, flow, status);
        return li;
      }),
    );
    markOpenInList();
  } catch {
    // the Worker is away: the next round reads the list again
  } finally {
    setTimeout(listJobs, LIST_EVERY_MS);
  }
}

async function startDemo() {
  notice("Starting a demo job…");
  try {
    const res = await fetch("/jobs/demo", { method: "POST" });
    if (!res.ok) throw new Error(`the Worker answered ${res.status}`);
    const job = await res.json();
    notice("");
    openJob(job.id, { demo: true });
  } catch (e) {
    notice(`Could not start a demo job: ${e.message}`);
  }
}

function fromHash() {
  const m = /^#job=(.+)$/.exec(location.hash);
  const id = m ? decodeURIComponent(m[1]) : "";
  if (id && id !== open.id) openJob(id);
}

$("start-demo").addEventListener("click", startDemo);
window.addEventListener("hashchange", fromHash);
fromHash();
listJobs();
