package workerfiles

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// CompatibilityDate is the Workers compatibility date dokv writes unless
// told otherwise: the oldest that has every runtime behaviour dokv relies
// on, so that it runs on every workerd and wrangler since:
//   - JavaScript RPC to Durable Objects (stub.call(bytes), the DurableObject
//     base class): 2024-04-03 (flag "rpc");
//   - FinalizationRegistry, with which the entry module forgets the handles
//     of objects the runtime evicted: 2025-05-05 (flag "enable_weak_ref");
//     before it, those handles pile up for the life of the isolate.
//
// Newer dates work too; a date newer than a workerd's release is refused by
// that workerd (wrangler dev runs its own).
const CompatibilityDate = "2025-05-05"

// CompatibilityFlags: enable_request_signal lets the entry module cancel a
// handler's context when its client goes away.
var CompatibilityFlags = []string{"enable_request_signal"}

// Config describes a Worker built with dokv, for the configs below.
type Config struct {
	Name      string            // the Worker's name (wrangler)
	FilesDir  string            // where entry.mjs, wasm_exec.js and app.wasm are, relative to the config ("" or "build/")
	Bindings  []string          // Durable Object namespace bindings, each of class DokvObject
	UniqueKey string            // workerd's key for the namespace's storage
	Vars      map[string]string // plain-text environment variables
	// CompatibilityDate and CompatibilityFlags default to the constants
	// above when empty.
	CompatibilityDate  string
	CompatibilityFlags []string
	// EnvBindings are text bindings whose values workerd reads from its
	// own environment when it starts (binding name -> environment
	// variable), so that secrets, such as those dokv dev reads from
	// .dev.vars, are written to no file. Only WorkerdConfig writes them.
	EnvBindings map[string]string
}

// date and flags are c's compatibility date and flags, or the defaults.
func (c Config) date() string {
	if c.CompatibilityDate == "" {
		return CompatibilityDate
	}
	return c.CompatibilityDate
}

func (c Config) flags() []string {
	if c.CompatibilityFlags == nil {
		return CompatibilityFlags
	}
	return c.CompatibilityFlags
}

// WorkerdConfig returns a workerd capnp config serving the Worker on
// 127.0.0.1:8787 (override with --socket-addr http=HOST:PORT), with each
// binding's objects stored in SQLite files under the disk service "store"
// (override its path with --directory-path store=DIR). The Worker's files,
// entry.mjs, wasm_exec.js and app.wasm, sit beside the config.
func WorkerdConfig(c Config) string {
	var b strings.Builder
	b.WriteString(`# workerd config written by dokv. Run:
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
    (name = "entry.mjs", esModule = embed "` + c.FilesDir + `entry.mjs"),
    (name = "wasm_exec.js", esModule = embed "` + c.FilesDir + `wasm_exec.js"),
    (name = "app.wasm", wasm = embed "` + c.FilesDir + `app.wasm"),
  ],
  compatibilityDate = "`)
	b.WriteString(c.date())
	b.WriteString("\",\n  compatibilityFlags = [" + quotedList(c.flags()) + "],\n  durableObjectNamespaces = [\n")
	fmt.Fprintf(&b, "    (className = %q, uniqueKey = %q, enableSql = true),\n", ClassName, c.UniqueKey)
	b.WriteString("  ],\n  durableObjectStorage = (localDisk = \"store\"),\n  bindings = [\n")
	for _, binding := range c.Bindings {
		fmt.Fprintf(&b, "    (name = %q, durableObjectNamespace = %q),\n", binding, ClassName)
	}
	for _, name := range sortedKeys(c.Vars) {
		fmt.Fprintf(&b, "    (name = %q, text = %q),\n", name, c.Vars[name])
	}
	for _, name := range sortedKeys(c.EnvBindings) {
		fmt.Fprintf(&b, "    (name = %q, fromEnvironment = %q),\n", name, c.EnvBindings[name])
	}
	b.WriteString("  ],\n);\n")
	return b.String()
}

// WranglerConfig returns a wrangler.toml that deploys the Worker with its
// Durable Object class on SQLite storage.
func WranglerConfig(c Config) string {
	var b strings.Builder
	b.WriteString("# wrangler.toml written by `dokv init`. It is yours to edit (add vars, KV, R2, D1):\n")
	b.WriteString("# dokv build and dokv dev never rewrite it. Build with `dokv build .`, then deploy with\n")
	b.WriteString("# `npx wrangler deploy`, or run locally with `dokv dev .` (or `npx wrangler dev`).\n")
	fmt.Fprintf(&b, "name = %q\nmain = %q\ncompatibility_date = %q\n", c.Name, c.FilesDir+"entry.mjs", c.date())
	b.WriteString("compatibility_flags = [" + quotedList(c.flags()) + "]\n\n")
	b.WriteString("# The Go program, and Go's wasm_exec.js, beside entry.mjs.\n")
	b.WriteString("[[rules]]\ntype = \"CompiledWasm\"\nglobs = [\"**/*.wasm\"]\nfallthrough = false\n\n")
	b.WriteString("[[rules]]\ntype = \"ESModule\"\nglobs = [\"**/*.js\", \"**/*.mjs\"]\nfallthrough = false\n\n")
	for _, binding := range c.Bindings {
		fmt.Fprintf(&b, "[[durable_objects.bindings]]\nname = %q\nclass_name = %q\n\n", binding, ClassName)
	}
	b.WriteString("# SQLite-backed Durable Objects: dokv stores entries with ctx.storage.sql.\n")
	fmt.Fprintf(&b, "[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [%q]\n", ClassName)
	if len(c.Vars) > 0 {
		b.WriteString("\n[vars]\n")
		for _, name := range sortedKeys(c.Vars) {
			fmt.Fprintf(&b, "%s = %q\n", name, c.Vars[name])
		}
	}
	return b.String()
}

// quotedList writes strings as a comma-separated list of quoted strings,
// which capnp and TOML both read.
func quotedList(items []string) string {
	quoted := make([]string, len(items))
	for i, item := range items {
		quoted[i] = strconv.Quote(item)
	}
	return strings.Join(quoted, ", ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WasmExec returns Go's wasm_exec.js for the go command on PATH, which must
// be the toolchain that builds the wasm: the two are a matched pair.
func WasmExec() ([]byte, error) {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	goroot := strings.TrimSpace(string(out))
	for _, rel := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
		if data, err := os.ReadFile(filepath.Join(goroot, rel)); err == nil {
			return data, nil
		}
	}
	return nil, fmt.Errorf("no wasm_exec.js under %s", goroot)
}
