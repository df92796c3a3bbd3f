// Command dokv sets up, builds and runs a Go Worker that uses dokv, writing
// the JavaScript glue from the same dokv version as the library, so the two
// always match. A Worker is a Go main package with its wrangler.toml beside
// it and its build in build/ beside that:
//
//	yourworker/
//	  main.go          package main: worker.Serve(...)
//	  wrangler.toml    written once by `dokv init`, then yours to edit (main = "build/entry.mjs")
//	  .gitignore       `dokv init` adds build/ and .dev.vars to it
//	  .dev.vars        your local secrets, KEY=value lines, read by `dokv dev` and `wrangler dev`
//	  build/           written by `dokv build`: app.wasm, entry.mjs, wasm_exec.js, entry.d.mts
//
// Commands (PACKAGE is a directory such as ./yourworker, or an import path):
//
//	dokv init  [flags] PACKAGE   write PACKAGE/wrangler.toml, unless it exists (-force rewrites it), and PACKAGE/.gitignore's lines
//	dokv build [flags] PACKAGE   compile PACKAGE to build/app.wasm and write the glue beside it
//	dokv dev   [flags] PACKAGE   build, then serve it on workerd with the bindings of its wrangler.toml and the secrets of its .dev.vars
//	dokv export -url URL -store NAME [-o FILE]   export a store of a running Worker as JSON Lines
//	dokv import -url URL -store NAME [-i FILE]   import JSON Lines into a store of a running Worker
//	dokv help  [command]         say how to use a command
//
// export and import go through the Worker's admin route (backup.AdminHandler)
// with the secret (backup.AdminSecretMinBytes or more) in $DOKV_ADMIN_SECRET.
//
// Add dokv to your module as a tool, so that `go tool dokv` is built from
// the dokv version in your go.mod and writes the glue of that version:
//
//	go get -tool github.com/dokv/dokv/cmd/dokv   # adds dokv to go.mod, and a tool line
//	go tool dokv init .
//	go mod tidy                                  # once main.go imports dokv
//	go tool dokv dev .
//
// With dokv replaced by a local copy (a replace directive in go.mod), add
// the tool line with `go mod edit -tool=github.com/dokv/dokv/cmd/dokv`,
// then run `go mod tidy`: that needs no module proxy to know dokv.
//
// dev needs workerd (`npm install --save-exact workerd`); it serves Durable
// Object bindings of class DokvObject, plain vars and the secrets of
// .dev.vars (DOKV_ADMIN_SECRET, for one, needs no flag), and points to
// `npx wrangler dev` for a Worker that binds KV, R2, D1 or other resources
// that only wrangler simulates. It says it is serving once workerd's port
// accepts connections, and stops workerd when it is stopped itself (Ctrl-C,
// SIGTERM).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/dokv/dokv/internal/workerfiles"
)

func main() {
	err := run(os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dokv:", err)
		os.Exit(1)
	}
}

// command is one of dokv's commands.
type command struct {
	usage string // the arguments after the command's name
	doc   string // what it does
	run   func(fs *flag.FlagSet, args []string) error
	// runTo, where set instead of run, also gets the writer for what the
	// command reports.
	runTo func(fs *flag.FlagSet, args []string, stdout io.Writer) error
}

// exec runs c with fs and args, reporting to stdout.
func (c *command) exec(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	if c.runTo != nil {
		return c.runTo(fs, args, stdout)
	}
	return c.run(fs, args)
}

var commands = map[string]*command{}

