// Command dokv writes the JavaScript glue of a Go Worker that uses dokv and
// builds its wasm, so the glue always matches the library version in use:
//
//	go run github.com/dokv/dokv/cmd/dokv@VERSION init  [flags]          # entry.mjs, wasm_exec.js, wrangler.toml, workerd.capnp
//	go run github.com/dokv/dokv/cmd/dokv@VERSION build [flags] PACKAGE  # app.wasm, entry.mjs, wasm_exec.js
//	go run github.com/dokv/dokv/cmd/dokv@VERSION dev   [flags] PACKAGE  # build, then serve it on workerd
//
// Flags (all commands):
//
//	-dir DIR        output directory (default "build")
//	-name NAME      the Worker's name in wrangler.toml (default "dokv-worker")
//	-binding NAME   a Durable Object namespace binding of class DokvObject; repeatable (default DOKV)
//	-var KEY=VALUE  a plain-text variable; repeatable
//	-port PORT      dev: the loopback port workerd listens on (default 8787)
//
// dev runs workerd from ./node_modules/.bin (npm install workerd) or PATH,
// and keeps the objects' SQLite files in DIR/store across runs.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dokv/dokv/internal/workerfiles"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dokv:", err)
		os.Exit(1)
	}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: dokv init|build|dev [flags] [PACKAGE]")
	}
	cmd := args[0]
	fs := flag.NewFlagSet("dokv "+cmd, flag.ContinueOnError)
	dir := fs.String("dir", "build", "output directory")
	name := fs.String("name", "dokv-worker", "the Worker's name in wrangler.toml")
	port := fs.Int("port", 8787, "dev: the loopback port workerd listens on")
	var bindings, vars listFlag
	fs.Var(&bindings, "binding", "a Durable Object namespace binding of class DokvObject (repeatable)")
	fs.Var(&vars, "var", "a plain-text variable KEY=VALUE (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if len(bindings) == 0 {
		bindings = listFlag{"DOKV"}
	}
	c := workerfiles.Config{Name: *name, Bindings: bindings, UniqueKey: *name, Vars: map[string]string{}}
	for _, v := range vars {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return fmt.Errorf("-var %q: want KEY=VALUE", v)
		}
		c.Vars[k] = val
	}
	switch cmd {
	case "init":
		if fs.NArg() != 0 {
			return errors.New("init takes no package")
		}
		return writeGlue(*dir, c, true)
	case "build":
		if fs.NArg() != 1 {
			return errors.New("usage: dokv build [flags] PACKAGE")
		}
		if err := build(*dir, fs.Arg(0)); err != nil {
			return err
		}
		return writeGlue(*dir, c, false)
	case "dev":
		if fs.NArg() != 1 {
			return errors.New("usage: dokv dev [flags] PACKAGE")
		}
		if err := build(*dir, fs.Arg(0)); err != nil {
			return err
		}
		if err := writeGlue(*dir, c, true); err != nil {
			return err
		}
		return dev(*dir, *port)
	}
	return fmt.Errorf("unknown command %q: want init, build or dev", cmd)
}

// writeGlue writes the entry module and Go's wasm_exec.js, and with configs
// also wrangler.toml and workerd.capnp.
func writeGlue(dir string, c workerfiles.Config, configs bool) error {
	wasmExec, err := workerfiles.WasmExec()
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"entry.mjs":    workerfiles.EntryModule,
		"wasm_exec.js": wasmExec,
	}
	if configs {
		files["wrangler.toml"] = []byte(workerfiles.WranglerConfig(c))
		files["workerd.capnp"] = []byte(workerfiles.WorkerdConfig(c))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func build(dir, pkg string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	out, err := filepath.Abs(filepath.Join(dir, "app.wasm"))
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("GOOS=js GOARCH=wasm go build %s: %w", pkg, err)
	}
	return nil
}

func dev(dir string, port int) error {
	bin := filepath.Join("node_modules", ".bin", "workerd")
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("workerd"); err != nil {
			return errors.New("workerd not found in ./node_modules/.bin or PATH: run `npm install workerd`")
		}
	} else if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	store, err := filepath.Abs(filepath.Join(dir, "store"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(store, 0o755); err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	fmt.Fprintf(os.Stderr, "dokv: serving on http://%s (objects stored in %s)\n", addr, store)
	cmd := exec.Command(bin, "serve", "workerd.capnp", "--socket-addr", "http="+addr, "--directory-path", "store="+store)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}
