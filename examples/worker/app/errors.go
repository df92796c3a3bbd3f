package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"

	"github.com/dokv/dokv"
	"github.com/dokv/dokv/worker"
)

// internalMessage is all a client learns of an unexpected failure.
const internalMessage = "internal error"

// requestError is a failure of the application's own checks. It wraps the
// dokv sentinel whose status it should get, so that statusOf maps every
// error in one place, and its message is shown to the client as it is.
type requestError struct {
	msg string
	err error
}

func (e *requestError) Error() string { return e.msg }
func (e *requestError) Unwrap() error { return e.err }

// badRequest reports invalid input: 400.
func badRequest(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...), err: dokv.ErrInvalidArgument}
}

// notFound reports a missing job or task: 404.
func notFound(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...), err: dokv.ErrNotFound}
}

// conflict reports a change the current state forbids: 409.
func conflict(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...), err: dokv.ErrConflict}
}

// tooLarge reports a request body over the limit: 413.
func tooLarge(format string, args ...any) error {
	return &requestError{msg: fmt.Sprintf(format, args...), err: dokv.ErrValueTooLarge}
}

// statusOf maps an error to its HTTP status. This is the one place where
// errors become statuses.
func statusOf(err error) int {
	var maxBytes *http.MaxBytesError
	switch {
	case errors.Is(err, dokv.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, dokv.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, dokv.ErrInvalidKey), errors.Is(err, dokv.ErrInvalidArgument):
		return http.StatusBadRequest
	case errors.Is(err, dokv.ErrValueTooLarge), errors.As(err, &maxBytes):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, dokv.ErrUnsupported):
		return http.StatusNotImplemented
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, dokv.ErrOverloaded), errors.Is(err, dokv.ErrUnavailable):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// jsonResponse is a JSON response body and its status, written by either
// handler form: net/http's (writeJSON) or dokv's lean one (writeFetchBody).
type jsonResponse struct {
	status int
	data   []byte
}

// errorBody is err as a JSON error with its status. Client errors carry
// the error's text (a dokv error's or the application's own); a 503 says
// only that the request ended, and a 500 is logged and reported with a
// generic message.
func errorBody(method, path string, err error) jsonResponse {
	status := statusOf(err)
	msg := err.Error()
	switch status {
	case http.StatusServiceUnavailable:
		msg = "temporarily unavailable: the request was canceled or the object is overloaded; retry later"
	case http.StatusInternalServerError:
		log.Printf("app: %s %s: %v", method, path, err)
		msg = internalMessage
	}
	return errorStatusBody(status, msg)
}

// errorStatusBody is {"error": msg} with the given status.
func errorStatusBody(status int, msg string) jsonResponse {
	return jsonBody(status, struct {
		Error string `json:"error"`
	}{msg})
}

// jsonBody is v as JSON with the given status.
func jsonBody(status int, v any) jsonResponse {
	data, err := json.Marshal(v)
	if err != nil {
		log.Printf("app: encoding a response: %v", err)
		status = http.StatusInternalServerError
		data = []byte(`{"error":"` + internalMessage + `"}`)
	}
	return jsonResponse{status: status, data: append(data, '\n')}
}

// writeError writes err as a JSON error with its status (see errorBody).
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	writeHTTPBody(w, errorBody(r.Method, r.URL.Path, err))
}

// writeErrorStatus writes {"error": msg} with the given status.
func writeErrorStatus(w http.ResponseWriter, status int, msg string) {
	writeHTTPBody(w, errorStatusBody(status, msg))
}

// writeJSON writes v as JSON with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeHTTPBody(w, jsonBody(status, v))
}

func writeHTTPBody(w http.ResponseWriter, b jsonResponse) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(b.status)
	_, _ = w.Write(b.data)
}

// writeFetchError is writeError for dokv's lean handler form.
func writeFetchError(w *worker.ResponseWriter, r *worker.Request, err error) {
	writeFetchBody(w, errorBody(r.Method, r.Path, err))
}

func writeFetchBody(w *worker.ResponseWriter, b jsonResponse) {
	w.SetHeader("Content-Type", "application/json")
	w.SetHeader("X-Content-Type-Options", "nosniff")
	w.WriteHeader(b.status)
	_, _ = w.Write(b.data)
}

// decodeJSON decodes the request body, at most dokv.MaxEntryBytes long, into
// v: exactly one JSON value with no unknown fields.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, dokv.MaxEntryBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			return tooLarge("request body exceeds %d bytes", dokv.MaxEntryBytes)
		}
		return badRequest("invalid JSON body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("invalid JSON body: data after the JSON value")
	}
	return nil
}
