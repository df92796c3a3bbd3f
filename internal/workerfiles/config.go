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

// CompatibilityDate is the Workers compatibility date dokv's configs use:
// RPC to Durable Objects needs 2024-04-03 or later, and the pinned workerd
// accepts dates up to its release.
const CompatibilityDate = "2026-11-01"

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
	b.WriteString(CompatibilityDate)
	b.WriteString("\",\n  compatibilityFlags = [" + quotedList(CompatibilityFlags) + "],\n  durableObjectNamespaces = [\n")
	fmt.Fprintf(&b, "    (className = %q, uniqueKey = %q, enableSql = true),\n", ClassName, c.UniqueKey)
	b.WriteString("  ],\n  durableObjectStorage = (localDisk = \"store\"),\n  bindings = [\n")
	for _, binding := range c.Bindings {
		fmt.Fprintf(&b, "    (name = %q, durableObjectNamespace = %q),\n", binding, ClassName)
	}
	for _, name := range sortedKeys(c.Vars) {
		fmt.Fprintf(&b, "    (name = %q, text = %q),\n", name, c.Vars[name])
	}
	b.WriteString("  ],\n);\n")
	return b.String()
}

// WranglerConfig returns a wrangler.toml that deploys the Worker with its
// Durable Object class on SQLite storage.
func WranglerConfig(c Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# wrangler.toml written by dokv. Deploy with: npx wrangler deploy\n")
	fmt.Fprintf(&b, "name = %q\nmain = %q\ncompatibility_date = %q\n", c.Name, c.FilesDir+"entry.mjs", CompatibilityDate)
	b.WriteString("compatibility_flags = [" + quotedList(CompatibilityFlags) + "]\n\n")
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
