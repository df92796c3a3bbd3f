package worker

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
)

// ErrBadURL is the error of a request URL whose path is not absolute or not
// validly percent-encoded.
var ErrBadURL = errors.New("worker: malformed request URL")

// Request is one fetch request. Its fields must not be changed by a handler,
// and neither it nor its Body may be used after ServeFetch returns.
type Request struct {
	// Method is the request method ("GET", "PUT", ...).
	Method string
	// URL is the full URL the Worker received ("https://host/path?query").
	URL string
	// Path is the URL's path, percent-decoded ("/a b" for "/a%20b").
	Path string
	// RawQuery is the URL's query without the '?', still encoded.
	RawQuery string
	// Body is the whole request body (empty for GET and HEAD).
	Body []byte

	ctx     context.Context
	headers headerSource
}

// headerSource is where a Request's headers come from: the Workers runtime,
// on demand, or a map.
type headerSource interface {
	lookup(lowerName string) (string, bool)
	all() iter.Seq2[string, string]
}

// NewRequest returns a Request for a handler outside a Worker: in tests, or
// behind an adapter such as workerhttp's. header may be an http.Header or any
// map of names to values, or nil. It fails with an error wrapping
// ErrBadURL when url's path is not absolute or not validly percent-encoded.
func NewRequest(ctx context.Context, method, url string, header map[string][]string, body []byte) (*Request, error) {
	r := &Request{Method: method, URL: url, Body: body, ctx: ctx, headers: mapHeaders(header)}
	if err := r.parseURL(); err != nil {
		return nil, err
	}
	return r, nil
}

// mapHeaders are headers held in a map, as net/http holds them.
type mapHeaders map[string][]string

func (h mapHeaders) lookup(lowerName string) (string, bool) {
	for name, values := range h {
		if len(values) > 0 && strings.EqualFold(name, lowerName) {
			return strings.Join(values, ", "), true
		}
	}
	return "", false
}

func (h mapHeaders) all() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for name, values := range h {
			for _, v := range values {
				if !yield(strings.ToLower(name), v) {
					return
				}
			}
		}
	}
}

// parseURL sets Path and RawQuery from URL.
func (r *Request) parseURL() error {
	rest := r.URL
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
		j := strings.IndexAny(rest, "/?#")
		if j < 0 {
			rest = "/"
		} else {
			rest = rest[j:]
		}
	}
	rest, _, _ = strings.Cut(rest, "#")
	rawPath, query, _ := strings.Cut(rest, "?")
	if !strings.HasPrefix(rawPath, "/") {
		if rawPath != "" {
			return fmt.Errorf("%w: the path must start with /: %q", ErrBadURL, r.URL)
		}
		rawPath = "/"
	}
	path, ok := unescape(rawPath, false)
	if !ok {
		return fmt.Errorf("%w: malformed percent-encoding in the path %q", ErrBadURL, rawPath)
	}
	r.Path, r.RawQuery = path, query
	return nil
}

// Context is the request's context: it ends when the client goes away or
// the handler returns. Calls to a store made with it (or a context derived
// from it) are made on behalf of this request, as the Workers runtime
// requires of a request's I/O.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// Header returns the value of the named header (case-insensitive), or ""
// if the request has none. Headers are read from the runtime on demand, so
// a handler pays only for those it reads.
func (r *Request) Header(name string) string {
	v, _ := r.LookupHeader(name)
	return v
}

// LookupHeader returns the value of the named header (case-insensitive) and
// whether the request has it. A header sent more than once has its values
// joined with ", ".
func (r *Request) LookupHeader(name string) (string, bool) {
	if r.headers == nil {
		return "", false
	}
	return r.headers.lookup(strings.ToLower(name))
}

// Headers yields every header of the request, lower-case name and value.
func (r *Request) Headers() iter.Seq2[string, string] {
	if r.headers == nil {
		return func(func(string, string) bool) {}
	}
	return r.headers.all()
}

// Query returns the first value of the query parameter name, decoded as a
// form value ('+' is a space), or "" if there is none or it is malformed.
func (r *Request) Query(name string) string {
	for part := range strings.SplitSeq(r.RawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		if k, ok := unescape(k, true); ok && k == name {
			v, ok := unescape(v, true)
			if ok {
				return v
			}
			return ""
		}
	}
	return ""
}

// unescape percent-decodes s, and turns '+' into ' ' when form is set. It
// reports false for a malformed escape.
func unescape(s string, form bool) (string, bool) {
	if !strings.ContainsAny(s, "%+") || (!form && !strings.Contains(s, "%")) {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+' && form:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}
