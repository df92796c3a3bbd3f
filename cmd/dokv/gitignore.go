package main

import (
	"errors"
	"os"
	"strings"
)

// ignored are the lines dokv init makes sure a Worker's .gitignore has:
// the build, which dokv build rewrites from the sources, and wrangler's file
// of local secrets, which must never be committed.
var ignored = []string{"build/", devVarsFile}

// ensureIgnored adds to the .gitignore at path the lines of ignored it
// lacks, creating the file if there is none, and never touches a line that
// is there. It returns the lines it added and whether it created the file.
func ensureIgnored(path string) (added []string, created bool, err error) {
	data, err := os.ReadFile(path)
	created = errors.Is(err, os.ErrNotExist)
	if err != nil && !created {
		return nil, false, err
	}
	have := map[string]bool{}
	for line := range strings.Lines(string(data)) {
		have[ignoreKey(line)] = true
	}
	for _, line := range ignored {
		if !have[ignoreKey(line)] {
			added = append(added, line)
		}
	}
	if len(added) == 0 {
		return nil, false, nil
	}
	var b strings.Builder
	if len(data) > 0 && data[len(data)-1] != '\n' {
		b.WriteByte('\n')
	}
	for _, line := range added {
		b.WriteString(line + "\n")
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return nil, false, err
	}
	return added, created, f.Close()
}

// ignoreKey is the pattern a .gitignore line ignores, in one spelling, so
// that a line the user wrote another way counts as present: "build",
// "/build" and "build/" all ignore the build directory beside .gitignore,
// and wrangler's own ".dev.vars*" covers .dev.vars.
func ignoreKey(line string) string {
	key := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "/"), "/")
	if key == devVarsFile+"*" {
		return devVarsFile
	}
	return key
}
