// Drives the example Worker's dashboard in headless Chromium for
// browser_test.go: one JSON command per line on stdin, one JSON answer per
// line on stdout. Run from the repository root, which holds node_modules.
//
//   {"cmd":"open","id":ID}             open the job's page; answers when its tasks show
//   {"cmd":"wait","status":S}          wait until the open job shows status S; answers
//                                      with what each task's bar showed, in order
//   {"cmd":"click-demo","screenshot":P}
//                                      press "Start a demo job"; answers with its ID once
//                                      the page advanced it to completion, after a PNG of
//                                      the page mid-way to P
//   {"cmd":"console"}                  the page's console errors and uncaught exceptions
//   {"cmd":"quit"}
//
// argv[2] is the dashboard's URL.
import readline from "node:readline";
import chromium from "@sparticuz/chromium";
import puppeteer from "puppeteer-core";

const url = process.argv[2];
const errors = [];
const reply = (v) => process.stdout.write(JSON.stringify(v) + "\n");

const browser = await puppeteer.launch({
  args: [...chromium.args, "--disable-background-networking", "--disable-component-update", "--no-first-run"],
  executablePath: await chromium.executablePath(),
  headless: true,
  defaultViewport: { width: 900, height: 720, deviceScaleFactor: 1 },
});
const page = await browser.newPage();
page.on("console", (m) => {
  if (m.type() === "error") errors.push({ at: Date.now(), text: m.text(), url: m.location()?.url ?? "" });
});
page.on("pageerror", (e) => errors.push({ at: Date.now(), text: `uncaught: ${e.message}`, url: "" }));

// record keeps, per task, every state (progress, status) its row showed.
// A render sets both of a row's attributes, even when unchanged; the
// mutation records of one batch hold each change's old value, so the value
// after a change is the old value of the next change of that attribute (or
// the current value after the last): no step is lost between two observer
// callbacks.
const record = () => {
  window.__shown = {};
  const push = (node, progress, status) => {
    const rows = (window.__shown[node] ??= []);
    const last = rows[rows.length - 1];
    if (!last || last.progress !== progress || last.status !== status) rows.push({ progress, status });
  };
  for (const li of document.querySelectorAll("#tasks li")) push(li.dataset.node, Number(li.dataset.progress), li.dataset.status);
  new MutationObserver((records) => {
    const changes = new Map(); // li -> {progress: [records], status: [records]}
    for (const r of records) {
      if (r.type === "childList") {
        for (const n of r.addedNodes) {
          if (n instanceof HTMLLIElement && !changes.has(n)) changes.set(n, { "data-progress": [], "data-status": [], added: true });
        }
      } else if (r.target instanceof HTMLLIElement) {
        if (!changes.has(r.target)) changes.set(r.target, { "data-progress": [], "data-status": [] });
        changes.get(r.target)[r.attributeName].push(r);
      }
    }
    for (const [li, c] of changes) {
      const after = (name, key) => [...c[name].slice(1).map((r) => r.oldValue), li.dataset[key]];
      const progress = c["data-progress"].length ? after("data-progress", "progress") : [li.dataset.progress];
      const status = c["data-status"].length ? after("data-status", "status") : [li.dataset.status];
      for (let i = 0; i < Math.max(progress.length, status.length); i++) {
        push(li.dataset.node, Number(progress[Math.min(i, progress.length - 1)]), status[Math.min(i, status.length - 1)]);
      }
    }
  }).observe(document.getElementById("tasks"), {
    subtree: true, childList: true, attributes: true, attributeOldValue: true,
    attributeFilter: ["data-progress", "data-status"],
  });
};

await page.goto(url, { waitUntil: "load" });

const commands = readline.createInterface({ input: process.stdin });
for await (const line of commands) {
  const c = JSON.parse(line);
  try {
    switch (c.cmd) {
      case "open":
        await page.evaluate((id) => (location.hash = `#job=${encodeURIComponent(id)}`), c.id);
        await page.waitForFunction((id) => document.getElementById("job-id").textContent === id &&
          document.querySelectorAll("#tasks li").length > 0, { timeout: 20000 }, c.id);
        await page.evaluate(record);
        reply({ ok: true });
        break;
      case "wait":
        await page.waitForFunction((s) => document.getElementById("job-status").textContent === s,
          { timeout: c.timeoutMs ?? 30000 }, c.status);
        reply({ ok: true, shown: await page.evaluate(() => window.__shown) });
        break;
      case "click-demo": {
        const before = await page.$eval("#job-id", (e) => e.textContent);
        await page.click("#start-demo");
        await page.waitForFunction((old) => document.getElementById("job-id").textContent !== old, { timeout: 20000 }, before);
        if (c.screenshot) {
          // Mid-way: the first tasks done, one running.
          await page.waitForFunction(() => document.querySelectorAll('#tasks li[data-status="completed"]').length >= 2 &&
            document.querySelector('#tasks li[data-status="running"]') !== null, { timeout: 30000 });
          await page.screenshot({ path: c.screenshot });
        }
        await page.waitForFunction(() => document.getElementById("job-status").textContent === "completed", { timeout: 60000 });
        reply({ ok: true, id: await page.$eval("#job-id", (e) => e.textContent) });
        break;
      }
      case "console":
        reply({ ok: true, errors });
        break;
      case "quit":
        reply({ ok: true });
        await browser.close();
        process.exit(0);
      default:
        reply({ ok: false, error: `unknown command ${c.cmd}` });
    }
  } catch (e) {
    reply({ ok: false, error: String(e?.stack ?? e), errors });
  }
}
await browser.close();