func init() {
	commands["init"] = &command{
		usage: "[-name NAME] [-binding NAME]... [-var KEY=VALUE]... [-compatibility-date DATE] [-force] PACKAGE",
		doc: "Writes PACKAGE/wrangler.toml: the Worker's entry module build/entry.mjs, its Durable Object " +
			"bindings of class DokvObject on SQLite storage, its vars and its compatibility date. An existing " +
			"wrangler.toml is kept unless -force is given (and flags that would shape it are then refused). " +
			"Adds build/ and .dev.vars (local secrets) to PACKAGE/.gitignore, creating it if need be, unless " +
			"it has them. Says what it wrote and what it left as it was.",
		runTo: runInit,
	}
	commands["build"] = &command{
		usage: "[-dir DIR] PACKAGE",
		doc: "Compiles PACKAGE with GOOS=js GOARCH=wasm to DIR/app.wasm and writes DIR/entry.mjs, Go's " +
			"DIR/wasm_exec.js and DIR/entry.d.mts (the TypeScript types of DokvObject, for a TypeScript Worker " +
			"that binds it: import type { DokvObject } from \"./build/entry.mjs\") beside it. DIR defaults to PACKAGE's directory/build, where its wrangler.toml " +
			"looks for them. wrangler.toml is never touched.",
		run: runBuild,
	}
	commands["dev"] = &command{
		usage: "[-dir DIR] [-port PORT] [-var KEY=VALUE]... PACKAGE",
		doc: "Builds PACKAGE as build does, then serves it on workerd at 127.0.0.1:PORT with the Durable Object " +
			"bindings, vars and compatibility settings of PACKAGE/wrangler.toml, keeping the objects' SQLite files " +
			"in DIR/store across runs. The secrets of PACKAGE/.dev.vars (wrangler's file of local secrets: KEY=value " +
			"lines, # comments, values optionally quoted), such as DOKV_ADMIN_SECRET, are bindings too, replacing " +
			"vars of the same name; they reach workerd through its environment, never a file. -var overrides both. " +
			"It says it is serving once the port accepts connections; Ctrl-C or SIGTERM stops workerd, then dev. " +
			"workerd comes from ./node_modules/.bin or PATH.",
		run: runDev,
	}
}

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		usage(stdout)
		return errors.New("no command: want init, build, dev, export, import or help")
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				c.help(args[1], stdout)
				return nil
			}
			return fmt.Errorf("no command %q: want init, build, dev, export or import", args[1])
		}
		usage(stdout)
		return nil
	}
	c, ok := commands[name]
	if !ok {
		usage(stdout)
		return fmt.Errorf("unknown command %q: want init, build, dev, export, import or help", name)
	}
	fs := flag.NewFlagSet("dokv "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are returned, help is printed below
	fs.Usage = func() {}
	err := c.exec(fs, args[1:], stdout)
	if errors.Is(err, flag.ErrHelp) {
		c.help(name, stdout)
	}
	return err
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: dokv COMMAND [flags] PACKAGE")
	fmt.Fprintln(w)
	for _, name := range []string{"init", "build", "dev", "export", "import"} {
		fmt.Fprintf(w, "  dokv %s %s\n", name, commands[name].usage)
	}
	fmt.Fprintln(w, "  dokv help [COMMAND]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "A Worker is a Go main package with wrangler.toml beside it (dokv init) and its build in build/ (dokv build).")
	fmt.Fprintln(w, "Deploy with `npx wrangler deploy` next to wrangler.toml; run locally with `dokv dev` or `npx wrangler dev`.")
	fmt.Fprintln(w, "Add it to your module with `go get -tool github.com/dokv/dokv/cmd/dokv` and run it as `go tool dokv`,")
	fmt.Fprintln(w, "so that it always matches the dokv version in your go.mod.")
}

func (c *command) help(name string, w io.Writer) {
	fmt.Fprintf(w, "Usage: dokv %s %s\n\n%s\n\nFlags:\n", name, c.usage, c.doc)
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	_ = c.exec(fs, []string{"-h"}, io.Discard) // defines the flags, then stops at -h
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// parse parses fs's flags and returns the one PACKAGE argument.
func parse(fs *flag.FlagSet, args []string) (string, error) {
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return "", err
	} else if err != nil {
		return "", fmt.Errorf("%w; see `dokv help %s`", err, strings.TrimPrefix(fs.Name(), "dokv "))
	}
	if fs.NArg() != 1 {
		return "", fmt.Errorf("%s takes one PACKAGE (e.g. ./yourworker), got %d arguments; see `dokv help %s`",
			fs.Name(), fs.NArg(), strings.TrimPrefix(fs.Name(), "dokv "))
	}
	return fs.Arg(0), nil
}

// parseVars turns KEY=VALUE flags into a map.
func parseVars(vars []string) (map[string]string, error) {
	m := map[string]string{}
	for _, v := range vars {
		k, val, ok := strings.Cut(v, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("-var %q: want KEY=VALUE", v)
		}
		m[k] = val
	}
	return m, nil
}

func runInit(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	name := fs.String("name", "", "the Worker's name (default: PACKAGE's directory name)")
	date := fs.String("compatibility-date", workerfiles.CompatibilityDate,
		"the Workers compatibility date; the default is the oldest with every runtime behaviour dokv needs")
	force := fs.Bool("force", false, "rewrite an existing wrangler.toml")
	var bindings, vars listFlag
	fs.Var(&bindings, "binding", "a Durable Object namespace binding of class DokvObject, repeatable (default DOKV)")
	fs.Var(&vars, "var", "a plain-text variable KEY=VALUE, repeatable")
	pkg, err := parse(fs, args)
	if err != nil {
		return err
	}
	dir, err := packageDir(pkg)
	if err != nil {
		return err
	}
	if *name == "" {
		*name = workerName(filepath.Base(dir))
	}
	if len(bindings) == 0 {
		bindings = listFlag{"DOKV"}
	}
	c := workerfiles.Config{Name: *name, FilesDir: "build/", Bindings: bindings, UniqueKey: *name, CompatibilityDate: *date}
	if c.Vars, err = parseVars(vars); err != nil {
		return err
	}
	path := filepath.Join(dir, "wrangler.toml")
	_, err = os.Stat(path)
	keep := err == nil && !*force
	if keep {
		// Flags that shape wrangler.toml would change nothing: say so
		// rather than leave the user believing they did.
		var shaping []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name != "force" {
				shaping = append(shaping, "-"+f.Name)
			}
		})
		if len(shaping) > 0 {
			return fmt.Errorf("%s exists and is kept, so %s would change nothing: edit it, or rewrite it with `dokv init -force`",
				display(path), strings.Join(shaping, ", "))
		}
		fmt.Fprintf(stdout, "kept    %s (it exists; edit it, or rewrite it with -force)\n", display(path))
	} else {
		if err := os.WriteFile(path, []byte(workerfiles.WranglerConfig(c)), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote   %s\n", display(path))
	}
	gitignore := filepath.Join(dir, ".gitignore")
	added, created, err := ensureIgnored(gitignore)
	switch {
	case err != nil:
		return err
	case created:
		fmt.Fprintf(stdout, "wrote   %s (%s)\n", display(gitignore), strings.Join(added, ", "))
	case len(added) > 0:
		fmt.Fprintf(stdout, "added   %s to %s\n", strings.Join(added, ", "), display(gitignore))
	default:
		fmt.Fprintf(stdout, "kept    %s (it ignores %s already)\n", display(gitignore), strings.Join(ignored, " and "))
	}
	return nil
}

