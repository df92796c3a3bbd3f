package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// devVarsFile is wrangler's file of local secrets, beside wrangler.toml:
// `wrangler dev` reads it, and so does `dokv dev`, so that one file serves
// both and secrets such as DOKV_ADMIN_SECRET need no flag (which would land
// in shell histories and process lists).
const devVarsFile = ".dev.vars"

// readDevVars reads a .dev.vars file; a missing file is no error and gives
// no variables.
func readDevVars(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	vars, err := parseDevVars(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return vars, nil
}

// parseDevVars parses the dotenv syntax wrangler reads .dev.vars with (it
// uses the dotenv package's parse, without variable expansion), so that a
// file means the same to both:
//
//	# a comment
//	KEY=value            unquoted: up to a # or the end of the line, trimmed
//	export KEY=value     the export prefix of shell scripts is allowed
//	KEY="a # b\n"        double quotes: # is kept, \n and \r become newline and return
//	KEY='a\n'            single quotes and backquotes: the text as it is
//	KEY="line one
//	line two"            quoted values may span lines
//
// A later KEY replaces an earlier one. Where dotenv silently skips a line
// it cannot read, parseDevVars reports it by number, because a skipped
// secret surfaces much later as a refused request. Errors name lines and
// keys, never values: they are secrets.
func parseDevVars(src string) (map[string]string, error) {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	vars := map[string]string{}
	line := 1
	for len(src) > 0 {
		s := strings.TrimLeft(src, " \t")
		if s == "" {
			break
		}
		switch s[0] {
		case '\n':
			src, line = s[1:], line+1
			continue
		case '#':
			_, src = cutLine(s)
			line++
			continue
		}
		if rest, ok := strings.CutPrefix(s, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			s = strings.TrimLeft(rest, " \t")
		}
		n := 0
		for n < len(s) && isKeyByte(s[n]) {
			n++
		}
		key := s[:n]
		s = strings.TrimLeft(s[n:], " \t")
		if key == "" || !strings.HasPrefix(s, "=") {
			return nil, fmt.Errorf("line %d: want KEY=value (KEY of letters, digits, _, . and -), or a # comment", line)
		}
		s = strings.TrimLeft(s[1:], " \t")
		var value, rest string
		if s != "" && (s[0] == '"' || s[0] == '\'' || s[0] == '`') {
			end := closingQuote(s)
			if end < 0 {
				return nil, fmt.Errorf("line %d: the value of %s opens a quote (%c) that never closes", line, key, s[0])
			}
			value = s[1:end]
			startLine := line
			line += strings.Count(value, "\n")
			var tail string
			tail, rest = cutLine(s[end+1:])
			if tail = strings.TrimSpace(tail); tail != "" && tail[0] != '#' {
				from := ""
				if startLine != line {
					from = fmt.Sprintf(" (from line %d)", startLine)
				}
				return nil, fmt.Errorf("line %d: text after the quoted value of %s%s; quote all of it", line, key, from)
			}
			if s[0] == '"' {
				value = strings.NewReplacer(`\n`, "\n", `\r`, "\r").Replace(value)
			}
		} else {
			value, rest = cutLine(s)
			value, _, _ = strings.Cut(value, "#")
			value = strings.TrimSpace(value)
		}
		vars[key] = value
		src, line = rest, line+1
	}
	return vars, nil
}

// cutLine splits s after its first line, dropping the newline.
func cutLine(s string) (line, rest string) {
	line, rest, _ = strings.Cut(s, "\n")
	return line, rest
}

// closingQuote returns the index of the quote that closes the one s starts
// with, or -1. As in dotenv, a backslash before the quote character keeps
// it from closing (and stays in the value).
func closingQuote(s string) int {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == q:
			i++
		case s[i] == q:
			return i
		}
	}
	return -1
}

// isKeyByte reports whether c may be part of a .dev.vars key (dotenv's
// [\w.-]).
func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
}
