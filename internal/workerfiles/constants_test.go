package workerfiles_test

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dokv/dokv/internal/workerfiles"
	"github.com/dokv/dokv/internal/workers"
)

// jsOnlyConstants are the constants dokvConstants adds in js/wasm builds
// only, where dokvRecord's operations are defined.
var jsOnlyConstants = []string{"recordGet", "recordSet", "recordDelete"}

// The entry module reads its shared limits, codes and names from Go: every
// C.name it reads is one Go provides, and Go provides none it does not
// read.
func TestEntryModule_ReadsOnlyConstantsGoProvides(t *testing.T) {
	provided := workers.EntryConstants()
	names := slices.Collect(func(yield func(string) bool) {
		for name := range provided {
			if !yield(name) {
				return
			}
		}
	})
	names = append(names, jsOnlyConstants...)
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bC\.([A-Za-z]\w*)`).FindAllStringSubmatch(string(workerfiles.EntryModule), -1) {
		used[m[1]] = true
		assert.Contains(t, names, m[1], "entry.mjs reads C.%s, which Go does not provide", m[1])
	}
	for _, name := range names {
		assert.True(t, used[name], "Go provides %s, which entry.mjs never reads", name)
	}
}

// The entry module holds no copy of a constant Go provides: no literal of
// its value (numbers of 100 and more, and strings), and no JS constant of
// the names it used to have for them.
func TestEntryModule_HoldsNoCopyOfGoConstants(t *testing.T) {
	src := jsCode(string(workerfiles.EntryModule))
	for name, v := range workers.EntryConstants() {
		switch v := v.(type) {
		case int:
			if v < 100 {
				continue // too common to tell a copy (1, 2, 3 are also indexes, flags, lengths)
			}
			noMatch(t, `(^|[^\w.])`+strconv.Itoa(v)+`([^\w.]|$)`, src, "entry.mjs copies %s (%d)", name, v)
			for _, shift := range []int{10, 20, 30} {
				if v%(1<<shift) == 0 {
					noMatch(t, fmt.Sprintf(`\b%d\s*<<\s*%d\b`, v>>shift, shift), src, "entry.mjs copies %s (%d)", name, v)
				}
			}
		case string:
			for _, q := range []string{`"`, `'`, "`"} {
				noMatch(t, regexp.QuoteMeta(q+v+q), src, "entry.mjs copies %s (%q)", name, v)
			}
		}
	}
	noMatch(t, `const\s+(RECORD|CLOSE|WATCH|MAX)_\w*\s*=`, src, "a constant Go provides is defined in entry.mjs")
}

// noMatch fails the test, showing the match, if pattern matches src.
func noMatch(t *testing.T, pattern, src string, msgAndArgs ...any) {
	t.Helper()
	if m := regexp.MustCompile(pattern).FindString(src); m != "" {
		assert.Fail(t, fmt.Sprintf("found %q", m), msgAndArgs...)
	}
}

// jsCode is src without its // comments, which may name values.
func jsCode(src string) string {
	var b strings.Builder
	for line := range strings.Lines(src) {
		if i := strings.Index(line, "// "); i >= 0 && !strings.Contains(line[:i], "`") && !strings.Contains(line[:i], `"`) {
			line = line[:i] + "\n"
		}
		b.WriteString(line)
	}
	return b.String()
}

func TestEntryConstants_AreJSONValues(t *testing.T) {
	for name, v := range workers.EntryConstants() {
		switch v.(type) {
		case int, string, map[string]int:
		default:
			require.Failf(t, "unexpected type", "%s is %T", name, v)
		}
	}
}
