package worker

import (
	"iter"
	"strings"
)

// ResponseWriter collects a handler's response; the Worker sends it when
// the handler returns. Its zero value is ready to use, so a test can serve
// a request into a ResponseWriter of its own and read Status, Header and
// Body.
type ResponseWriter struct {
	status int
	header []string // name, value, name, value, ...
	body   []byte
	// forwarded: ForwardToObject handed the request to an object, whose
	// response answers it.
	forwarded bool
}

// SetHeader sets the response header name to value, replacing any value it
// had. Names are case-insensitive. Newlines in a value become spaces.
func (w *ResponseWriter) SetHeader(name, value string) {
	w.DelHeader(name)
	w.AddHeader(name, value)
}

// AddHeader adds value to the response header name.
func (w *ResponseWriter) AddHeader(name, value string) {
	if strings.ContainsAny(value, "\r\n") {
		value = strings.NewReplacer("\r", " ", "\n", " ").Replace(value)
	}
	w.header = append(w.header, name, value)
}

// DelHeader removes every value of the response header name.
func (w *ResponseWriter) DelHeader(name string) {
	kept := w.header[:0]
	for i := 0; i < len(w.header); i += 2 {
		if !strings.EqualFold(w.header[i], name) {
			kept = append(kept, w.header[i], w.header[i+1])
		}
	}
	w.header = kept
}

// Header returns the first value of the response header name, or "".
func (w *ResponseWriter) Header(name string) string {
	for i := 0; i < len(w.header); i += 2 {
		if strings.EqualFold(w.header[i], name) {
			return w.header[i+1]
		}
	}
	return ""
}

// Headers yields the response's headers in the order they were added.
func (w *ResponseWriter) Headers() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for i := 0; i < len(w.header); i += 2 {
			if !yield(w.header[i], w.header[i+1]) {
				return
			}
		}
	}
}

// WriteHeader sets the response status (100 to 599). Only the first call
// counts; a response whose handler sets none is 200 OK.
func (w *ResponseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// Write appends p to the response body; it sets the status to 200 if no
// status was set. It never fails.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(200)
	w.body = append(w.body, p...)
	return len(p), nil
}

// WriteString appends s to the response body, as Write does.
func (w *ResponseWriter) WriteString(s string) (int, error) {
	w.WriteHeader(200)
	w.body = append(w.body, s...)
	return len(s), nil
}

// Status returns the response status: the one set, or 200.
func (w *ResponseWriter) Status() int {
	if w.status == 0 {
		return 200
	}
	return w.status
}

// Body returns the response body written so far.
func (w *ResponseWriter) Body() []byte { return w.body }

// Reset discards the status, headers and body written so far, so that a
// handler that failed midway can answer with an error instead.
func (w *ResponseWriter) Reset() {
	w.status = 0
	w.header = w.header[:0]
	w.body = w.body[:0]
}

// reset empties w for another response, keeping its buffers.
func (w *ResponseWriter) reset() {
	w.status = 0
	w.forwarded = false
	w.header = w.header[:0]
	w.body = w.body[:0]
}
