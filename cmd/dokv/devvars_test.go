package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// .dev.vars means to dokv dev what it means to wrangler dev, whose dotenv
// parse these cases follow: comments, export, quotes of three kinds,
// escapes in double quotes only, values over several lines, the last of a
// repeated key.
func TestParseDevVars_ReadsWhatWranglerReads(t *testing.T) {
	src := "# local secrets\r\n" +
		"DOKV_ADMIN_SECRET=0123456789abcdef0123456789abcdef\r\n" +
		"\n" +
		"  PLAIN = spaced value   # a comment\n" +
		"export EXPORTED=yes\n" +
		"EMPTY=\n" +
		`DOUBLE="a # kept\nnext"` + "\n" +
		`SINGLE='a\n # kept' # dropped` + "\n" +
		"BACK=`it's \"quoted\"`\n" +
		"ESCAPED=\"say \\\"hi\\\"\"\n" +
		"MULTI=\"line one\nline two\"\n" +
		"dotted.key-1=x\n" +
		"REPEATED=first\n" +
		"REPEATED=second"
	got, err := parseDevVars(src)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"DOKV_ADMIN_SECRET": "0123456789abcdef0123456789abcdef",
		"PLAIN":             "spaced value",
		"EXPORTED":          "yes",
		"EMPTY":             "",
		"DOUBLE":            "a # kept\nnext",
		"SINGLE":            `a\n # kept`,
		"BACK":              `it's "quoted"`,
		"ESCAPED":           `say \"hi\"`,
		"MULTI":             "line one\nline two",
		"dotted.key-1":      "x",
		"REPEATED":          "second",
	}, got)
}

// A line dotenv would skip is an error naming its line (counted across
// quoted values of several lines) and key, never a value: values are
// secrets.
func TestParseDevVars_NamesTheLineItCannotRead(t *testing.T) {
	for src, want := range map[string]string{
		"A=1\nnot a pair\n":                "line 2: want KEY=value",
		"A=\"x\ny\"\nB='open secret\n":     "line 3: the value of B opens a quote (') that never closes",
		"A=1\n\nB=\"secret\" trailing\n":   "line 3: text after the quoted value of B",
		"# only\n=secret\n":                "line 2: want KEY=value",
		"KEY secret\n":                     "line 1: want KEY=value",
		"A=\"one\ntwo\"\nB=\"x\"junk\nC=1": "line 3: text after the quoted value of B; quote all of it",
		"A=1\nB=\"x\ny\" junk\n":           "line 3: text after the quoted value of B (from line 2)",
	} {
		_, err := parseDevVars(src)
		require.Error(t, err, "%q", src)
		assert.Contains(t, err.Error(), want, "%q", src)
		assert.NotContains(t, err.Error(), "secret\"", "%q", src)
		assert.NotContains(t, err.Error(), "open secret", "%q", src)
	}
}

func TestReadDevVars_MissingFileIsNoVariables(t *testing.T) {
	vars, err := readDevVars(filepath.Join(t.TempDir(), devVarsFile))
	require.NoError(t, err)
	assert.Empty(t, vars)

	path := filepath.Join(t.TempDir(), devVarsFile)
	require.NoError(t, os.WriteFile(path, []byte("oops\n"), 0o600))
	_, err = readDevVars(path)
	assert.ErrorContains(t, err, path+": line 1")
}