func runBuild(fs *flag.FlagSet, args []string) error {
	out := fs.String("dir", "", "output directory (default: PACKAGE's directory/build)")
	pkg, err := parse(fs, args)
	if err != nil {
		return err
	}
	_, err = build(pkg, *out)
	return err
}

// packageDir is the directory of the Go package pkg: a directory (./w, or
// an absolute path, which may be in another module) or an import path.
func packageDir(pkg string) (string, error) {
	if fi, err := os.Stat(pkg); err == nil && fi.IsDir() {
		return filepath.Abs(pkg)
	}
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("go list %s: %s", pkg, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("go list %s: %w", pkg, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// workerName makes a Worker name (lowercase letters, digits, dashes) of a
// directory name.
func workerName(dir string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(dir) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	if name := strings.Trim(b.String(), "-"); name != "" {
		return name
	}
	return "dokv-worker"
}

// build compiles pkg to DIR/app.wasm and writes the glue beside it; DIR is
// out, or pkg's directory/build. It returns DIR.
func build(pkg, out string) (string, error) {
	dir, err := packageDir(pkg)
	if err != nil {
		return "", err
	}
	if out == "" {
		out = filepath.Join(dir, "build")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	wasm, err := filepath.Abs(filepath.Join(out, "app.wasm"))
	if err != nil {
		return "", err
	}
	// Built from its own directory, so that a package of another module
	// builds with that module's go.mod.
	cmd := exec.Command("go", "build", "-trimpath", "-o", wasm, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("GOOS=js GOARCH=wasm go build %s: %w", pkg, err)
	}
	wasmExec, err := workerfiles.WasmExec()
	if err != nil {
		return "", err
	}
	if err := writeGlue(out, wasmExec); err != nil {
		return "", err
	}
	return out, nil
}

// writeGlue writes the files beside app.wasm: the entry module, Go's
// wasm_exec.js, and the entry module's TypeScript declarations, which a
// TypeScript Worker binding DokvObject imports from "./build/entry.mjs".
func writeGlue(out string, wasmExec []byte) error {
	for name, data := range map[string][]byte{
		"entry.mjs":    workerfiles.EntryModule,
		"entry.d.mts":  workerfiles.EntryTypes,
		"wasm_exec.js": wasmExec,
	} {
		if err := os.WriteFile(filepath.Join(out, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
