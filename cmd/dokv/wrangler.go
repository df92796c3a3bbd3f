package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/dokv/dokv/internal/workerfiles"
)

// wranglerFile is what dokv dev reads of a Worker's wrangler.toml.
type wranglerFile struct {
	Name               string         `toml:"name"`
	CompatibilityDate  string         `toml:"compatibility_date"`
	CompatibilityFlags []string       `toml:"compatibility_flags"`
	Vars               map[string]any `toml:"vars"`
	DurableObjects     struct {
		Bindings []struct {
			Name       string `toml:"name"`
			ClassName  string `toml:"class_name"`
			ScriptName string `toml:"script_name"`
		} `toml:"bindings"`
	} `toml:"durable_objects"`
}

// simulated are wrangler.toml's binding keys that need wrangler's simulators
// (miniflare): dokv dev, which runs workerd alone, cannot serve them.
var simulated = []string{
	"kv_namespaces", "r2_buckets", "d1_databases", "services", "queues", "ai", "vectorize", "hyperdrive",
	"analytics_engine_datasets", "browser", "send_email", "dispatch_namespaces", "mtls_certificates",
	"workflows", "images", "assets",
}

// readWrangler reads the Worker's configuration for dokv dev from its
// wrangler.toml: the Durable Object bindings (of class DokvObject), string
// vars, and the compatibility date and flags. A binding that only wrangler
// can simulate is an error that says to run `npx wrangler dev`.
func readWrangler(path string) (workerfiles.Config, error) {
	var w wranglerFile
	md, err := toml.DecodeFile(path, &w)
	if errors.Is(err, os.ErrNotExist) {
		return workerfiles.Config{}, fmt.Errorf("%s not found: write it with `dokv init PACKAGE`", path)
	}
	if err != nil {
		return workerfiles.Config{}, fmt.Errorf("reading %s: %w", path, err)
	}
	var needWrangler []string
	for _, key := range simulated {
		if md.IsDefined(key) {
			needWrangler = append(needWrangler, key)
		}
	}
	if len(needWrangler) > 0 {
		return workerfiles.Config{}, fmt.Errorf("%s binds %s, which workerd alone cannot serve: "+
			"build with `dokv build PACKAGE`, then run `npx wrangler dev` beside wrangler.toml", path, strings.Join(needWrangler, ", "))
	}
	name := w.Name
	if name == "" {
		name = "dokv-worker"
	}
	c := workerfiles.Config{Name: name, UniqueKey: name, Vars: map[string]string{},
		CompatibilityDate: w.CompatibilityDate, CompatibilityFlags: w.CompatibilityFlags}
	for _, b := range w.DurableObjects.Bindings {
		if b.ClassName != workerfiles.ClassName || b.ScriptName != "" {
			return workerfiles.Config{}, fmt.Errorf("%s: Durable Object binding %s is of class %q of script %q; dokv dev serves only "+
				"this Worker's %s objects: run `npx wrangler dev` for the others", path, b.Name, b.ClassName, b.ScriptName, workerfiles.ClassName)
		}
		c.Bindings = append(c.Bindings, b.Name)
	}
	if len(c.Bindings) == 0 {
		return workerfiles.Config{}, fmt.Errorf("%s binds no Durable Object namespace of class %s: add one with `dokv init -force`, "+
			"or by hand ([[durable_objects.bindings]])", path, workerfiles.ClassName)
	}
	names := make([]string, 0, len(w.Vars))
	for k := range w.Vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		s, ok := w.Vars[k].(string)
		if !ok {
			return workerfiles.Config{}, fmt.Errorf("%s: var %s is not a string; dokv dev serves string vars only: run `npx wrangler dev`", path, k)
		}
		c.Vars[k] = s
	}
	return c, nil
}
